/**
 * Returns in two phases. Authorize decides per line and places holds (receipt line quantities,
 * refund amounts on tenders, and for an exchange a reservation of the replacement's stock);
 * complete posts a hold, void or expiry releases it, each exactly once (a hold leaves HELD once).
 */
import { fail } from '../errors.js';
import type { Delta } from '../journal.js';
import { applyDeltas, effectivePolicy, readReceipt, readReturn, receiptIdTaken, requireSku, requireStore } from '../state.js';
import type { Overlay } from '../storage.js';
import type {
  AuthorizeResult, AuthorizeReturn, CompleteResult, CompleteReturn, DeclineReason, Decision, Exchange, HeldReturnLine,
  Policy, Receipt, RefundAllocation, ReturnLine, ReturnLineDecision, ReturnRecord, SaleLineDecision, Store, VoidReturn,
} from '../types.js';
import type { RuleContext, RuleOutput } from './context.js';
import { createReceipt, decideStock } from './sale.js';

const dayMs = 24 * 3600 * 1000;

/** Declines a manager may override, with an operator id and reason code. Quantity and amount never. */
const overridable: ReadonlySet<DeclineReason> = new Set<DeclineReason>([
  'NOT_RETURNABLE', 'OUTSIDE_RETURN_WINDOW', 'VELOCITY_LIMIT', 'NON_RECEIPTED_NOT_ALLOWED', 'NON_RECEIPTED_LIMIT',
]);

interface LineVerdict {
  line: ReturnLine;
  unitRefundMinor: number;
  approvedQuantity: number;
  reason?: DeclineReason;
}

function judgeReceiptedLine(ctx: RuleContext, receipt: Receipt, line: ReturnLine, policy: Policy, claimed: Map<number, number>): LineVerdict {
  const receiptLine = receipt.lines.find((candidate) => candidate.lineNo === line.receiptLineNo);
  if (receiptLine === undefined) return { line, unitRefundMinor: 0, approvedQuantity: 0, reason: 'RECEIPT_LINE_NOT_FOUND' };
  const unitRefundMinor = line.unitRefundMinor ?? receiptLine.unitPriceMinor;
  if (receiptLine.sku !== line.sku) return { line, unitRefundMinor, approvedQuantity: 0, reason: 'SKU_MISMATCH' };
  if (unitRefundMinor > receiptLine.unitPriceMinor) return { line, unitRefundMinor, approvedQuantity: 0, reason: 'AMOUNT_EXCEEDS_PAID' };
  const alreadyClaimed = claimed.get(receiptLine.lineNo) ?? 0;
  const remaining = receiptLine.quantity - receiptLine.returnedQuantity - receiptLine.heldQuantity - alreadyClaimed;
  const approvedQuantity = Math.max(0, Math.min(line.quantity, remaining));
  claimed.set(receiptLine.lineNo, alreadyClaimed + approvedQuantity);
  const sku = requireSku(ctx.tx, line.sku, 'sku');
  const windowDays = sku.returnWindowDays > 0 ? sku.returnWindowDays : policy.returnWindowDays;
  let reason: DeclineReason | undefined;
  if (!sku.returnable) reason = 'NOT_RETURNABLE';
  else if (ctx.nowMs > receipt.soldAtMs + windowDays * dayMs) reason = 'OUTSIDE_RETURN_WINDOW';
  else if (approvedQuantity < line.quantity) reason = 'QUANTITY_EXCEEDS_RETURNABLE';
  return reason === undefined ? { line, unitRefundMinor, approvedQuantity } : { line, unitRefundMinor, approvedQuantity, reason };
}

function judgeLines(ctx: RuleContext, command: AuthorizeReturn | Exchange, receipt: Receipt | undefined, policy: Policy): LineVerdict[] {
  if (command.receiptId !== undefined) {
    if (receipt === undefined) return command.lines.map((line) => ({ line, unitRefundMinor: 0, approvedQuantity: 0, reason: 'RECEIPT_NOT_FOUND' }));
    const claimed = new Map<number, number>();
    return command.lines.map((line) => judgeReceiptedLine(ctx, receipt, line, policy, claimed));
  }
  const verdicts: LineVerdict[] = command.lines.map((line) => {
    const unitRefundMinor = line.unitRefundMinor ?? 0;
    const returnable = requireSku(ctx.tx, line.sku, 'sku').returnable;
    return returnable ? { line, unitRefundMinor, approvedQuantity: line.quantity } : { line, unitRefundMinor, approvedQuantity: line.quantity, reason: 'NOT_RETURNABLE' };
  });
  const totalMinor = verdicts.reduce((sum, v) => sum + v.line.quantity * v.unitRefundMinor, 0);
  let reason: DeclineReason | undefined;
  if (policy.nonReceiptedAmountMaxMinor === 0) reason = 'NON_RECEIPTED_NOT_ALLOWED';
  else if (totalMinor > policy.nonReceiptedAmountMaxMinor) reason = 'NON_RECEIPTED_LIMIT';
  return reason === undefined ? verdicts : verdicts.map((v) => ({ ...v, reason: v.reason ?? reason }));
}

