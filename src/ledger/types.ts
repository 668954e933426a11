/**
 * The ledger's typed command model: what gRPC handlers and the TCP gateway translate into, and
 * what they get back. Quantities are integer units (grams for weighed goods); money is integer
 * minor units of the store's ISO 4217 currency. No floats anywhere.
 */

export const buckets = ['SELLABLE', 'DAMAGED', 'QUARANTINE'] as const;
export type Bucket = (typeof buckets)[number];
export const channels = ['STORE', 'ONLINE'] as const;
export type Channel = (typeof channels)[number];
export const tenderTypes = ['CASH', 'CARD', 'GIFT_CARD', 'STORE_CREDIT', 'OTHER'] as const;
export type TenderType = (typeof tenderTypes)[number];

/** Per-store rules; a store's policy overrides the ledger default field by field. */
export interface Policy {
  returnWindowDays: number;
  /** Largest refund for one non-receipted return; 0 means non-receipted returns are not allowed. */
  nonReceiptedAmountMaxMinor: number;
  /** Most approved returns per customer token per period; 0 means no limit. */
  velocityReturnsMax: number;
  velocityPeriodMs: number;
  holdTtlMs: number;
  backorderAllowed: boolean;
  /** Largest amount an offline edge node may approve in stand-in mode. */
  offlineFloorLimitMinor: number;
  /** Refund to the receipt's tenders (true) or as store credit (false). */
  refundToOriginalTender: boolean;
}

export const defaultPolicy: Readonly<Policy> = Object.freeze({
  returnWindowDays: 30,
  nonReceiptedAmountMaxMinor: 5_000,
  velocityReturnsMax: 5,
  velocityPeriodMs: 7 * 24 * 3600 * 1000,
  holdTtlMs: 15 * 60 * 1000,
  backorderAllowed: false,
  offlineFloorLimitMinor: 10_000,
  refundToOriginalTender: true,
});

export interface Actor {
  terminalId?: string;
  operatorId?: string;
}

export interface SaleLine {
  lineNo: number;
  sku: string;
  quantity: number;
  unitPriceMinor: number;
}

export interface Tender {
  tenderType: TenderType;
  amountMinor: number;
  /** Masked PAN (first 6 / last 4) or a token; never a clear PAN. */
  cardMasked?: string;
}

export interface ReturnLine {
  lineNo: number;
  /** The receipt line returned against; absent for a non-receipted return. */
  receiptLineNo?: number;
  sku: string;
  quantity: number;
  /** Refund per unit; defaults to the price paid. Required for non-receipted lines. */
  unitRefundMinor?: number;
  disposition: Bucket;
}

export interface Override {
  operatorId: string;
  reasonCode: string;
}

export interface Replacement {
  /** Receipt id of the replacement sale that completion records. */
  receiptId: string;
  lines: SaleLine[];
}

export interface UpsertStore {
  type: 'UpsertStore';
  storeId: string;
  name: string;
  currency: string;
  policy?: Partial<Policy>;
}

export interface UpsertSku {
  type: 'UpsertSku';
  sku: string;
  description: string;
  returnable: boolean;
  /** Overrides the store's return window for this SKU; 0 means use the store's. */
  returnWindowDays: number;
}

export interface ReceiveStock {
  type: 'ReceiveStock';
  storeId: string;
  sku: string;
  bucket: Bucket;
  quantity: number;
  reference: string;
}

export interface AdjustStock {
  type: 'AdjustStock';
  storeId: string;
  sku: string;
  bucket: Bucket;
  delta: number;
  reason: string;
}

export interface CountStock {
  type: 'CountStock';
  storeId: string;
  sku: string;
  bucket: Bucket;
  countedQuantity: number;
}

export interface TransferStock {
  type: 'TransferStock';
  storeId: string;
  sku: string;
  fromBucket: Bucket;
  toBucket: Bucket;
  quantity: number;
}

