/** Sales (stock moves out, receipt recorded) and imported receipts (receipt only). */
import { broken, fail } from '../errors.js';
import type { Delta } from '../journal.js';
import { applyDeltas, effectivePolicy, readPosition, readReceipt, receiptIdTaken, requireSku, requireStore, putReceipt } from '../state.js';
import { linesTotalMinor } from '../validate.js';
import type { Channel, ImportReceipt, Policy, Receipt, RecordSale, SaleLine, SaleLineDecision, Store, Tender } from '../types.js';
import type { Overlay } from '../storage.js';
import type { RuleContext, RuleOutput } from './context.js';

interface ReceiptSpec {
  storeId: string;
  receiptId: string;
  channel: Channel;
  currency: string;
  soldAtMs: number;
  origin: Receipt['origin'];
  lines: readonly SaleLine[];
  tenders: readonly Tender[];
  customerToken?: string | undefined;
}

/** Writes a new receipt and returns the journal delta that records its creation. */
export function createReceipt(tx: Overlay, spec: ReceiptSpec): Delta {
  if (readReceipt(tx, spec.storeId, spec.receiptId) !== undefined) broken(`receipt ${spec.storeId}/${spec.receiptId} created twice`);
  const receipt: Receipt = {
    storeId: spec.storeId,
    receiptId: spec.receiptId,
    channel: spec.channel,
    currency: spec.currency,
    soldAtMs: spec.soldAtMs,
    origin: spec.origin,
    lines: spec.lines.map((line) => ({
      lineNo: line.lineNo,
      sku: line.sku,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      returnedQuantity: 0,
      heldQuantity: 0,
    })),
    tenders: spec.tenders.map((tender) => ({ ...tender, refundedMinor: 0, heldRefundMinor: 0 })),
  };
  if (spec.customerToken !== undefined) receipt.customerToken = spec.customerToken;
  putReceipt(tx, receipt);
  return {
    kind: 'receipt',
    storeId: spec.storeId,
    receiptId: spec.receiptId,
    lines: receipt.lines.map((line) => ({ lineNo: line.lineNo, quantity: line.quantity })),
    tendersMinor: receipt.tenders.map((tender) => tender.amountMinor),
  };
}

/** Refuses a receipt for an unknown store or SKU, another currency, or an id already used. */
export function checkReceiptTarget(tx: Overlay, storeId: string, receiptId: string, currency: string, lines: readonly SaleLine[], linesField: string): Store {
  const store = requireStore(tx, storeId);
  if (currency !== store.currency) fail('CURRENCY_MISMATCH', `store ${storeId} trades in ${store.currency}, not ${currency}`, 'currency');
  lines.forEach((line, index) => requireSku(tx, line.sku, `${linesField}[${index}].sku`));
  if (receiptIdTaken(tx, storeId, receiptId)) fail('RECEIPT_EXISTS', `receipt ${receiptId} already exists (or is reserved by a held exchange) in store ${storeId}`, 'receiptId');
  return store;
}

/**
 * Decides whether the lines can be taken from sellable stock. `reservedOwn` is stock already
 * reserved for these very lines (an exchange's replacement), which they may use.
 */
export function decideStock(tx: Overlay, storeId: string, lines: readonly SaleLine[], policy: Policy, reservedOwn = new Map<string, number>()): SaleLineDecision[] {
  const needBySku = new Map<string, number>();
  for (const line of lines) needBySku.set(line.sku, (needBySku.get(line.sku) ?? 0) + line.quantity);
  const short = new Map<string, number>();
  if (!policy.backorderAllowed) {
    for (const [sku, need] of needBySku) {
      const position = readPosition(tx, storeId, sku);
      const available = position.sellable - position.reserved + (reservedOwn.get(sku) ?? 0);
      if (available < need) short.set(sku, Math.max(0, available));
    }
  }
  return lines.map((line) => {
    const available = short.get(line.sku);
    if (available !== undefined) return { lineNo: line.lineNo, decision: 'DECLINED', reason: 'INSUFFICIENT_STOCK', availableQuantity: available };
    return { lineNo: line.lineNo, decision: short.size === 0 ? 'APPROVED' : 'DECLINED' };
  });
}

export function recordSale(ctx: RuleContext, command: RecordSale): RuleOutput {
  const store = checkReceiptTarget(ctx.tx, command.storeId, command.receiptId, command.currency, command.lines, 'lines');
  const policy = effectivePolicy(store, ctx.defaultPolicy);
  const totalMinor = linesTotalMinor(command.lines, 'lines');
  const lines = decideStock(ctx.tx, command.storeId, command.lines, policy);
  const approved = lines.every((line) => line.decision === 'APPROVED');
  const ref = { receiptId: command.receiptId };
  if (!approved) {
    return { result: { type: 'Sale', receiptId: command.receiptId, decision: 'DECLINED', lines, totalMinor }, storeId: command.storeId, deltas: [], ref, decision: 'DECLINED' };
  }
  const deltas: Delta[] = [createReceipt(ctx.tx, { ...command, soldAtMs: ctx.nowMs, origin: 'SALE' })];
  for (const line of command.lines) {
    deltas.push({ kind: 'position', storeId: command.storeId, sku: line.sku, field: 'SELLABLE', delta: -line.quantity });
  }
  applyDeltas(ctx.tx, deltas, policy);
  return { result: { type: 'Sale', receiptId: command.receiptId, decision: 'APPROVED', lines, totalMinor }, storeId: command.storeId, deltas, ref, decision: 'APPROVED' };
}

/** Receipts sold elsewhere (online, another system) become returnable here; stock is untouched. */
export function importReceipt(ctx: RuleContext, command: ImportReceipt): RuleOutput {
  checkReceiptTarget(ctx.tx, command.storeId, command.receiptId, command.currency, command.lines, 'lines');
  // A clock skew of a few minutes is normal; a receipt from the future is not.
  const skewMsMax = 5 * 60 * 1000;
  if (command.soldAtMs > ctx.nowMs + skewMsMax) fail('INVALID_ARGUMENT', `soldAtMs ${command.soldAtMs} is in the future`, 'soldAtMs');
  const totalMinor = linesTotalMinor(command.lines, 'lines');
  const deltas: Delta[] = [createReceipt(ctx.tx, { ...command, origin: 'IMPORT' })];
  return { result: { type: 'ReceiptImported', receiptId: command.receiptId, totalMinor }, storeId: command.storeId, deltas, ref: { receiptId: command.receiptId } };
}