function velocityExceeded(ctx: RuleContext, storeId: string, customerToken: string | undefined, policy: Policy): boolean {
  if (customerToken === undefined || policy.velocityReturnsMax === 0) return false;
  const times = ctx.tx.get<number[]>('velocity', [storeId, customerToken]) ?? [];
  const recent = times.filter((atMs) => atMs > ctx.nowMs - policy.velocityPeriodMs);
  return recent.length >= policy.velocityReturnsMax;
}

function recordVelocity(ctx: RuleContext, storeId: string, customerToken: string | undefined, policy: Policy): void {
  if (customerToken === undefined || policy.velocityReturnsMax === 0) return;
  const times = ctx.tx.get<number[]>('velocity', [storeId, customerToken]) ?? [];
  const recent = times.filter((atMs) => atMs > ctx.nowMs - policy.velocityPeriodMs);
  // Only the newest velocityReturnsMax - 1 times matter for the next decision; keep the list bounded.
  const kept = policy.velocityReturnsMax > 1 ? recent.slice(-(policy.velocityReturnsMax - 1)) : [];
  ctx.tx.put('velocity', [storeId, customerToken], [...kept, ctx.nowMs]);
}

/** Turns verdicts into per-line decisions, applying a manager override to overridable reasons. */
function decideLines(verdicts: readonly LineVerdict[], hasOverride: boolean): { decisions: ReturnLineDecision[]; overrideApplied: boolean } {
  let overrideApplied = false;
  const decisions = verdicts.map((verdict): ReturnLineDecision => {
    let reason = verdict.reason;
    if (reason !== undefined && hasOverride && overridable.has(reason)) {
      overrideApplied = true;
      reason = verdict.approvedQuantity < verdict.line.quantity ? 'QUANTITY_EXCEEDS_RETURNABLE' : undefined;
    }
    const blocking = reason !== undefined && reason !== 'QUANTITY_EXCEEDS_RETURNABLE';
    const approvedQuantity = blocking ? 0 : verdict.approvedQuantity;
    const decision = approvedQuantity === 0 ? 'DECLINED' : approvedQuantity < verdict.line.quantity ? 'PARTIALLY_APPROVED' : 'APPROVED';
    const base = { lineNo: verdict.line.lineNo, decision, requestedQuantity: verdict.line.quantity, approvedQuantity, refundMinor: approvedQuantity * verdict.unitRefundMinor } as const;
    return reason === undefined ? base : { ...base, reason };
  });
  return { decisions, overrideApplied };
}

function overallDecision(decisions: readonly { decision: string }[]): Decision {
  if (decisions.every((d) => d.decision === 'APPROVED')) return 'APPROVED';
  if (decisions.every((d) => d.decision === 'DECLINED')) return 'DECLINED';
  return 'PARTIALLY_APPROVED';
}

/**
 * Takes `amountMinor` from the sources in order, each up to its room; `short` names the failure
 * when they cannot give that much (unreachable where it is used: refund amounts are capped first).
 */
function takeInOrder(amountMinor: number, sources: readonly (Pick<RefundAllocation, 'tenderType' | 'tenderIndex'> & { roomMinor: number })[], short: string): RefundAllocation[] {
  const taken: RefundAllocation[] = [];
  let left = amountMinor;
  for (const source of sources) {
    const take = Math.min(source.roomMinor, left);
    if (take > 0) {
      taken.push({ tenderType: source.tenderType, tenderIndex: source.tenderIndex, amountMinor: take });
      left -= take;
    }
  }
  if (left > 0) fail('INTERNAL', short);
  return taken;
}

