// Register items <-> ledger lines, shared by the ISO 8583 and fixed-v1 translators: both dialects
// carry the same item fields, and a register must get the same ledger command from either.
import type { LineDecision, ReturnLine, SaleLine } from '../ledger/index.js';
import type { Disposition, LineDecisionCode } from './codec/index.js';

/** What both dialects' items hold. */
interface RegisterItem {
  readonly lineNo: number;
  readonly sku: string;
  readonly quantity: number;
  /** Minor units of the transaction currency. */
  readonly unitPrice: number;
  readonly originalLineNo: number;
}

const buckets = { S: 'SELLABLE', D: 'DAMAGED', Q: 'QUARANTINE' } as const;

/** The ledger idempotency id of a register request: `iso:<terminal>:<STAN, 6 digits>:<transmission time>`. */
export function registerIdempotencyId(terminalId: string, stan6: string, transmissionTime: string): string {
  return `iso:${terminalId}:${stan6}:${transmissionTime}`;
}

export function saleLineOf(item: RegisterItem): SaleLine {
  return { lineNo: item.lineNo, sku: item.sku, quantity: item.quantity, unitPriceMinor: item.unitPrice };
}

export function returnLineOf(item: RegisterItem, disposition: Disposition, receipted: boolean): ReturnLine {
  const line: ReturnLine = { lineNo: item.lineNo, sku: item.sku, quantity: item.quantity, disposition: buckets[disposition] };
  if (item.originalLineNo > 0) line.receiptLineNo = item.originalLineNo;
  // On a receipted line, unit price 0 means "the price paid"; a non-receipted line names its refund.
  if (item.unitPrice > 0 || !receipted) line.unitRefundMinor = item.unitPrice;
  return line;
}

export function lineDecisionCode(decision: LineDecision): LineDecisionCode {
  return decision === 'APPROVED' ? 'A' : decision === 'DECLINED' ? 'D' : 'P';
}

/** A sale line's approved quantity is what the register asked for: lineNo -> requested quantity. */
export function requestedQuantities(items: readonly RegisterItem[]): ReadonlyMap<number, number> {
  return new Map(items.map((item) => [item.lineNo, item.quantity]));
}
