/**
 * Operating errors of the ledger: created here, with stable codes. They are values, not crashes;
 * a command that fails with one writes nothing. gRPC and ISO mappings live in their own modules.
 */
export const ledgerErrorCodes = [
  'INVALID_ARGUMENT',
  'STRING_TOO_LONG',
  'QUANTITY_INVALID',
  'AMOUNT_INVALID',
  'TOO_MANY_LINES',
  'DUPLICATE_LINE_NUMBER',
  'CURRENCY_UNKNOWN',
  'CURRENCY_MISMATCH',
  'TENDER_TOTAL_MISMATCH',
  'UNKNOWN_COMMAND',
  'STORE_NOT_FOUND',
  'SKU_NOT_FOUND',
  'RECEIPT_EXISTS',
  'RETURN_EXISTS',
  'RETURN_NOT_FOUND',
  'RETURN_NOT_HELD',
  'COMPLETE_LINE_INVALID',
  'STOCK_WOULD_GO_NEGATIVE',
  'STOCK_RESERVED',
  'IDEMPOTENCY_CONFLICT',
  'BATCH_TOO_LARGE',
  'LEDGER_CLOSED',
  'INTERNAL',
] as const;
export type LedgerErrorCode = (typeof ledgerErrorCodes)[number];

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  readonly field: string | undefined;

  constructor(code: LedgerErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
    this.field = field;
  }

  toInfo(): { code: LedgerErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** A broken invariant: a programmer error, never an operating one. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'InvariantError';
  }
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) broken(message);
}

/**
 * Throws an InvariantError. For checks on the write path whose message names values: written as
 * `if (...) broken(`...`)`, the message is built only when the check fails, where invariant()'s
 * argument would be built on every write (sampled: a few percent of a batch's allocations).
 */
export function broken(message: string): never {
  throw new InvariantError(message);
}

export const fail = (code: LedgerErrorCode, message: string, field?: string): never => {
  throw new LedgerError(code, message, field);
};