/** Spreads a refund over the receipt's tenders in order, within what each still has to give back. */
function allocateRefund(receipt: Receipt | undefined, amountMinor: number, policy: Policy): RefundAllocation[] {
  if (amountMinor === 0) return [];
  if (receipt === undefined || !policy.refundToOriginalTender) return [{ tenderType: 'STORE_CREDIT', tenderIndex: -1, amountMinor }];
  const rooms = receipt.tenders.map((tender, tenderIndex) => ({
    tenderType: tender.tenderType, tenderIndex, roomMinor: tender.amountMinor - tender.refundedMinor - tender.heldRefundMinor,
  }));
  return takeInOrder(amountMinor, rooms, `refund of ${amountMinor} exceeds what the receipt's tenders can give back`);
}

function tenderDeltas(storeId: string, receiptId: string | undefined, refunds: readonly RefundAllocation[], sign: number, field: 'held' | 'refunded'): Delta[] {
  if (receiptId === undefined) return [];
  return refunds
    .filter((refund) => refund.tenderIndex >= 0)
    .map((refund) => ({
      kind: 'tender', storeId, receiptId, index: refund.tenderIndex,
      refundedMinor: field === 'refunded' ? sign * refund.amountMinor : 0,
      heldMinor: field === 'held' ? sign * refund.amountMinor : 0,
    }));
}

interface Prepared {
  store: Store;
  policy: Policy;
  receipt: Receipt | undefined;
}

function prepare(ctx: RuleContext, command: AuthorizeReturn | Exchange): Prepared {
  const store = requireStore(ctx.tx, command.storeId);
  if (readReturn(ctx.tx, command.storeId, command.returnId) !== undefined) {
    fail('RETURN_EXISTS', `return ${command.returnId} already exists in store ${command.storeId}`, 'returnId');
  }
  command.lines.forEach((line, index) => requireSku(ctx.tx, line.sku, `lines[${index}].sku`));
  if (command.replacement !== undefined) {
    command.replacement.lines.forEach((line, index) => requireSku(ctx.tx, line.sku, `replacement.lines[${index}].sku`));
    if (receiptIdTaken(ctx.tx, command.storeId, command.replacement.receiptId)) {
      fail('RECEIPT_EXISTS', `receipt ${command.replacement.receiptId} already exists (or is reserved by a held exchange) in store ${command.storeId}`, 'replacement.receiptId');
    }
  }
  const receipt = command.receiptId === undefined ? undefined : readReceipt(ctx.tx, command.storeId, command.receiptId);
  return { store, policy: effectivePolicy(store, ctx.defaultPolicy), receipt };
}

/** Couples the two halves of an exchange: neither goes ahead without the other. */
function coupleReplacement(ctx: RuleContext, command: AuthorizeReturn | Exchange, decisions: ReturnLineDecision[], policy: Policy): SaleLineDecision[] | undefined {
  const replacement = command.replacement;
  if (replacement === undefined) return undefined;
  if (overallDecision(decisions) === 'DECLINED') {
    return replacement.lines.map((line) => ({ lineNo: line.lineNo, decision: 'DECLINED', reason: 'RETURN_DECLINED' }));
  }
  const replacementLines = decideStock(ctx.tx, command.storeId, replacement.lines, policy);
  if (replacementLines.some((line) => line.decision === 'DECLINED')) {
    decisions.forEach((decision, index) => {
      decisions[index] = { ...decision, decision: 'DECLINED', approvedQuantity: 0, refundMinor: 0, reason: 'REPLACEMENT_DECLINED' };
    });
  }
  return replacementLines;
}

export function authorizeReturn(ctx: RuleContext, command: AuthorizeReturn | Exchange): RuleOutput {
  const { policy, receipt } = prepare(ctx, command);
  let verdicts = judgeLines(ctx, command, receipt, policy);
  if (velocityExceeded(ctx, command.storeId, command.customerToken, policy)) {
    verdicts = verdicts.map((v) => ({ ...v, reason: v.reason ?? 'VELOCITY_LIMIT' }));
  }
  const { decisions, overrideApplied } = decideLines(verdicts, command.override !== undefined);
  const replacementLines = coupleReplacement(ctx, command, decisions, policy);
  const decision = overallDecision(decisions);
  const refundMinor = decisions.reduce((sum, d) => sum + d.refundMinor, 0);
  const replacementTotalMinor = command.replacement?.lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0) ?? 0;
  const approved = decision !== 'DECLINED';
  const refunds = approved ? allocateRefund(receipt, Math.max(0, refundMinor - replacementTotalMinor), policy) : [];
  const expiresAtMs = approved ? ctx.nowMs + policy.holdTtlMs : ctx.nowMs;
  const record = buildRecord(ctx, command, verdicts, decisions, { decision, refunds, expiresAtMs, replacementLines });
  const deltas = approved ? holdDeltas(record, 1) : [];
  if (approved) {
    applyDeltas(ctx.tx, deltas, policy);
    ctx.tx.put('expiry', [expiresAtMs, command.storeId, command.returnId], true);
    if (record.replacement !== undefined) ctx.tx.put('reservedReceiptIds', [command.storeId, record.replacement.receiptId], command.returnId);
    recordVelocity(ctx, command.storeId, command.customerToken, policy);
  }
  ctx.tx.put('returns', [command.storeId, command.returnId], record);
  const result: AuthorizeResult = {
    type: 'ReturnAuthorized', returnId: command.returnId, decision, lines: decisions, refundMinor, refunds,
    differenceMinor: approved ? refundMinor - replacementTotalMinor : 0, expiresAtMs, overrideApplied,
  };
  if (replacementLines !== undefined) Object.assign(result, { replacementLines, replacementTotalMinor });
  return { result, storeId: command.storeId, deltas, ref: returnRef(record), decision };
}

