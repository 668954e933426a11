/**
 * The one place where error codes become gRPC statuses. Every error carries its stable reason in
 * trailing metadata (`tillgate-reason`) and, when a field is at fault, its path (`tillgate-field`).
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { LedgerErrorInfo } from '../ledger/index.js';

const statusByCode: Record<string, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  STRING_TOO_LONG: status.INVALID_ARGUMENT,
  QUANTITY_INVALID: status.INVALID_ARGUMENT,
  AMOUNT_INVALID: status.INVALID_ARGUMENT,
  TOO_MANY_LINES: status.INVALID_ARGUMENT,
  DUPLICATE_LINE_NUMBER: status.INVALID_ARGUMENT,
  CURRENCY_UNKNOWN: status.INVALID_ARGUMENT,
  CURRENCY_MISMATCH: status.INVALID_ARGUMENT,
  TENDER_TOTAL_MISMATCH: status.INVALID_ARGUMENT,
  UNKNOWN_COMMAND: status.INVALID_ARGUMENT,
  COMPLETE_LINE_INVALID: status.INVALID_ARGUMENT,
  BATCH_TOO_LARGE: status.INVALID_ARGUMENT,
  STORE_NOT_FOUND: status.NOT_FOUND,
  SKU_NOT_FOUND: status.NOT_FOUND,
  RETURN_NOT_FOUND: status.NOT_FOUND,
  RECEIPT_NOT_FOUND: status.NOT_FOUND,
  RECEIPT_EXISTS: status.ALREADY_EXISTS,
  RETURN_EXISTS: status.ALREADY_EXISTS,
  IDEMPOTENCY_CONFLICT: status.ALREADY_EXISTS,
  RETURN_NOT_HELD: status.FAILED_PRECONDITION,
  STOCK_WOULD_GO_NEGATIVE: status.FAILED_PRECONDITION,
  STOCK_RESERVED: status.FAILED_PRECONDITION,
  OVERLOADED: status.RESOURCE_EXHAUSTED,
  SHARD_UNAVAILABLE: status.UNAVAILABLE,
  SHUTTING_DOWN: status.UNAVAILABLE,
  LEDGER_CLOSED: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  INTERNAL: status.INTERNAL,
};

export function grpcStatusOf(code: string): status {
  return statusByCode[code] ?? status.INTERNAL;
}

/**
 * Bounds on what an error sends back. Status details and metadata travel in HTTP/2 trailers, and a
 * trailer block past the peer's header-list limit (16 KiB to 64 KiB) fails the whole connection,
 * every call on it included, not just this one.
 */
export const errorDetailsCharsMax = 512;
export const errorFieldCharsMax = 128;

function clipped(text: string, charsMax: number): string {
  if (text.length <= charsMax) return text;
  let end = charsMax - 1;
  // Never keep half of a surrogate pair: grpc-js percent-encodes details and throws on a lone one.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

export function toServiceError(error: LedgerErrorInfo): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set('tillgate-reason', error.code);
  // A metadata value is printable ASCII; a field path names the caller's keys, which need not be.
  if (error.field !== undefined) metadata.set('tillgate-field', clipped(error.field.replace(/[^\x20-\x7e]/g, '?'), errorFieldCharsMax));
  const code = grpcStatusOf(error.code);
  // Internal details stay in the server's log; the caller gets the stable reason only.
  const details = code === status.INTERNAL ? 'internal error; the request may be retried with the same idempotency id' : clipped(error.message, errorDetailsCharsMax);
  return { code, details, metadata };
}

/** A request problem found by a translator, before any command exists. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }

  toInfo(): LedgerErrorInfo {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
  }
}

/** What a failed call answers with: a request problem's info, a refused outcome's, else INTERNAL. */
export function errorInfoOf(error: unknown): LedgerErrorInfo {
  return error instanceof RequestError ? error.toInfo() : error instanceof OutcomeError ? error.info : { code: 'INTERNAL', message: String(error) };
}

/** A refused outcome from the pool or ledger, carried to the call's error path. */
export class OutcomeError extends Error {
  constructor(readonly info: LedgerErrorInfo) {
    super(info.message);
    this.name = 'OutcomeError';
  }
}