export interface RecordSale {
  type: 'RecordSale';
  storeId: string;
  receiptId: string;
  channel: Channel;
  currency: string;
  lines: SaleLine[];
  tenders: Tender[];
  customerToken?: string;
}

export interface ImportReceipt {
  type: 'ImportReceipt';
  storeId: string;
  receiptId: string;
  channel: Channel;
  currency: string;
  soldAtMs: number;
  lines: SaleLine[];
  tenders: Tender[];
  customerToken?: string;
}

export interface AuthorizeReturn {
  type: 'AuthorizeReturn';
  storeId: string;
  returnId: string;
  receiptId?: string;
  customerToken?: string;
  lines: ReturnLine[];
  override?: Override;
  replacement?: Replacement;
}

export interface CompleteLine {
  lineNo: number;
  quantity: number;
}

export interface CompleteReturn {
  type: 'CompleteReturn';
  storeId: string;
  returnId: string;
  /** Units to post per return line; absent means every held unit. */
  lines?: CompleteLine[];
}

export interface VoidReturn {
  type: 'VoidReturn';
  storeId: string;
  returnId: string;
  reason: string;
}

/** A return and the sale of its replacement, authorized and completed in one atomic step. */
export interface Exchange {
  type: 'Exchange';
  storeId: string;
  returnId: string;
  receiptId?: string;
  customerToken?: string;
  lines: ReturnLine[];
  override?: Override;
  replacement: Replacement;
}

export type Command =
  | UpsertStore
  | UpsertSku
  | ReceiveStock
  | AdjustStock
  | CountStock
  | TransferStock
  | RecordSale
  | ImportReceipt
  | AuthorizeReturn
  | CompleteReturn
  | VoidReturn
  | Exchange;

export type CommandType = Command['type'];

/** What travels to a shard: the command plus who sent it and its idempotency id. */
export interface Envelope {
  idempotencyId: string;
  actor: Actor;
  command: Command;
}

// ---- records ----------------------------------------------------------------------------

export interface Store {
  storeId: string;
  name: string;
  currency: string;
  /** This store's overrides; the ledger's default policy fills the rest. */
  policy: Partial<Policy>;
}

export interface Sku {
  sku: string;
  description: string;
  returnable: boolean;
  returnWindowDays: number;
}

export interface Position {
  storeId: string;
  sku: string;
  sellable: number;
  damaged: number;
  quarantine: number;
  reserved: number;
}

export interface ReceiptLine extends SaleLine {
  returnedQuantity: number;
  heldQuantity: number;
}

export interface ReceiptTender extends Tender {
  refundedMinor: number;
  heldRefundMinor: number;
}

export interface Receipt {
  storeId: string;
  receiptId: string;
  channel: Channel;
  currency: string;
  soldAtMs: number;
  origin: 'SALE' | 'IMPORT' | 'EXCHANGE';
  customerToken?: string;
  lines: ReceiptLine[];
  tenders: ReceiptTender[];
}

export type Decision = 'APPROVED' | 'PARTIALLY_APPROVED' | 'DECLINED';
export type LineDecision = 'APPROVED' | 'PARTIALLY_APPROVED' | 'DECLINED';

export const declineReasons = [
  'RECEIPT_NOT_FOUND',
  'RECEIPT_LINE_NOT_FOUND',
  'SKU_MISMATCH',
  'NOT_RETURNABLE',
  'OUTSIDE_RETURN_WINDOW',
  'QUANTITY_EXCEEDS_RETURNABLE',
  'AMOUNT_EXCEEDS_PAID',
  'VELOCITY_LIMIT',
  'NON_RECEIPTED_NOT_ALLOWED',
  'NON_RECEIPTED_LIMIT',
  'INSUFFICIENT_STOCK',
  'REPLACEMENT_DECLINED',
  'RETURN_DECLINED',
] as const;
export type DeclineReason = (typeof declineReasons)[number];

/** The reason a declined answer carries: its first declined line's, the one a register shows. */
export function firstDeclineReason(lines: readonly { reason?: DeclineReason | undefined }[]): DeclineReason | undefined {
  return lines.find((line) => line.reason !== undefined)?.reason;
}