interface Decided {
  decision: Decision;
  refunds: RefundAllocation[];
  expiresAtMs: number;
  replacementLines: SaleLineDecision[] | undefined;
}

function buildRecord(ctx: RuleContext, command: AuthorizeReturn | Exchange, verdicts: readonly LineVerdict[], decisions: ReturnLineDecision[], decided: Decided): ReturnRecord {
  const lines: HeldReturnLine[] = verdicts.map((verdict, index) => {
    const held: HeldReturnLine = {
      lineNo: verdict.line.lineNo, sku: verdict.line.sku, disposition: verdict.line.disposition,
      unitRefundMinor: verdict.unitRefundMinor, approvedQuantity: decisions[index]?.approvedQuantity ?? 0, completedQuantity: 0,
    };
    if (verdict.line.receiptLineNo !== undefined) held.receiptLineNo = verdict.line.receiptLineNo;
    return held;
  });
  const record: ReturnRecord = {
    storeId: command.storeId, returnId: command.returnId,
    status: decided.decision === 'DECLINED' ? 'DECLINED' : 'HELD', decision: decided.decision,
    createdAtMs: ctx.nowMs, expiresAtMs: decided.expiresAtMs, lines, decisions, refunds: decided.refunds,
  };
  if (command.receiptId !== undefined) record.receiptId = command.receiptId;
  if (command.customerToken !== undefined) record.customerToken = command.customerToken;
  if (command.override !== undefined) record.override = command.override;
  if (command.replacement !== undefined && decided.decision !== 'DECLINED') record.replacement = command.replacement;
  if (decided.replacementLines !== undefined) record.replacementDecisions = decided.replacementLines;
  return record;
}

/** The deltas that place (sign 1) or release (sign -1) everything a held return holds. */
function holdDeltas(record: ReturnRecord, sign: 1 | -1): Delta[] {
  const deltas: Delta[] = [];
  if (record.receiptId !== undefined) {
    for (const line of record.lines) {
      if (line.approvedQuantity === 0 || line.receiptLineNo === undefined) continue;
      deltas.push({ kind: 'line', storeId: record.storeId, receiptId: record.receiptId, lineNo: line.receiptLineNo, returned: 0, held: sign * line.approvedQuantity });
    }
  }
  deltas.push(...tenderDeltas(record.storeId, record.receiptId, record.refunds, sign, 'held'));
  for (const line of record.replacement?.lines ?? []) {
    deltas.push({ kind: 'position', storeId: record.storeId, sku: line.sku, field: 'RESERVED', delta: sign * line.quantity });
  }
  return deltas;
}

function returnRef(record: ReturnRecord): Record<string, string> {
  return record.receiptId === undefined ? { returnId: record.returnId } : { returnId: record.returnId, receiptId: record.receiptId };
}

/** A hold leaves HELD: its expiry entry and any reserved replacement receipt id go with it. */
function endHold(tx: Overlay, record: ReturnRecord): void {
  tx.remove('expiry', [record.expiresAtMs, record.storeId, record.returnId]);
  if (record.replacement !== undefined) tx.remove('reservedReceiptIds', [record.storeId, record.replacement.receiptId]);
}

