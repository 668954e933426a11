// The one table from ledger outcomes (decision, decline reasons, error codes) and gateway refusals
// to ISO 8583 field 39 response codes. fixed-v1 replies use the same codes in their R record, and
// the per-line reasons in field 48 (LR1) and fixed-v1 D records come from the same table.
import { firstDeclineReason } from '../ledger/types.js';
import type { DeclineReason, Decision } from '../ledger/index.js';

/** Field 39 values tillgate sends, with their ISO 8583:1987 meaning as registers display it. */
export const responseCodes = {
  '00': 'approved',
  '03': 'invalid merchant (store unknown)',
  '10': 'approved for partial amount / quantity',
  '12': 'invalid transaction',
  '13': 'invalid amount',
  '25': 'unable to locate record (original not found)',
  '30': 'format error',
  '51': 'not sufficient stock',
  '57': 'transaction not permitted',
  '58': 'transaction not permitted to terminal (not signed on)',
  '61': 'exceeds amount / quantity limit',
  '64': 'original amount incorrect',
  '65': 'exceeds frequency limit',
  '91': 'issuer or switch inoperative (retry later)',
  '94': 'duplicate transmission',
  '96': 'system malfunction',
} as const;
export type ResponseCode = keyof typeof responseCodes;

const byDecision: Readonly<Record<Decision, ResponseCode>> = {
  APPROVED: '00',
  PARTIALLY_APPROVED: '10',
  DECLINED: '57',
};

const byDeclineReason: Readonly<Record<DeclineReason, ResponseCode>> = {
  RECEIPT_NOT_FOUND: '25',
  RECEIPT_LINE_NOT_FOUND: '25',
  SKU_MISMATCH: '25',
  NOT_RETURNABLE: '57',
  OUTSIDE_RETURN_WINDOW: '57',
  QUANTITY_EXCEEDS_RETURNABLE: '61',
  AMOUNT_EXCEEDS_PAID: '13',
  VELOCITY_LIMIT: '65',
  NON_RECEIPTED_NOT_ALLOWED: '57',
  NON_RECEIPTED_LIMIT: '61',
  INSUFFICIENT_STOCK: '51',
  REPLACEMENT_DECLINED: '57',
  RETURN_DECLINED: '57',
};

/** Ledger error codes (src/ledger/errors.ts), pool refusals and gateway refusals. */
const byErrorCode: Readonly<Record<string, ResponseCode>> = {
  INVALID_ARGUMENT: '30',
  STRING_TOO_LONG: '30',
  QUANTITY_INVALID: '13',
  AMOUNT_INVALID: '13',
  TOO_MANY_LINES: '30',
  DUPLICATE_LINE_NUMBER: '30',
  CURRENCY_UNKNOWN: '30',
  CURRENCY_MISMATCH: '13',
  TENDER_TOTAL_MISMATCH: '13',
  UNKNOWN_COMMAND: '12',
  STORE_NOT_FOUND: '03',
  SKU_NOT_FOUND: '25',
  RECEIPT_EXISTS: '94',
  RETURN_EXISTS: '94',
  RETURN_NOT_FOUND: '25',
  RETURN_NOT_HELD: '12',
  COMPLETE_LINE_INVALID: '64',
  STOCK_WOULD_GO_NEGATIVE: '51',
  STOCK_RESERVED: '51',
  IDEMPOTENCY_CONFLICT: '94',
  BATCH_TOO_LARGE: '96',
  LEDGER_CLOSED: '91',
  INTERNAL: '96',
  OVERLOADED: '91',
  SHARD_UNAVAILABLE: '91',
  SHUTTING_DOWN: '91',
  FORMAT: '30',
  NOT_SIGNED_ON: '58',
  UNSUPPORTED: '12',
};

export function codeForDecision(result: { decision: Decision; lines: readonly { reason?: DeclineReason | undefined }[] }): ResponseCode {
  if (result.decision !== 'DECLINED') return byDecision[result.decision];
  const first = firstDeclineReason(result.lines);
  return first === undefined ? byDecision.DECLINED : byDeclineReason[first];
}

export function codeForDeclineReason(reason: DeclineReason | undefined): ResponseCode {
  return reason === undefined ? '00' : byDeclineReason[reason];
}

/** Unknown codes (a newer ledger) answer 96 rather than guess. */
export function codeForError(code: string): ResponseCode {
  return Object.hasOwn(byErrorCode, code) ? byErrorCode[code]! : '96';
}

/** Per-line reason in LR1 / D records: the line codes of docs section 2.2 (00, 13, 25, 57, 61, 64, 51, 65). */
export function lineReasonFor(reason: DeclineReason | undefined): string {
  return codeForDeclineReason(reason);
}
