/**
 * An in-memory reference model of the ledger rules, written from DESIGN.md ("The ledger") and the
 * rule comments, independent of src/ledger/rules and state.ts: plain Maps, no LMDB, no overlays.
 * Each command runs against a snapshot that is thrown away when it fails, the way the ledger's
 * child overlay is. It covers the commands the property test generates and computes their full
 * Outcome (results, decisions, reasons, refunds, events, journal seq), plus the balances the test
 * compares with the LMDB ledger after every step.
 *
 * Only types, limits and the built-in default policy come from src/ledger.
 */
import { defaultPolicy as builtInPolicy, limits } from '../../src/ledger/index.js';
import type {
  AuthorizeResult, AuthorizeReturn, Bucket, Command, CommandResult, CompleteResult, CompleteReturn, DeclineReason, Decision,
  Envelope, Exchange, Outcome, Policy, Position, Receipt, RefundAllocation, ReturnLineDecision, Replacement, SaleLine,
  SaleLineDecision, Sku, StockResult, Store, Tender,
} from '../../src/ledger/index.js';

const dayMs = 24 * 3600 * 1000;
/** An imported receipt may be dated at most this far in the future (clock skew between systems). */
const importSkewMsMax = 5 * 60 * 1000;
/** Declines a manager may override; quantity and amount limits never are. */
const overridableReasons: ReadonlySet<DeclineReason> = new Set<DeclineReason>([
  'NOT_RETURNABLE', 'OUTSIDE_RETURN_WINDOW', 'VELOCITY_LIMIT', 'NON_RECEIPTED_NOT_ALLOWED', 'NON_RECEIPTED_LIMIT',
]);

export class ModelRejection extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
const reject = (code: string): never => {
  throw new ModelRejection(code);
};

export interface ModelLine {
  lineNo: number;
  receiptLineNo?: number;
  sku: string;
  disposition: Bucket;
  unitRefundMinor: number;
  approvedQuantity: number;
  completedQuantity: number;
}

export interface ModelReturn {
  storeId: string;
  returnId: string;
  receiptId?: string;
  customerToken?: string;
  status: 'HELD' | 'COMPLETED' | 'VOIDED' | 'EXPIRED' | 'DECLINED';
  decision: Decision;
  expiresAtMs: number;
  lines: ModelLine[];
  /** What the hold keeps on the receipt's tenders (tender index → minor units). */
  heldRefunds: RefundAllocation[];
  replacement?: Replacement;
  override?: { operatorId: string; reasonCode: string };
}

interface ModelState {
  stores: Map<string, Store>;
  skus: Map<string, Sku>;
  positions: Map<string, Position>;
  receipts: Map<string, Receipt>;
  returns: Map<string, ModelReturn>;
  /** Approval times per store + customer token. */
  approvals: Map<string, number[]>;
  seq: number;
}

interface Remembered {
  body: string;
  atMs: number;
  outcome: Outcome;
}

export interface ModelOptions {
  defaultPolicy?: Partial<Policy>;
  idempotencyRetentionMs: number;
  idempotencyRecordsMax: number;
}

export const pairKey = (a: string, b: string): string => `${a}\u0000${b}`;

/** Sorted keys, explicit undefined: two values are the same body exactly when this is equal. */
export function canonical(value: unknown): string {
  if (value === undefined) return '"<undefined>"';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record).sort().map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`).join(',')}}`;
}

/** The command body as the idempotency check sees it: keys holding undefined do not count. */
function bodyOf(command: unknown): string {
  return JSON.stringify(command, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const record = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).sort().map((key) => [key, record[key]]));
  });
}

const clone = <T>(value: T): T => structuredClone(value);

export class LedgerModel {
  private state: ModelState = {
    stores: new Map(), skus: new Map(), positions: new Map(), receipts: new Map(), returns: new Map(), approvals: new Map(), seq: 0,
  };
  private readonly remembered = new Map<string, Remembered>();
  private readonly defaults: Policy;