function requireHeld(ctx: RuleContext, storeId: string, returnId: string): ReturnRecord {
  requireStore(ctx.tx, storeId);
  const record = readReturn(ctx.tx, storeId, returnId);
  if (record === undefined) return fail('RETURN_NOT_FOUND', `return ${returnId} not found in store ${storeId}`, 'returnId');
  if (record.status !== 'HELD') return fail('RETURN_NOT_HELD', `return ${returnId} is ${record.status}, not HELD`, 'returnId');
  return record;
}

/** Units to post per return line: as asked, or every held unit. */
function completionQuantities(record: ReturnRecord, command: CompleteReturn): Map<number, number> {
  const quantities = new Map<number, number>();
  if (command.lines === undefined) {
    for (const line of record.lines) quantities.set(line.lineNo, line.approvedQuantity);
    return quantities;
  }
  command.lines.forEach((asked, index) => {
    const line = record.lines.find((candidate) => candidate.lineNo === asked.lineNo);
    if (line === undefined || line.approvedQuantity === 0) {
      fail('COMPLETE_LINE_INVALID', `line ${asked.lineNo} holds nothing on return ${record.returnId}`, `lines[${index}].lineNo`);
    } else if (asked.quantity > line.approvedQuantity) {
      fail('COMPLETE_LINE_INVALID', `line ${asked.lineNo} holds ${line.approvedQuantity}, cannot complete ${asked.quantity}`, `lines[${index}].quantity`);
    }
    quantities.set(asked.lineNo, asked.quantity);
  });
  return quantities;
}

export function completeReturn(ctx: RuleContext, command: CompleteReturn): RuleOutput {
  const record = requireHeld(ctx, command.storeId, command.returnId);
  // The sweep releases a bounded number of holds per batch; one past its TTL is never posted.
  if (record.expiresAtMs <= ctx.nowMs) fail('RETURN_NOT_HELD', `return ${record.returnId} expired at ${record.expiresAtMs}; authorize it again`, 'returnId');
  const quantities = completionQuantities(record, command);
  const policy = effectivePolicy(requireStore(ctx.tx, record.storeId), ctx.defaultPolicy);
  const deltas = holdDeltas(record, -1);
  applyDeltas(ctx.tx, deltas, policy);
  const posted = postLines(ctx, record, quantities, policy);
  deltas.push(...posted.deltas);
  const completedLines = record.lines.map((line) => ({ ...line, completedQuantity: quantities.get(line.lineNo) ?? 0 }));
  ctx.tx.put('returns', [record.storeId, record.returnId], { ...record, status: 'COMPLETED', endedAtMs: ctx.nowMs, lines: completedLines, refunds: posted.refunds });
  endHold(ctx.tx, record);
  const event = completionEvent(ctx.tx, record, completedLines);
  const result: CompleteResult = {
    type: 'ReturnCompleted', returnId: record.returnId,
    lines: completedLines.map((line) => ({ lineNo: line.lineNo, quantity: line.completedQuantity, refundMinor: line.completedQuantity * line.unitRefundMinor })),
    refundMinor: posted.refundMinor, refunds: posted.refunds, event, differenceMinor: posted.refundMinor - posted.replacementTotalMinor,
  };
  if (record.receiptId !== undefined) result.receiptId = record.receiptId;
  if (record.replacement !== undefined) Object.assign(result, { replacementReceiptId: record.replacement.receiptId, replacementTotalMinor: posted.replacementTotalMinor });
  return { result, storeId: record.storeId, deltas, ref: returnRef(record), decision: 'COMPLETED', event };
}

/**
 * The refund a completion pays: out of the allocation its authorization held (and reported to the
 * register), in that order, up to the amount completed; what a partial completion leaves is
 * released with the rest of the hold. Never a new split: tenders freed or policy changed since the
 * authorization must not move the money to other tenders than the ones that were held.
 */
function payOutHeld(record: ReturnRecord, amountMinor: number): RefundAllocation[] {
  const held = record.refunds.map((refund) => ({ tenderType: refund.tenderType, tenderIndex: refund.tenderIndex, roomMinor: refund.amountMinor }));
  return takeInOrder(amountMinor, held, `completion of ${record.returnId} would refund ${amountMinor}, more than its authorization held`);
}