export interface RefundAllocation {
  tenderType: TenderType;
  /** Index of the receipt tender refunded; -1 for store credit. */
  tenderIndex: number;
  amountMinor: number;
}

export interface ReturnLineDecision {
  lineNo: number;
  decision: LineDecision;
  requestedQuantity: number;
  approvedQuantity: number;
  refundMinor: number;
  reason?: DeclineReason;
}

export interface SaleLineDecision {
  lineNo: number;
  decision: 'APPROVED' | 'DECLINED';
  reason?: DeclineReason;
  availableQuantity?: number;
}

export type ReturnStatus = 'HELD' | 'COMPLETED' | 'VOIDED' | 'EXPIRED' | 'DECLINED';

export interface HeldReturnLine {
  lineNo: number;
  receiptLineNo?: number;
  sku: string;
  disposition: Bucket;
  unitRefundMinor: number;
  approvedQuantity: number;
  completedQuantity: number;
}

/** A return as stored: its decision, what it holds, and how it ended. */
export interface ReturnRecord {
  storeId: string;
  returnId: string;
  receiptId?: string;
  customerToken?: string;
  status: ReturnStatus;
  decision: Decision;
  createdAtMs: number;
  expiresAtMs: number;
  endedAtMs?: number;
  lines: HeldReturnLine[];
  decisions: ReturnLineDecision[];
  refunds: RefundAllocation[];
  override?: Override;
  replacement?: Replacement;
  replacementDecisions?: SaleLineDecision[];
}

// ---- results ----------------------------------------------------------------------------

export interface StoreResult {
  type: 'StoreUpserted';
  store: Store;
  effectivePolicy: Policy;
}

export interface SkuResult {
  type: 'SkuUpserted';
  sku: Sku;
}

export interface StockResult {
  type: 'StockMoved';
  position: Position;
  /** Counted minus recorded, for a cycle count. */
  varianceQuantity?: number;
}

export interface SaleResult {
  type: 'Sale';
  receiptId: string;
  decision: 'APPROVED' | 'DECLINED';
  lines: SaleLineDecision[];
  totalMinor: number;
}

export interface ImportResult {
  type: 'ReceiptImported';
  receiptId: string;
  totalMinor: number;
}

export interface AuthorizeResult {
  type: 'ReturnAuthorized';
  returnId: string;
  decision: Decision;
  lines: ReturnLineDecision[];
  refundMinor: number;
  refunds: RefundAllocation[];
  replacementLines?: SaleLineDecision[];
  replacementTotalMinor?: number;
  /** Refund minus replacement total: positive is owed to the customer, negative is due from them. */
  differenceMinor: number;
  expiresAtMs: number;
  overrideApplied: boolean;
}

export interface CompleteResult {
  type: 'ReturnCompleted';
  returnId: string;
  receiptId?: string;
  lines: { lineNo: number; quantity: number; refundMinor: number }[];
  refundMinor: number;
  refunds: RefundAllocation[];
  /** 'return.full' when every unit of the receipt has now come back, else 'return.partial'. */
  event: 'return.full' | 'return.partial';
  replacementReceiptId?: string;
  replacementTotalMinor?: number;
  differenceMinor: number;
}

export interface VoidResult {
  type: 'ReturnVoided';
  returnId: string;
}

export interface ExchangeResult {
  type: 'Exchanged';
  authorization: AuthorizeResult;
  completion?: CompleteResult;
}

export type CommandResult =
  | StoreResult
  | SkuResult
  | StockResult
  | SaleResult
  | ImportResult
  | AuthorizeResult
  | CompleteResult
  | VoidResult
  | ExchangeResult;

export interface LedgerErrorInfo {
  code: string;
  message: string;
  field?: string;
}

export type Outcome =
  | { ok: true; result: CommandResult; replay: boolean; seq: number }
  | { ok: false; error: LedgerErrorInfo };