  constructor(private readonly options: ModelOptions) {
    this.defaults = { ...builtInPolicy, ...options.defaultPolicy };
  }

  get seq(): number {
    return this.state.seq;
  }

  // ---- reads for the comparison with the ledger ----------------------------------------

  position(storeId: string, sku: string): Position {
    return clone(this.state.positions.get(pairKey(storeId, sku)) ?? { storeId, sku, sellable: 0, damaged: 0, quarantine: 0, reserved: 0 });
  }

  receipt(storeId: string, receiptId: string): Receipt | undefined {
    const receipt = this.state.receipts.get(pairKey(storeId, receiptId));
    return receipt === undefined ? undefined : clone(receipt);
  }

  receipts(): Receipt[] {
    return [...this.state.receipts.values()].map(clone);
  }

  returnRecord(storeId: string, returnId: string): ModelReturn | undefined {
    const record = this.state.returns.get(pairKey(storeId, returnId));
    return record === undefined ? undefined : clone(record);
  }

  returns(): ModelReturn[] {
    return [...this.state.returns.values()].map(clone);
  }

  policyOf(storeId: string): Policy {
    const store = this.state.stores.get(storeId);
    return store === undefined ? this.defaults : { ...this.defaults, ...store.policy };
  }

  rememberedIds(): string[] {
    return [...this.remembered.keys()];
  }

  // ---- one batch --------------------------------------------------------------------------

  /** The same contract as Ledger.execute: expire due holds, run each command, forget old ids. */
  execute(envelopes: readonly Envelope[], nowMs: number): Outcome[] {
    const committedIds = [...this.remembered.entries()].map(([id, record]) => ({ id, atMs: record.atMs }));
    this.expireDue(nowMs);
    let added = 0;
    const outcomes = envelopes.map((envelope) => {
      const before = this.remembered.size;
      const outcome = this.runOne(envelope, nowMs);
      added += this.remembered.size - before;
      return outcome;
    });
    this.forget(committedIds, nowMs, added);
    return outcomes;
  }