/** Posts returned units into their disposition buckets, refunds them, and sells the replacement. */
function postLines(ctx: RuleContext, record: ReturnRecord, quantities: Map<number, number>, policy: Policy) {
  const deltas: Delta[] = [];
  let refundMinor = 0;
  for (const line of record.lines) {
    const quantity = quantities.get(line.lineNo) ?? 0;
    if (quantity === 0) continue;
    refundMinor += quantity * line.unitRefundMinor;
    deltas.push({ kind: 'position', storeId: record.storeId, sku: line.sku, field: line.disposition, delta: quantity });
    if (record.receiptId !== undefined && line.receiptLineNo !== undefined) {
      deltas.push({ kind: 'line', storeId: record.storeId, receiptId: record.receiptId, lineNo: line.receiptLineNo, returned: quantity, held: 0 });
    }
  }
  const replacement = record.replacement;
  const replacementTotalMinor = replacement?.lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0) ?? 0;
  const refunds = payOutHeld(record, Math.max(0, refundMinor - replacementTotalMinor));
  deltas.push(...tenderDeltas(record.storeId, record.receiptId, refunds, 1, 'refunded'));
  if (replacement !== undefined) deltas.push(...sellReplacement(ctx, record, refundMinor, replacementTotalMinor));
  applyDeltas(ctx.tx, deltas, policy);
  return { deltas, refundMinor, refunds, replacementTotalMinor };
}

/** The replacement becomes a receipt of its own, paid by the returned goods' credit first. */
function sellReplacement(ctx: RuleContext, record: ReturnRecord, creditMinor: number, totalMinor: number): Delta[] {
  const replacement = record.replacement;
  if (replacement === undefined) return [];
  const store = requireStore(ctx.tx, record.storeId);
  const creditUsedMinor = Math.min(creditMinor, totalMinor);
  const tenders = [
    { tenderType: 'STORE_CREDIT' as const, amountMinor: creditUsedMinor },
    { tenderType: 'OTHER' as const, amountMinor: totalMinor - creditUsedMinor },
  ].filter((tender) => tender.amountMinor > 0);
  const deltas: Delta[] = [createReceipt(ctx.tx, {
    storeId: record.storeId, receiptId: replacement.receiptId, channel: 'STORE', currency: store.currency,
    soldAtMs: ctx.nowMs, origin: 'EXCHANGE', lines: replacement.lines, tenders, customerToken: record.customerToken,
  })];
  for (const line of replacement.lines) {
    deltas.push({ kind: 'position', storeId: record.storeId, sku: line.sku, field: 'SELLABLE', delta: -line.quantity });
  }
  return deltas;
}

function completionEvent(tx: Overlay, record: ReturnRecord, lines: readonly HeldReturnLine[]): 'return.full' | 'return.partial' {
  if (record.receiptId === undefined) {
    return lines.every((line) => line.completedQuantity === line.approvedQuantity) ? 'return.full' : 'return.partial';
  }
  const receipt = readReceipt(tx, record.storeId, record.receiptId);
  return receipt !== undefined && receipt.lines.every((line) => line.returnedQuantity === line.quantity) ? 'return.full' : 'return.partial';
}

/** Releases a held return: by a register's void, or by the writer when its TTL has passed. */
export function releaseReturn(ctx: RuleContext, storeId: string, returnId: string, status: 'VOIDED' | 'EXPIRED'): RuleOutput {
  const record = requireHeld(ctx, storeId, returnId);
  const policy = effectivePolicy(requireStore(ctx.tx, storeId), ctx.defaultPolicy);
  const deltas = holdDeltas(record, -1);
  applyDeltas(ctx.tx, deltas, policy);
  ctx.tx.put('returns', [storeId, returnId], { ...record, status, endedAtMs: ctx.nowMs });
  endHold(ctx.tx, record);
  return { result: { type: 'ReturnVoided', returnId }, storeId, deltas, ref: returnRef(record), decision: status };
}

export function voidReturn(ctx: RuleContext, command: VoidReturn): RuleOutput {
  return releaseReturn(ctx, command.storeId, command.returnId, 'VOIDED');
}

export function exchange(ctx: RuleContext, command: Exchange): RuleOutput {
  const authorized = authorizeReturn(ctx, command);
  const authorization = authorized.result as AuthorizeResult;
  if (authorization.decision === 'DECLINED') {
    return { ...authorized, result: { type: 'Exchanged', authorization } };
  }
  const completed = completeReturn(ctx, { type: 'CompleteReturn', storeId: command.storeId, returnId: command.returnId });
  const output: RuleOutput = {
    result: { type: 'Exchanged', authorization, completion: completed.result as CompleteResult },
    storeId: command.storeId,
    deltas: [...authorized.deltas, ...completed.deltas],
    ref: completed.ref,
    decision: authorization.decision,
  };
  if (completed.event !== undefined) output.event = completed.event;
  return output;
}
