/**
 * gRPC messages ⇄ ledger commands and results. Pure functions; no business rule lives here.
 */
import * as pb from './proto.js';
import { defined, fromProto, toProto } from './enums.js';
import { RequestError } from './errors.js';
import type * as L from '../ledger/index.js';
import { buckets, channels, tenderTypes, tooManyListed } from '../ledger/index.js';

const bucket = (value: number, field: string): L.Bucket => fromProto(pb.Bucket, 'BUCKET_', buckets, value, field);
const channel = (value: number, field: string): L.Channel => fromProto(pb.Channel, 'CHANNEL_', channels, value, field);
const tenderType = (value: number, field: string): L.TenderType => fromProto(pb.TenderType, 'TENDER_TYPE_', tenderTypes, value, field);

/**
 * A list longer than the ledger takes is refused here, before anything maps it, with the ledger's
 * own refusal (tooManyListed: the same code, message and field): the ledger would refuse it too, but
 * only after the main thread had mapped, encoded and sent every element to a writer (a 1 MiB
 * request holds some 100,000 lines). Like the enum checks here, it runs before the ledger's checks
 * of the request's other fields.
 */
function bounded<T>(list: readonly T[], field: string, listed: 'lines' | 'tenders'): readonly T[] {
  const tooMany = tooManyListed(field, list.length, listed);
  if (tooMany !== undefined) throw new RequestError('TOO_MANY_LINES', tooMany, field);
  return list;
}

const saleLines = (lines: pb.SaleLine[], field: string): L.SaleLine[] =>
  bounded(lines, field, 'lines').map((line) => ({ lineNo: line.lineNo, sku: line.sku, quantity: line.quantity, unitPriceMinor: line.unitPriceMinor }));

const tenders = (list: pb.Tender[]): L.Tender[] =>
  bounded(list, 'tenders', 'tenders').map((tender, index) => defined({
    tenderType: tenderType(tender.tenderType, `tenders[${index}].tenderType`), amountMinor: tender.amountMinor, cardMasked: tender.cardMasked,
  }));

const returnLines = (lines: pb.ReturnLine[]): L.ReturnLine[] =>
  bounded(lines, 'lines', 'lines').map((line, index) => defined({
    lineNo: line.lineNo, receiptLineNo: line.receiptLineNo, sku: line.sku, quantity: line.quantity,
    unitRefundMinor: line.unitRefundMinor, disposition: bucket(line.disposition, `lines[${index}].disposition`),
  }));

const replacement = (value: pb.Replacement | undefined): L.Replacement | undefined =>
  value === undefined ? undefined : { receiptId: value.receiptId, lines: saleLines(value.lines, 'replacement.lines') };

const override = (value: pb.Override | undefined): L.Override | undefined =>
  value === undefined ? undefined : { operatorId: value.operatorId, reasonCode: value.reasonCode };

export const toCommand = {
  authorizeReturn: (r: pb.AuthorizeReturnRequest): L.AuthorizeReturn => defined({
    type: 'AuthorizeReturn' as const, storeId: r.storeId, returnId: r.returnId, receiptId: r.receiptId, customerToken: r.customerToken,
    lines: returnLines(r.lines), override: override(r.override), replacement: replacement(r.replacement),
  }),
  exchange: (r: pb.ExchangeRequest): L.Exchange => defined({
    type: 'Exchange' as const, storeId: r.storeId, returnId: r.returnId, receiptId: r.receiptId, customerToken: r.customerToken,
    // No replacement stays absent, so the ledger names what is missing ("replacement is required").
    lines: returnLines(r.lines), override: override(r.override), replacement: replacement(r.replacement),
  }),
  completeReturn: (r: pb.CompleteReturnRequest): L.CompleteReturn => defined({
    type: 'CompleteReturn' as const, storeId: r.storeId, returnId: r.returnId,
    lines: r.lines.length === 0 ? undefined : bounded(r.lines, 'lines', 'lines').map((line) => ({ lineNo: line.lineNo, quantity: line.quantity })),
  }),
  voidReturn: (r: pb.VoidReturnRequest): L.VoidReturn => ({ type: 'VoidReturn', storeId: r.storeId, returnId: r.returnId, reason: r.reason }),
  recordSale: (r: pb.RecordSaleRequest): L.RecordSale => defined({
    type: 'RecordSale' as const, storeId: r.storeId, receiptId: r.receiptId, channel: channel(r.channel, 'channel'), currency: r.currency,
    lines: saleLines(r.lines, 'lines'), tenders: tenders(r.tenders), customerToken: r.customerToken,
  }),
  importReceipt: (r: pb.ImportReceiptRequest): L.ImportReceipt => defined({
    type: 'ImportReceipt' as const, storeId: r.storeId, receiptId: r.receiptId, channel: channel(r.channel, 'channel'), currency: r.currency,
    soldAtMs: r.soldAtMs, lines: saleLines(r.lines, 'lines'), tenders: tenders(r.tenders), customerToken: r.customerToken,
  }),
  upsertStore: (r: pb.UpsertStoreRequest): L.UpsertStore => defined({
    type: 'UpsertStore' as const, storeId: r.storeId, name: r.name, currency: r.currency,
    policy: r.policy === undefined ? undefined : (defined({ ...r.policy }) as Partial<L.Policy>),
  }),
  upsertSku: (r: pb.UpsertSkuRequest): L.UpsertSku => ({ type: 'UpsertSku', sku: r.sku, description: r.description, returnable: r.returnable, returnWindowDays: r.returnWindowDays }),
  receiveStock: (r: pb.ReceiveStockRequest): L.ReceiveStock => ({ type: 'ReceiveStock', storeId: r.storeId, sku: r.sku, bucket: bucket(r.bucket, 'bucket'), quantity: r.quantity, reference: r.reference }),
  adjustStock: (r: pb.AdjustStockRequest): L.AdjustStock => ({ type: 'AdjustStock', storeId: r.storeId, sku: r.sku, bucket: bucket(r.bucket, 'bucket'), delta: r.delta, reason: r.reason }),
  countStock: (r: pb.CountStockRequest): L.CountStock => ({ type: 'CountStock', storeId: r.storeId, sku: r.sku, bucket: bucket(r.bucket, 'bucket'), countedQuantity: r.countedQuantity }),
  transferStock: (r: pb.TransferStockRequest): L.TransferStock => ({
    type: 'TransferStock', storeId: r.storeId, sku: r.sku, fromBucket: bucket(r.fromBucket, 'fromBucket'), toBucket: bucket(r.toBucket, 'toBucket'), quantity: r.quantity,
  }),
};

