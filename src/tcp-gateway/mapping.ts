// Register items <-> ledger lines, shared by the ISO 8583 and fixed-v1 translators: both dialects
// carry the same item fields, and a register must get the same ledger command from either.
import type { AuthorizeResult, CompleteResult, LineDecision as LedgerLineDecision, ReturnLine, SaleLine, SaleResult } from '../ledger/index.js';
import type { Disposition, LineDecision, LineDecisionCode } from './codec/index.js';
import { lineReasonFor } from './response-codes.js';

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

/**
 * The ledger idempotency id of a register request: `iso:<store>:<terminal>:<STAN, 6 digits>:<transmission time>`.
 * A terminal id is unique only within its store (field 41 within 42), so the store is part of it.
 */
export function registerIdempotencyId(storeId: string, terminalId: string, stan6: string, transmissionTime: string): string {
  return `iso:${storeId}:${terminalId}:${stan6}:${transmissionTime}`;
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

function lineDecisionCode(decision: LedgerLineDecision): LineDecisionCode {
  return decision === 'APPROVED' ? 'A' : decision === 'DECLINED' ? 'D' : 'P';
}

/** A sale reply's line decisions: an approved line is approved for what the register asked. */
export function saleLineDecisions(result: SaleResult, items: readonly RegisterItem[]): LineDecision[] {
  const requested = new Map(items.map((item) => [item.lineNo, item.quantity]));
  return result.lines.map((line) => ({
    lineNo: line.lineNo, decision: lineDecisionCode(line.decision), reason: lineReasonFor(line.reason),
    approvedQuantity: line.decision === 'APPROVED' ? requested.get(line.lineNo) ?? 0 : 0,
  }));
}

/** A return authorization reply's line decisions. */
export function returnLineDecisions(result: AuthorizeResult): LineDecision[] {
  return result.lines.map((line) => ({ lineNo: line.lineNo, decision: lineDecisionCode(line.decision), reason: lineReasonFor(line.reason), approvedQuantity: line.approvedQuantity }));
}

/** A completion reply's line decisions: every completed line is approved for the quantity it completed. */
export function completeLineDecisions(result: CompleteResult): LineDecision[] {
  return result.lines.map((line) => ({ lineNo: line.lineNo, decision: 'A', reason: '00', approvedQuantity: line.quantity }));
}