  private runOne(envelope: Envelope, nowMs: number): Outcome {
    const body = bodyOf(envelope.command);
    const prior = this.remembered.get(envelope.idempotencyId);
    if (prior !== undefined) {
      if (prior.body !== body) return { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', message: '' } };
      return { ...clone(prior.outcome), replay: true } as Outcome;
    }
    const saved = clone(this.state);
    try {
      const result = this.apply(envelope.command, nowMs);
      this.state.seq += 1;
      const outcome: Outcome = { ok: true, result: clone(result), replay: false, seq: this.state.seq };
      this.remembered.set(envelope.idempotencyId, { body, atMs: nowMs, outcome: clone(outcome) });
      return outcome;
    } catch (error) {
      if (!(error instanceof ModelRejection)) throw error;
      this.state = saved;
      return { ok: false, error: { code: error.code, message: '' } };
    }
  }

  /** Holds past their TTL are released, oldest first, one journal entry each. */
  private expireDue(nowMs: number): void {
    const due = [...this.state.returns.values()]
      .filter((record) => record.status === 'HELD' && record.expiresAtMs <= nowMs)
      .sort((a, b) => a.expiresAtMs - b.expiresAtMs || compareText(a.storeId, b.storeId) || compareText(a.returnId, b.returnId))
      .slice(0, limits.expirySweepHoldsMax);
    for (const record of due) {
      this.release(record, 'EXPIRED');
      this.state.seq += 1;
    }
  }

  /** Ids older than the retention go, and the oldest past the record bound; only ids committed before. */
  private forget(committed: { id: string; atMs: number }[], nowMs: number, added: number): void {
    const count = committed.length + added;
    const overflow = Math.max(0, count - this.options.idempotencyRecordsMax);
    const cutoffMs = nowMs - this.options.idempotencyRetentionMs;
    // Commit order (the map's insertion order), as the ledger walks its journal.
    const oldestFirst = committed.slice(0, limits.idempotencyPruneRecordsMax);
    let pruned = 0;
    for (const { id, atMs } of oldestFirst) {
      if (atMs >= cutoffMs && pruned >= overflow) break;
      this.remembered.delete(id);
      pruned += 1;
    }
  }

  // ---- rules ------------------------------------------------------------------------------

  private apply(command: Command, nowMs: number): CommandResult {
    switch (command.type) {
      case 'UpsertStore': {
        const existing = this.state.stores.get(command.storeId);
        if (existing !== undefined && existing.currency !== command.currency) reject('CURRENCY_MISMATCH');
        const policy = { ...(existing?.policy ?? {}) } as Record<string, unknown>;
        for (const [key, value] of Object.entries(command.policy ?? {})) if (value !== undefined) policy[key] = value;
        const store: Store = { storeId: command.storeId, name: command.name, currency: command.currency, policy };
        this.state.stores.set(store.storeId, store);
        return { type: 'StoreUpserted', store: clone(store), effectivePolicy: { ...this.defaults, ...store.policy } };
      }
      case 'UpsertSku': {
        const sku: Sku = { sku: command.sku, description: command.description, returnable: command.returnable, returnWindowDays: command.returnWindowDays };
        this.state.skus.set(sku.sku, sku);
        return { type: 'SkuUpserted', sku: clone(sku) };
      }
      case 'ReceiveStock':
        this.needSku(command.sku);
        return this.move(command.storeId, command.sku, [[command.bucket, command.quantity]]);
      case 'AdjustStock':
        this.needSku(command.sku);
        return this.move(command.storeId, command.sku, [[command.bucket, command.delta]]);
      case 'CountStock': {
        this.needSku(command.sku);
        this.needStore(command.storeId);
        const variance = command.countedQuantity - bucketOf(this.position(command.storeId, command.sku), command.bucket);
        return { ...this.move(command.storeId, command.sku, variance === 0 ? [] : [[command.bucket, variance]]), varianceQuantity: variance };
      }
      case 'TransferStock':
        this.needSku(command.sku);
        return this.move(command.storeId, command.sku, [[command.fromBucket, -command.quantity], [command.toBucket, command.quantity]]);
      case 'RecordSale':
        return this.sale(command.storeId, command.receiptId, command.currency, command.lines, command.tenders, command.channel, command.customerToken, nowMs);
      case 'ImportReceipt': {
        this.checkNewReceipt(command.storeId, command.receiptId, command.currency, command.lines);
        if (command.soldAtMs > nowMs + importSkewMsMax) reject('INVALID_ARGUMENT');
        this.putReceipt(command.storeId, command.receiptId, command.channel, command.currency, command.soldAtMs, 'IMPORT', command.lines, command.tenders, command.customerToken);
        return { type: 'ReceiptImported', receiptId: command.receiptId, totalMinor: total(command.lines) };
      }
      case 'AuthorizeReturn':
        return this.authorize(command, nowMs);
      case 'CompleteReturn':
        return this.complete(command, nowMs);
      case 'VoidReturn':
        this.release(this.needHeld(command.storeId, command.returnId), 'VOIDED');
        return { type: 'ReturnVoided', returnId: command.returnId };
      case 'Exchange': {
        const authorization = this.authorize(command, nowMs);
        if (authorization.decision === 'DECLINED') return { type: 'Exchanged', authorization };
        const completion = this.complete({ type: 'CompleteReturn', storeId: command.storeId, returnId: command.returnId }, nowMs);
        return { type: 'Exchanged', authorization, completion };
      }
    }
  }

  private needStore(storeId: string): Store {
    return this.state.stores.get(storeId) ?? reject('STORE_NOT_FOUND');
  }

  private needSku(sku: string): Sku {
    return this.state.skus.get(sku) ?? reject('SKU_NOT_FOUND');
  }

  /** A stock movement: every touched bucket stays within bounds, and sellable covers what is reserved. */
  private move(storeId: string, sku: string, changes: [Bucket, number][]): StockResult {
    const policy = { ...this.defaults, ...this.needStore(storeId).policy };
    const position = this.position(storeId, sku);
    for (const [bucket, delta] of changes) setBucket(position, bucket, bucketOf(position, bucket) + delta);
    for (const [bucket] of changes) {
      const value = bucketOf(position, bucket);
      if (Math.abs(value) > limits.positionAbsMax) reject('QUANTITY_INVALID');
      if (value < 0 && !policy.backorderAllowed) reject('STOCK_WOULD_GO_NEGATIVE');
    }
    if (!policy.backorderAllowed && position.sellable < position.reserved) reject('STOCK_RESERVED');
    this.state.positions.set(pairKey(storeId, sku), position);
    return { type: 'StockMoved', position: clone(position) };
  }

  private checkNewReceipt(storeId: string, receiptId: string, currency: string, lines: readonly SaleLine[]): Store {
    const store = this.needStore(storeId);
    if (store.currency !== currency) reject('CURRENCY_MISMATCH');
    for (const line of lines) this.needSku(line.sku);
    if (this.state.receipts.has(pairKey(storeId, receiptId))) reject('RECEIPT_EXISTS');
    return store;
  }

  private putReceipt(
    storeId: string, receiptId: string, channel: Receipt['channel'], currency: string, soldAtMs: number, origin: Receipt['origin'],
    lines: readonly SaleLine[], tenders: readonly Tender[], customerToken: string | undefined,
  ): void {
    const receipt: Receipt = {
      storeId, receiptId, channel, currency, soldAtMs, origin,
      lines: lines.map((line) => ({ lineNo: line.lineNo, sku: line.sku, quantity: line.quantity, unitPriceMinor: line.unitPriceMinor, returnedQuantity: 0, heldQuantity: 0 })),
      tenders: tenders.map((tender) => ({ ...tender, refundedMinor: 0, heldRefundMinor: 0 })),
    };
    if (customerToken !== undefined) receipt.customerToken = customerToken;
    this.state.receipts.set(pairKey(storeId, receiptId), receipt);
  }

  /** No overselling: every line's SKU must be available (sellable − reserved) unless backorder is allowed. */
  private stockDecisions(storeId: string, lines: readonly SaleLine[], policy: Policy): SaleLineDecision[] {
    const wanted = new Map<string, number>();
    for (const line of lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    const shortOf = new Map<string, number>();
    for (const [sku, quantity] of wanted) {
      const position = this.position(storeId, sku);
      const available = position.sellable - position.reserved;
      if (!policy.backorderAllowed && available < quantity) shortOf.set(sku, Math.max(0, available));
    }
    return lines.map((line): SaleLineDecision => {
      const available = shortOf.get(line.sku);
      if (available !== undefined) return { lineNo: line.lineNo, decision: 'DECLINED', reason: 'INSUFFICIENT_STOCK', availableQuantity: available };
      return { lineNo: line.lineNo, decision: shortOf.size > 0 ? 'DECLINED' : 'APPROVED' };
    });
  }

  private sale(
    storeId: string, receiptId: string, currency: string, lines: readonly SaleLine[], tenders: readonly Tender[],
    channel: Receipt['channel'], customerToken: string | undefined, nowMs: number,
  ): CommandResult {
    const store = this.checkNewReceipt(storeId, receiptId, currency, lines);
    const decisions = this.stockDecisions(storeId, lines, { ...this.defaults, ...store.policy });
    const totalMinor = total(lines);
    if (decisions.some((line) => line.decision === 'DECLINED')) return { type: 'Sale', receiptId, decision: 'DECLINED', lines: decisions, totalMinor };
    this.putReceipt(storeId, receiptId, channel, currency, nowMs, 'SALE', lines, tenders, customerToken);
    for (const line of lines) this.addToPosition(storeId, line.sku, 'sellable', -line.quantity);
    return { type: 'Sale', receiptId, decision: 'APPROVED', lines: decisions, totalMinor };
  }

  private addToPosition(storeId: string, sku: string, field: 'sellable' | 'damaged' | 'quarantine' | 'reserved', delta: number): void {
    const position = this.position(storeId, sku);
    position[field] += delta;
    this.state.positions.set(pairKey(storeId, sku), position);
  }

  // ---- returns ------------------------------------------------------------------------------

  private authorize(command: AuthorizeReturn | Exchange, nowMs: number): AuthorizeResult {
    const store = this.needStore(command.storeId);
    if (this.state.returns.has(pairKey(command.storeId, command.returnId))) reject('RETURN_EXISTS');
    for (const line of command.lines) this.needSku(line.sku);
    const replacement = command.replacement;
    if (replacement !== undefined) {
      for (const line of replacement.lines) this.needSku(line.sku);
      if (this.state.receipts.has(pairKey(command.storeId, replacement.receiptId))) reject('RECEIPT_EXISTS');
    }
    const policy: Policy = { ...this.defaults, ...store.policy };
    const receipt = command.receiptId === undefined ? undefined : this.state.receipts.get(pairKey(command.storeId, command.receiptId));
    const judged = command.receiptId === undefined ? this.judgeNonReceipted(command, policy) : this.judgeReceipted(command, receipt, policy, nowMs);
    if (this.velocityReached(command.storeId, command.customerToken, policy, nowMs)) {
      for (const line of judged) line.reason ??= 'VELOCITY_LIMIT';
    }
    let overrideApplied = false;
    const decisions = judged.map((judgement): ReturnLineDecision => {
      let reason = judgement.reason;
      if (reason !== undefined && command.override !== undefined && overridableReasons.has(reason)) {
        overrideApplied = true;
        reason = judgement.returnable < judgement.requested ? 'QUANTITY_EXCEEDS_RETURNABLE' : undefined;
      }
      const approvedQuantity = reason === undefined || reason === 'QUANTITY_EXCEEDS_RETURNABLE' ? judgement.returnable : 0;
      const decision = approvedQuantity === 0 ? 'DECLINED' : approvedQuantity < judgement.requested ? 'PARTIALLY_APPROVED' : 'APPROVED';
      const line: ReturnLineDecision = { lineNo: judgement.lineNo, decision, requestedQuantity: judgement.requested, approvedQuantity, refundMinor: approvedQuantity * judgement.unitRefundMinor };
      if (reason !== undefined) line.reason = reason;
      return line;
    });
    let replacementLines: SaleLineDecision[] | undefined;
    if (replacement !== undefined) {
      if (overall(decisions) === 'DECLINED') {
        replacementLines = replacement.lines.map((line) => ({ lineNo: line.lineNo, decision: 'DECLINED', reason: 'RETURN_DECLINED' }));
      } else {
        replacementLines = this.stockDecisions(command.storeId, replacement.lines, policy);
        if (replacementLines.some((line) => line.decision === 'DECLINED')) {
          for (const line of decisions) Object.assign(line, { decision: 'DECLINED', approvedQuantity: 0, refundMinor: 0, reason: 'REPLACEMENT_DECLINED' });
        }
      }
    }
    const decision = overall(decisions);
    const approved = decision !== 'DECLINED';
    const refundMinor = decisions.reduce((sum, line) => sum + line.refundMinor, 0);
    const replacementTotalMinor = replacement === undefined ? 0 : total(replacement.lines);
    const refunds = approved ? this.allocate(receipt, Math.max(0, refundMinor - replacementTotalMinor), policy) : [];
    const expiresAtMs = approved ? nowMs + policy.holdTtlMs : nowMs;
    const record: ModelReturn = {
      storeId: command.storeId, returnId: command.returnId, status: approved ? 'HELD' : 'DECLINED', decision, expiresAtMs,
      lines: judged.map((judgement, index) => {
        const line: ModelLine = {
          lineNo: judgement.lineNo, sku: judgement.sku, disposition: judgement.disposition, unitRefundMinor: judgement.unitRefundMinor,
          approvedQuantity: decisions[index]?.approvedQuantity ?? 0, completedQuantity: 0,
        };
        if (judgement.receiptLineNo !== undefined) line.receiptLineNo = judgement.receiptLineNo;
        return line;
      }),
      heldRefunds: refunds,
    };
    if (command.receiptId !== undefined) record.receiptId = command.receiptId;
    if (command.customerToken !== undefined) record.customerToken = command.customerToken;
    if (command.override !== undefined) record.override = command.override;
    if (approved && replacement !== undefined) record.replacement = replacement;
    this.state.returns.set(pairKey(command.storeId, command.returnId), record);
    if (approved) {
      this.hold(record, 1);
      if (command.customerToken !== undefined && policy.velocityReturnsMax > 0) {
        const key = pairKey(command.storeId, command.customerToken);
        this.state.approvals.set(key, [...(this.state.approvals.get(key) ?? []), nowMs]);
      }
    }
    const result: AuthorizeResult = {
      type: 'ReturnAuthorized', returnId: command.returnId, decision, lines: decisions, refundMinor, refunds: clone(refunds),
      differenceMinor: approved ? refundMinor - replacementTotalMinor : 0, expiresAtMs, overrideApplied,
    };
    if (replacementLines !== undefined) Object.assign(result, { replacementLines, replacementTotalMinor });
    return result;
  }

  private judgeReceipted(command: AuthorizeReturn | Exchange, receipt: Receipt | undefined, policy: Policy, nowMs: number): Judgement[] {
    const claimed = new Map<number, number>();
    return command.lines.map((line) => {
      const base = { lineNo: line.lineNo, sku: line.sku, disposition: line.disposition, requested: line.quantity, receiptLineNo: line.receiptLineNo };
      if (receipt === undefined) return { ...base, unitRefundMinor: 0, returnable: 0, reason: 'RECEIPT_NOT_FOUND' };
      const sold = receipt.lines.find((candidate) => candidate.lineNo === line.receiptLineNo);
      if (sold === undefined) return { ...base, unitRefundMinor: 0, returnable: 0, reason: 'RECEIPT_LINE_NOT_FOUND' };
      const unitRefundMinor = line.unitRefundMinor ?? sold.unitPriceMinor;
      if (sold.sku !== line.sku) return { ...base, unitRefundMinor, returnable: 0, reason: 'SKU_MISMATCH' };
      if (unitRefundMinor > sold.unitPriceMinor) return { ...base, unitRefundMinor, returnable: 0, reason: 'AMOUNT_EXCEEDS_PAID' };
      // Earlier lines of this same return count against the receipt line too.
      const left = sold.quantity - sold.returnedQuantity - sold.heldQuantity - (claimed.get(sold.lineNo) ?? 0);
      const returnable = Math.max(0, Math.min(line.quantity, left));
      claimed.set(sold.lineNo, (claimed.get(sold.lineNo) ?? 0) + returnable);
      const sku = this.needSku(line.sku);
      const windowDays = sku.returnWindowDays > 0 ? sku.returnWindowDays : policy.returnWindowDays;
      let reason: DeclineReason | undefined;
      if (!sku.returnable) reason = 'NOT_RETURNABLE';
      else if (nowMs > receipt.soldAtMs + windowDays * dayMs) reason = 'OUTSIDE_RETURN_WINDOW';
      else if (returnable < line.quantity) reason = 'QUANTITY_EXCEEDS_RETURNABLE';
      return reason === undefined ? { ...base, unitRefundMinor, returnable } : { ...base, unitRefundMinor, returnable, reason };
    });
  }

  private judgeNonReceipted(command: AuthorizeReturn | Exchange, policy: Policy): Judgement[] {
    const amountMinor = command.lines.reduce((sum, line) => sum + line.quantity * (line.unitRefundMinor ?? 0), 0);
    const storeReason: DeclineReason | undefined = policy.nonReceiptedAmountMaxMinor === 0
      ? 'NON_RECEIPTED_NOT_ALLOWED'
      : amountMinor > policy.nonReceiptedAmountMaxMinor ? 'NON_RECEIPTED_LIMIT' : undefined;
    return command.lines.map((line) => {
      const reason = this.needSku(line.sku).returnable ? storeReason : 'NOT_RETURNABLE';
      const judgement: Judgement = {
        lineNo: line.lineNo, sku: line.sku, disposition: line.disposition, requested: line.quantity, receiptLineNo: line.receiptLineNo,
        unitRefundMinor: line.unitRefundMinor ?? 0, returnable: line.quantity,
      };
      if (reason !== undefined) judgement.reason = reason;
      return judgement;
    });
  }

  private velocityReached(storeId: string, customerToken: string | undefined, policy: Policy, nowMs: number): boolean {
    if (customerToken === undefined || policy.velocityReturnsMax === 0) return false;
    const recent = (this.state.approvals.get(pairKey(storeId, customerToken)) ?? []).filter((atMs) => nowMs - atMs < policy.velocityPeriodMs);
    return recent.length >= policy.velocityReturnsMax;
  }

  /** The refund goes back to the receipt's tenders in their order, each up to what it can still give back. */
  private allocate(receipt: Receipt | undefined, amountMinor: number, policy: Policy): RefundAllocation[] {
    if (amountMinor === 0) return [];
    if (receipt === undefined || !policy.refundToOriginalTender) return [{ tenderType: 'STORE_CREDIT', tenderIndex: -1, amountMinor }];
    const allocations: RefundAllocation[] = [];
    let left = amountMinor;
    receipt.tenders.forEach((tender, tenderIndex) => {
      const take = Math.min(left, tender.amountMinor - tender.refundedMinor - tender.heldRefundMinor);
      if (take <= 0) return;
      allocations.push({ tenderType: tender.tenderType, tenderIndex, amountMinor: take });
      left -= take;
    });
    if (left > 0) reject('INTERNAL');
    return allocations;
  }

  /** Places (+1) or releases (−1) what a held return holds: receipt line units, tender refunds, reservations. */
  private hold(record: ModelReturn, sign: 1 | -1): void {
    const receipt = record.receiptId === undefined ? undefined : this.state.receipts.get(pairKey(record.storeId, record.receiptId));
    if (receipt !== undefined) {
      for (const line of record.lines) {
        const sold = receipt.lines.find((candidate) => candidate.lineNo === line.receiptLineNo);
        if (sold !== undefined) sold.heldQuantity += sign * line.approvedQuantity;
      }
      for (const refund of record.heldRefunds) {
        const tender = receipt.tenders[refund.tenderIndex];
        if (tender !== undefined) tender.heldRefundMinor += sign * refund.amountMinor;
      }
    }
    for (const line of record.replacement?.lines ?? []) this.addToPosition(record.storeId, line.sku, 'reserved', sign * line.quantity);
  }

  private needHeld(storeId: string, returnId: string): ModelReturn {
    this.needStore(storeId);
    const record = this.state.returns.get(pairKey(storeId, returnId)) ?? reject('RETURN_NOT_FOUND');
    if (record.status !== 'HELD') reject('RETURN_NOT_HELD');
    return record;
  }

  private release(record: ModelReturn, status: 'VOIDED' | 'EXPIRED'): void {
    this.hold(record, -1);
    record.status = status;
  }

  private complete(command: CompleteReturn, nowMs: number): CompleteResult {
    const record = this.needHeld(command.storeId, command.returnId);
    const posted = new Map<number, number>();
    if (command.lines === undefined) {
      for (const line of record.lines) posted.set(line.lineNo, line.approvedQuantity);
    } else {
      for (const asked of command.lines) {
        const line = record.lines.find((candidate) => candidate.lineNo === asked.lineNo);
        if (line === undefined || line.approvedQuantity === 0 || asked.quantity > line.approvedQuantity) reject('COMPLETE_LINE_INVALID');
        posted.set(asked.lineNo, asked.quantity);
      }
    }
    const store = this.needStore(record.storeId);
    this.hold(record, -1);
    const receipt = record.receiptId === undefined ? undefined : this.state.receipts.get(pairKey(record.storeId, record.receiptId));
    let refundMinor = 0;
    for (const line of record.lines) {
      line.completedQuantity = posted.get(line.lineNo) ?? 0;
      if (line.completedQuantity === 0) continue;
      refundMinor += line.completedQuantity * line.unitRefundMinor;
      this.addToPosition(record.storeId, line.sku, bucketField[line.disposition], line.completedQuantity);
      const sold = receipt?.lines.find((candidate) => candidate.lineNo === line.receiptLineNo);
      if (sold !== undefined) sold.returnedQuantity += line.completedQuantity;
    }
    const replacement = record.replacement;
    const replacementTotalMinor = replacement === undefined ? 0 : total(replacement.lines);
    // Paid out of what the authorization held, in its order: never split again.
    const refunds: RefundAllocation[] = [];
    let left = Math.max(0, refundMinor - replacementTotalMinor);
    for (const held of record.heldRefunds) {
      const take = Math.min(held.amountMinor, left);
      if (take > 0) refunds.push({ ...held, amountMinor: take });
      left -= take;
    }
    for (const refund of refunds) {
      const tender = receipt?.tenders[refund.tenderIndex];
      if (tender !== undefined) tender.refundedMinor += refund.amountMinor;
    }
    if (replacement !== undefined) {
      // The replacement is a sale of its own, paid first with the returned goods' credit.
      const creditMinor = Math.min(refundMinor, replacementTotalMinor);
      const tenders: Tender[] = [];
      if (creditMinor > 0) tenders.push({ tenderType: 'STORE_CREDIT', amountMinor: creditMinor });
      if (replacementTotalMinor - creditMinor > 0) tenders.push({ tenderType: 'OTHER', amountMinor: replacementTotalMinor - creditMinor });
      this.putReceipt(record.storeId, replacement.receiptId, 'STORE', store.currency, nowMs, 'EXCHANGE', replacement.lines, tenders, record.customerToken);
      for (const line of replacement.lines) this.addToPosition(record.storeId, line.sku, 'sellable', -line.quantity);
    }
    record.status = 'COMPLETED';
    const everyUnitBack = receipt === undefined
      ? record.receiptId === undefined && record.lines.every((line) => line.completedQuantity === line.approvedQuantity)
      : receipt.lines.every((line) => line.returnedQuantity === line.quantity);
    const result: CompleteResult = {
      type: 'ReturnCompleted', returnId: record.returnId,
      lines: record.lines.map((line) => ({ lineNo: line.lineNo, quantity: line.completedQuantity, refundMinor: line.completedQuantity * line.unitRefundMinor })),
      refundMinor, refunds, event: everyUnitBack ? 'return.full' : 'return.partial', differenceMinor: refundMinor - replacementTotalMinor,
    };
    if (record.receiptId !== undefined) result.receiptId = record.receiptId;
    if (replacement !== undefined) Object.assign(result, { replacementReceiptId: replacement.receiptId, replacementTotalMinor });
    return result;
  }
}

interface Judgement {
  lineNo: number;
  sku: string;
  disposition: Bucket;
  requested: number;
  receiptLineNo: number | undefined;
  unitRefundMinor: number;
  /** Units the receipt still allows (before blocking reasons). */
  returnable: number;
  reason?: DeclineReason;
}

const bucketField = { SELLABLE: 'sellable', DAMAGED: 'damaged', QUARANTINE: 'quarantine' } as const;

function bucketOf(position: Position, bucket: Bucket): number {
  return position[bucketField[bucket]];
}

function setBucket(position: Position, bucket: Bucket, value: number): void {
  position[bucketField[bucket]] = value;
}

function total(lines: readonly SaleLine[]): number {
  return lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
}

function overall(lines: readonly { decision: string }[]): Decision {
  if (lines.every((line) => line.decision === 'APPROVED')) return 'APPROVED';
  if (lines.every((line) => line.decision === 'DECLINED')) return 'DECLINED';
  return 'PARTIALLY_APPROVED';
}

/** LMDB orders string keys by their UTF-8 bytes; for the ASCII ids used in tests that is code-unit order. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