const decision = (value: string): number => toProto(pb.Decision, 'DECISION_', value);
const lineDecision = (value: string): number => toProto(pb.LineDecision, 'LINE_DECISION_', value);
const reason = (value: string | undefined): number => toProto(pb.DeclineReason, 'DECLINE_REASON_', value);
const tenderOut = (value: string): number => toProto(pb.TenderType, 'TENDER_TYPE_', value);
const bucketOut = (value: string): number => toProto(pb.Bucket, 'BUCKET_', value);

const refundsOut = (refunds: readonly L.RefundAllocation[]): pb.RefundAllocation[] =>
  refunds.map((refund) => ({ tenderType: tenderOut(refund.tenderType), tenderIndex: refund.tenderIndex, amountMinor: refund.amountMinor }));

const saleDecisionsOut = (lines: readonly L.SaleLineDecision[]): pb.SaleLineDecision[] =>
  lines.map((line) => ({ lineNo: line.lineNo, decision: lineDecision(line.decision), reason: reason(line.reason), availableQuantity: line.availableQuantity }));

const returnDecisionsOut = (lines: readonly L.ReturnLineDecision[]): pb.ReturnLineDecision[] =>
  lines.map((line) => ({
    lineNo: line.lineNo, decision: lineDecision(line.decision), requestedQuantity: line.requestedQuantity,
    approvedQuantity: line.approvedQuantity, refundMinor: line.refundMinor, reason: reason(line.reason),
  }));

export const fromResult = {
  authorization: (r: L.AuthorizeResult): pb.ReturnAuthorization => ({
    returnId: r.returnId, decision: decision(r.decision), lines: returnDecisionsOut(r.lines), refundMinor: r.refundMinor,
    refunds: refundsOut(r.refunds), replacementLines: saleDecisionsOut(r.replacementLines ?? []), replacementTotalMinor: r.replacementTotalMinor,
    differenceMinor: r.differenceMinor, expiresAtMs: r.expiresAtMs, overrideApplied: r.overrideApplied,
  }),
  completion: (r: L.CompleteResult): pb.ReturnCompletion => ({
    returnId: r.returnId, receiptId: r.receiptId, lines: r.lines.map((line) => ({ ...line })), refundMinor: r.refundMinor,
    refunds: refundsOut(r.refunds), event: r.event === 'return.full' ? pb.ReturnEvent.RETURN_EVENT_RETURN_FULL : pb.ReturnEvent.RETURN_EVENT_RETURN_PARTIAL,
    replacementReceiptId: r.replacementReceiptId, replacementTotalMinor: r.replacementTotalMinor, differenceMinor: r.differenceMinor,
  }),
  saleDecisions: saleDecisionsOut,
  position: (p: L.Position): pb.Position => ({ ...p }),
  policy: (p: L.Policy): pb.Policy => ({ ...p }),
  store: (s: L.Store): pb.Store => ({ storeId: s.storeId, name: s.name, currency: s.currency, policy: { ...s.policy } }),
  sku: (s: L.Sku): pb.Sku => ({ ...s }),
  receipt: (r: L.Receipt): pb.Receipt => ({
    storeId: r.storeId, receiptId: r.receiptId, channel: toProto(pb.Channel, 'CHANNEL_', r.channel), currency: r.currency, soldAtMs: r.soldAtMs,
    origin: toProto(pb.ReceiptOrigin, 'RECEIPT_ORIGIN_', r.origin), customerToken: r.customerToken,
    lines: r.lines.map((line) => ({ ...line, returnableQuantity: line.quantity - line.returnedQuantity - line.heldQuantity })),
    tenders: r.tenders.map((tender) => ({ ...tender, tenderType: tenderOut(tender.tenderType) })),
  }),
  returnRecord: (r: L.ReturnRecord): pb.ReturnRecord => ({
    storeId: r.storeId, returnId: r.returnId, receiptId: r.receiptId, customerToken: r.customerToken,
    status: toProto(pb.ReturnStatus, 'RETURN_STATUS_', r.status), decision: decision(r.decision), createdAtMs: r.createdAtMs,
    expiresAtMs: r.expiresAtMs, endedAtMs: r.endedAtMs,
    lines: r.lines.map((line) => ({ ...line, disposition: bucketOut(line.disposition) })),
    decisions: returnDecisionsOut(r.decisions), refunds: refundsOut(r.refunds), override: r.override,
    replacement: r.replacement === undefined ? undefined : { receiptId: r.replacement.receiptId, lines: r.replacement.lines.map((line) => ({ ...line })) },
    replacementDecisions: saleDecisionsOut(r.replacementDecisions ?? []),
  }),
};
