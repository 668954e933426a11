/**
 * Model-based property test: long random command sequences, sent in random batch sizes, run on a
 * real LMDB ledger and on the in-memory model (model.ts). After every batch the outcomes must be
 * identical (decisions, reasons, quantities, refunds, events, seq, replay flags) and the balances
 * must agree and satisfy the ledger's invariants; at the end verify() must be ok.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { Ledger } from '../../src/ledger/index.js';
import type { Bucket, Command, Envelope, Outcome, Override, Replacement, ReturnLine, SaleLine, Tender } from '../../src/ledger/index.js';
import { LedgerModel, canonical } from './model.js';

const runsCount = Number(process.env.LEDGER_PROPERTY_RUNS ?? 200);
const opsPerRunMax = Number(process.env.LEDGER_PROPERTY_OPS_MAX ?? 60);
const startMs = Date.UTC(2025, 0, 6, 9, 0, 0);
const holdTtlMs = 60_000;
const retentionMs = 2 * 24 * 3600 * 1000;
const dayMs = 24 * 3600 * 1000;

const stores = ['S1', 'S2'] as const;
/** A, B, C: returnable on the store's window; D: never returnable; E: returnable for 2 days only. */
const skus = ['A', 'B', 'C', 'D', 'E'] as const;
const bucketNames: readonly Bucket[] = ['SELLABLE', 'DAMAGED', 'QUARANTINE'];
const terminals = ['T1', 'T2', 'T3'] as const;
const customers = [undefined, 'CUST-1', 'CUST-2'] as const;

// ---- abstract operations: random choices, resolved against what was issued so far -----------

interface LineSpec { sku: number; quantity: number; priceMinor: number }
interface ReturnLineSpec { pick: number; quantity: number; disposition: number; refund: number; wrong: number }

type Op =
  | { kind: 'receive'; store: number; sku: number; bucket: number; quantity: number }
  | { kind: 'adjust'; store: number; sku: number; bucket: number; delta: number }
  | { kind: 'count'; store: number; sku: number; bucket: number; quantity: number }
  | { kind: 'transfer'; store: number; sku: number; from: number; to: number; quantity: number }
  | { kind: 'sale'; store: number; lines: LineSpec[]; split: number; customer: number }
  | { kind: 'import'; store: number; lines: LineSpec[]; split: number; ageDays: number; online: boolean }
  | { kind: 'authorize'; receipt: number; lines: ReturnLineSpec[]; terminal: number; customer: number; override: boolean; replacement: LineSpec[] | null }
  | { kind: 'nonReceipted'; store: number; lines: { sku: number; quantity: number; refundMinor: number; disposition: number }[]; override: boolean; customer: number }
  | { kind: 'complete'; ret: number; partial: { pick: number; quantity: number }[] | null; terminal: number }
  | { kind: 'void'; ret: number; terminal: number }
  | { kind: 'exchange'; receipt: number; lines: ReturnLineSpec[]; customer: number; override: boolean; replacement: LineSpec[] }
  | { kind: 'replay'; pick: number; changeBody: boolean; terminal: number };

type Item = { kind: 'op'; op: Op } | { kind: 'cut' } | { kind: 'tick'; advanceMs: number; sweep: boolean };

const lineSpec = fc.record({ sku: fc.nat(4), quantity: fc.integer({ min: 1, max: 5 }), priceMinor: fc.integer({ min: 0, max: 2500 }) });
const saleLines = fc.array(lineSpec, { minLength: 1, maxLength: 3 });
const replacementLines = fc.array(fc.record({ sku: fc.nat(2), quantity: fc.integer({ min: 1, max: 4 }), priceMinor: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 2 });
const returnLineSpec = fc.record({
  pick: fc.nat(),
  quantity: fc.integer({ min: 1, max: 4 }),
  disposition: fc.nat(2),
  refund: fc.nat(9), // 0-6 price paid, 7-8 a lower refund, 9 more than paid
  wrong: fc.nat(19), // 0: line not on the receipt, 1: another SKU, else a real line
});
const returnLines = fc.array(returnLineSpec, { minLength: 1, maxLength: 3 });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('receive' as const), store: fc.nat(1), sku: fc.nat(4), bucket: fc.nat(2), quantity: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('adjust' as const), store: fc.nat(1), sku: fc.nat(4), bucket: fc.nat(2), delta: fc.integer({ min: -6, max: 6 }).filter((n) => n !== 0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('count' as const), store: fc.nat(1), sku: fc.nat(4), bucket: fc.nat(2), quantity: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), store: fc.nat(1), sku: fc.nat(4), from: fc.nat(2), to: fc.nat(1), quantity: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('sale' as const), store: fc.nat(3), lines: saleLines, split: fc.nat(4), customer: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('import' as const), store: fc.nat(1), lines: saleLines, split: fc.nat(4), ageDays: fc.nat(40), online: fc.boolean() }) },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant('authorize' as const), receipt: fc.nat(), lines: returnLines, terminal: fc.nat(2), customer: fc.nat(2), override: fc.nat(4).map((n) => n === 0), replacement: fc.option(replacementLines, { freq: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('nonReceipted' as const), store: fc.nat(1), lines: fc.array(fc.record({ sku: fc.nat(4), quantity: fc.integer({ min: 1, max: 3 }), refundMinor: fc.integer({ min: 0, max: 2500 }), disposition: fc.nat(2) }), { minLength: 1, maxLength: 2 }), override: fc.boolean(), customer: fc.nat(2) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('complete' as const), ret: fc.nat(), partial: fc.option(fc.array(fc.record({ pick: fc.nat(), quantity: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 2 }), { freq: 2 }), terminal: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('void' as const), ret: fc.nat(), terminal: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('exchange' as const), receipt: fc.nat(), lines: returnLines, customer: fc.nat(2), override: fc.boolean(), replacement: replacementLines }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat(), changeBody: fc.boolean(), terminal: fc.nat(2) }) },
);

const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 14, arbitrary: op.map((o): Item => ({ kind: 'op', op: o })) },
  { weight: 4, arbitrary: fc.constant<Item>({ kind: 'cut' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), advanceMs: fc.constantFrom(1_000, 30_000, holdTtlMs + 1, 3 * holdTtlMs, dayMs, 3 * dayMs), sweep: fc.boolean() }) },
);

// ---- resolution: abstract ops → concrete envelopes ----------------------------------------------

interface IssuedReceipt { storeId: string; receiptId: string; lines: SaleLine[]; batch: number }
interface IssuedReturn { storeId: string; returnId: string; lineNos: number[]; batch: number }

class Resolver {
  private counter = 0;
  readonly receipts: IssuedReceipt[] = [];
  readonly returns: IssuedReturn[] = [];
  readonly sent: Envelope[] = [];
  /** Counts batches, so that what was issued in the batch being built counts as live. */
  batch = 0;

  constructor(
    private readonly nowMs: () => number,
    private readonly model: LedgerModel,
  ) {}

  /** Mostly a receipt that exists (or may, being issued in this batch); sometimes any. */
  private liveReceipt(n: number): IssuedReceipt | undefined {
    const live = this.receipts.filter((r) => r.batch === this.batch || this.model.receipt(r.storeId, r.receiptId) !== undefined);
    return pickRecent(n % 7 === 0 || live.length === 0 ? this.receipts : live, n);
  }

  /** Mostly a return still held (or issued in this batch); sometimes any. */
  private liveReturn(n: number): IssuedReturn | undefined {
    const live = this.returns.filter((r) => r.batch === this.batch || this.model.returnRecord(r.storeId, r.returnId)?.status === 'HELD');
    return pickRecent(n % 7 === 0 || live.length === 0 ? this.returns : live, n);
  }

  private next(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter}`;
  }

  private envelope(command: Command, terminal = 0): Envelope {
    const envelope: Envelope = { idempotencyId: this.next('idem'), actor: { terminalId: terminals[terminal % terminals.length] ?? 'T1' }, command };
    this.sent.push(envelope);
    return envelope;
  }

  resolve(o: Op): Envelope {
    switch (o.kind) {
      case 'receive':
        return this.envelope({ type: 'ReceiveStock', storeId: storeOf(o.store), sku: skuOf(o.sku), bucket: bucketOf(o.bucket), quantity: o.quantity, reference: 'PO' });
      case 'adjust':
        return this.envelope({ type: 'AdjustStock', storeId: storeOf(o.store), sku: skuOf(o.sku), bucket: bucketOf(o.bucket), delta: o.delta, reason: 'shrink' });
      case 'count':
        return this.envelope({ type: 'CountStock', storeId: storeOf(o.store), sku: skuOf(o.sku), bucket: bucketOf(o.bucket), countedQuantity: o.quantity });
      case 'transfer': {
        const from = bucketOf(o.from);
        const to = bucketNames.filter((b) => b !== from)[o.to % 2] ?? 'DAMAGED';
        return this.envelope({ type: 'TransferStock', storeId: storeOf(o.store), sku: skuOf(o.sku), fromBucket: from, toBucket: to, quantity: o.quantity });
      }
      case 'sale': {
        const storeId = storeOf(o.store === 3 ? 1 : 0);
        const lines = saleLinesOf(o.lines);
        const receiptId = this.next('R');
        this.receipts.push({ storeId, receiptId, lines, batch: this.batch });
        const command: Command = { type: 'RecordSale', storeId, receiptId, channel: 'STORE', currency: 'USD', lines, tenders: tendersOf(lines, o.split) };
        const customerToken = customers[o.customer % customers.length];
        if (customerToken !== undefined) command.customerToken = customerToken;
        return this.envelope(command);
      }
      case 'import': {
        const storeId = storeOf(o.store);
        const lines = saleLinesOf(o.lines);
        const receiptId = this.next('IMP');
        this.receipts.push({ storeId, receiptId, lines, batch: this.batch });
        return this.envelope({
          type: 'ImportReceipt', storeId, receiptId, channel: o.online ? 'ONLINE' : 'STORE', currency: 'USD',
          soldAtMs: this.nowMs() - o.ageDays * dayMs, lines, tenders: tendersOf(lines, o.split),
        });
      }
      case 'authorize':
      case 'exchange':
        return this.returnCommand(o);
      case 'nonReceipted': {
        const storeId = storeOf(o.store);
        const returnId = this.next('NR');
        const lines: ReturnLine[] = o.lines.map((line, index) => ({ lineNo: index + 1, sku: skuOf(line.sku), quantity: line.quantity, unitRefundMinor: line.refundMinor, disposition: bucketOf(line.disposition) }));
        this.returns.push({ storeId, returnId, lineNos: lines.map((line) => line.lineNo), batch: this.batch });
        const command: Command = { type: 'AuthorizeReturn', storeId, returnId, lines };
        const customerToken = customers[o.customer % customers.length];
        if (customerToken !== undefined) command.customerToken = customerToken;
        if (o.override) command.override = managerOverride;
        return this.envelope(command);
      }
      case 'complete': {
        const target = this.liveReturn(o.ret) ?? { storeId: 'S1', returnId: 'NO-SUCH-RETURN', lineNos: [1] };
        const command: Command = { type: 'CompleteReturn', storeId: target.storeId, returnId: target.returnId };
        if (o.partial !== null) {
          const lineNos = [...new Set(o.partial.map((p) => pick(target.lineNos, p.pick) ?? 1))];
          command.lines = lineNos.map((lineNo, index) => ({ lineNo, quantity: o.partial?.[index]?.quantity ?? 1 }));
        }
        return this.envelope(command, o.terminal);
      }
      case 'void': {
        const target = this.liveReturn(o.ret) ?? { storeId: 'S1', returnId: 'NO-SUCH-RETURN', lineNos: [1] };
        return this.envelope({ type: 'VoidReturn', storeId: target.storeId, returnId: target.returnId, reason: 'customer changed mind' }, o.terminal);
      }
      case 'replay': {
        const earlier = pick(this.sent, o.pick);
        if (earlier === undefined) return this.envelope({ type: 'ReceiveStock', storeId: 'S1', sku: 'A', bucket: 'SELLABLE', quantity: 1, reference: 'first' });
        // Another terminal retrying the same id: the body decides, not the sender.
        const command = o.changeBody ? changedBody(earlier.command) : structuredClone(earlier.command);
        const envelope: Envelope = { idempotencyId: earlier.idempotencyId, actor: { terminalId: terminals[o.terminal % terminals.length] ?? 'T1' }, command };
        return envelope;
      }
    }
  }

  private returnCommand(o: Extract<Op, { kind: 'authorize' | 'exchange' }>): Envelope {
    const receipt = this.liveReceipt(o.receipt);
    const storeId = receipt?.storeId ?? 'S1';
    const returnId = this.next(o.kind === 'exchange' ? 'EX' : 'RET');
    const lines: ReturnLine[] = o.lines.map((spec, index) => {
      const sold = receipt === undefined ? undefined : pick(receipt.lines, spec.pick);
      const line: ReturnLine = {
        lineNo: index + 1,
        receiptLineNo: spec.wrong === 0 ? 99 : (sold?.lineNo ?? 1),
        sku: spec.wrong === 1 ? skuOf((skus.indexOf((sold?.sku ?? 'A') as never) + 1) % 3) : (sold?.sku ?? 'A'),
        quantity: spec.quantity,
        disposition: bucketOf(spec.disposition),
      };
      const priceMinor = sold?.unitPriceMinor ?? 100;
      if (spec.refund >= 7) line.unitRefundMinor = spec.refund === 9 ? priceMinor + 1 : Math.floor(priceMinor / 2);
      return line;
    });
    this.returns.push({ storeId, returnId, lineNos: lines.map((line) => line.lineNo), batch: this.batch });
    let replacement: Replacement | undefined;
    if (o.replacement !== null) {
      const receiptId = this.next('XR');
      replacement = { receiptId, lines: saleLinesOf(o.replacement) };
      this.receipts.push({ storeId, receiptId, lines: replacement.lines, batch: this.batch });
    }
    const base = { storeId, returnId, receiptId: receipt?.receiptId ?? 'NO-SUCH-RECEIPT', lines };
    const command: Command = o.kind === 'exchange' && replacement !== undefined
      ? { type: 'Exchange', ...base, replacement }
      : { type: 'AuthorizeReturn', ...base };
    if (command.type === 'AuthorizeReturn' && replacement !== undefined) command.replacement = replacement;
    const customerToken = customers[o.customer % customers.length];
    if (customerToken !== undefined) command.customerToken = customerToken;
    if (o.override) command.override = managerOverride;
    return this.envelope(command, o.kind === 'authorize' ? o.terminal : 0);
  }
}

const managerOverride: Override = { operatorId: 'MGR-7', reasonCode: 'GOODWILL' };
const storeOf = (n: number): string => stores[n % stores.length] ?? 'S1';
const skuOf = (n: number): string => skus[n % skus.length] ?? 'A';
const bucketOf = (n: number): Bucket => bucketNames[n % bucketNames.length] ?? 'SELLABLE';

function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

/** Mostly one of the last few (a register completes what it just authorized), sometimes any. */
function pickRecent<T>(list: readonly T[], n: number): T | undefined {
  if (list.length === 0) return undefined;
  if (n % 5 === 0) return list[Math.floor(n / 5) % list.length];
  return list[list.length - 1 - (Math.floor(n / 5) % Math.min(3, list.length))];
}

function saleLinesOf(specs: readonly LineSpec[]): SaleLine[] {
  return specs.map((spec, index) => ({ lineNo: index + 1, sku: skuOf(spec.sku), quantity: spec.quantity, unitPriceMinor: spec.priceMinor }));
}

/** One card, or a split of card then cash (or gift card then card), always adding up to the total. */
function tendersOf(lines: readonly SaleLine[], split: number): Tender[] {
  const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
  if (split === 0) return [{ tenderType: 'CARD', amountMinor: totalMinor, cardMasked: '411111******1111' }];
  const firstMinor = Math.floor((totalMinor * split) / 5);
  return split % 2 === 0
    ? [{ tenderType: 'CARD', amountMinor: firstMinor, cardMasked: '550000******0004' }, { tenderType: 'CASH', amountMinor: totalMinor - firstMinor }]
    : [{ tenderType: 'GIFT_CARD', amountMinor: firstMinor }, { tenderType: 'CARD', amountMinor: totalMinor - firstMinor, cardMasked: '411111******1111' }];
}

/** A still-valid command that differs from the original, so its id must be refused. */
function changedBody(command: Command): Command {
  const copy = structuredClone(command);
  switch (copy.type) {
    case 'ReceiveStock': copy.reference = `${copy.reference}-again`; break;
    case 'AdjustStock': copy.reason = `${copy.reason}-again`; break;
    case 'VoidReturn': copy.reason = `${copy.reason} (again)`; break;
    case 'CountStock': copy.countedQuantity += 1; break;
    case 'TransferStock': copy.quantity += 1; break;
    case 'CompleteReturn': copy.returnId = `${copy.returnId}-X`; break;
    case 'RecordSale': case 'ImportReceipt': copy.receiptId = `${copy.receiptId}-X`; break;
    case 'AuthorizeReturn': case 'Exchange':
      copy.returnId = `${copy.returnId}-X`;
      if (copy.replacement !== undefined) copy.replacement.receiptId = `${copy.replacement.receiptId}-X`;
      break;
    case 'UpsertStore': copy.name = `${copy.name}!`; break;
    case 'UpsertSku': copy.description = `${copy.description}!`; break;
  }
  return copy;
}

// ---- setup, comparison, invariants ----------------------------------------------------------------

function setupEnvelopes(): Envelope[] {
  const actor = { operatorId: 'ADMIN' };
  const commands: Command[] = [
    { type: 'UpsertStore', storeId: 'S1', name: 'Main St', currency: 'USD', policy: { holdTtlMs, velocityReturnsMax: 3, nonReceiptedAmountMaxMinor: 3000 } },
    { type: 'UpsertStore', storeId: 'S2', name: 'Outlet', currency: 'USD', policy: { holdTtlMs, backorderAllowed: true, refundToOriginalTender: false, velocityReturnsMax: 0, nonReceiptedAmountMaxMinor: 0 } },
    ...skus.map((sku): Command => ({ type: 'UpsertSku', sku, description: `item ${sku}`, returnable: sku !== 'D', returnWindowDays: sku === 'E' ? 2 : 0 })),
    ...stores.flatMap((storeId) => skus.map((sku): Command => ({ type: 'ReceiveStock', storeId, sku, bucket: 'SELLABLE', quantity: 12, reference: 'opening' }))),
  ];
  return commands.map((command, index) => ({ idempotencyId: `setup-${index}`, actor, command }));
}

/** Errors compare by code only: their messages are prose. */
function comparable(outcome: Outcome): unknown {
  return outcome.ok ? outcome : { ok: false, code: outcome.error.code };
}

function assertIntegers(value: unknown, path: string): void {
  if (typeof value === 'number') assert.ok(Number.isSafeInteger(value), `${path} = ${value} is not an integer`);
  else if (Array.isArray(value)) value.forEach((v, i) => assertIntegers(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertIntegers(v, `${path}.${k}`);
}

function checkState(ledger: Ledger, model: LedgerModel, context: string): void {
  for (const storeId of stores) {
    const backorder = model.policyOf(storeId).backorderAllowed;
    for (const sku of skus) {
      const position = ledger.getPosition(storeId, sku);
      assert.deepEqual(position, model.position(storeId, sku), `${context}: position ${storeId}/${sku}`);
      assert.ok(position !== undefined);
      assertIntegers(position, `position ${storeId}/${sku}`);
      assert.ok(position.reserved >= 0, `${context}: ${storeId}/${sku} reserved < 0`);
      if (!backorder) {
        assert.ok(position.reserved <= position.sellable, `${context}: ${storeId}/${sku} reserved ${position.reserved} > sellable ${position.sellable}`);
        assert.ok(position.sellable >= 0 && position.damaged >= 0 && position.quarantine >= 0, `${context}: ${storeId}/${sku} on hand < 0`);
      }
    }
  }
  for (const expected of model.receipts()) {
    const receipt = ledger.getReceipt(expected.storeId, expected.receiptId);
    assert.equal(canonical(receipt), canonical(expected), `${context}: receipt ${expected.receiptId}`);
    assert.ok(receipt !== undefined);
    assertIntegers(receipt, `receipt ${receipt.receiptId}`);
    for (const line of receipt.lines) {
      assert.ok(line.returnedQuantity + line.heldQuantity <= line.quantity, `${context}: ${receipt.receiptId} line ${line.lineNo} returned + held > sold`);
    }
    for (const tender of receipt.tenders) assert.ok(tender.refundedMinor + tender.heldRefundMinor <= tender.amountMinor, `${context}: ${receipt.receiptId} refunds > paid`);
  }
  for (const expected of model.returns()) {
    const record = ledger.getReturn(expected.storeId, expected.returnId);
    assert.ok(record !== undefined, `${context}: return ${expected.returnId} missing`);
    assert.equal(record.status, expected.status, `${context}: return ${expected.returnId} status`);
    assert.equal(record.decision, expected.decision, `${context}: return ${expected.returnId} decision`);
    assert.deepEqual(record.lines.map((l) => [l.lineNo, l.approvedQuantity, l.completedQuantity]), expected.lines.map((l) => [l.lineNo, l.approvedQuantity, l.completedQuantity]));
    assert.deepEqual(record.override, expected.override, `${context}: return ${expected.returnId} override`);
  }
}

interface Coverage { [key: string]: number }

function tally(coverage: Coverage, outcome: Outcome): void {
  const add = (key: string) => { coverage[key] = (coverage[key] ?? 0) + 1; };
  if (!outcome.ok) return add(`error:${outcome.error.code}`);
  if (outcome.replay) add('replay');
  const result = outcome.result;
  add(`result:${result.type}`);
  if (result.type === 'ReturnAuthorized' || result.type === 'Sale') {
    add(`${result.type}:${result.decision}`);
    for (const line of result.lines) if (line.reason !== undefined) add(`reason:${line.reason}`);
    if (result.type === 'ReturnAuthorized' && result.overrideApplied) add('override');
  }
  if (result.type === 'ReturnCompleted') add(result.event);
  if (result.type === 'Exchanged') add(`exchange:${result.authorization.decision}`);
}

test('random command batches on LMDB give exactly the reference model outcomes, balances and invariants', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tillgate-property-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const coverage: Coverage = {};
  let runIndex = 0;
  let commandsChecked = 0;
  let expiries = 0;

  const details = await fc.check(
    fc.asyncProperty(fc.array(item, { minLength: 8, maxLength: opsPerRunMax + 25, size: 'max' }), async (items) => {
      runIndex += 1;
      const path = join(root, `run-${runIndex}`);
      mkdirSync(path);
      let nowMs = startMs;
      // Every third run keeps few ids, so forgetting the oldest past the record bound (journal order)
      // is checked against the model as often as forgetting by age.
      const recordsMax = runIndex % 3 === 0 ? 15 : 1_000_000;
      const options = { idempotencyRetentionMs: retentionMs, idempotencyRecordsMax: recordsMax };
      const ledger = Ledger.open({ path, clock: () => nowMs, mapSizeBytes: 256 * 1024 ** 2, ...options });
      const model = new LedgerModel(options);
      const resolver = new Resolver(() => nowMs, model);
      try {
        const runBatch = async (envelopes: Envelope[], context: string) => {
          const seqBefore = model.seq;
          const rememberedBefore = new Set(model.rememberedIds());
          const actual = await ledger.execute(envelopes);
          const expected = model.execute(envelopes, nowMs);
          const remembered = new Set(model.rememberedIds());
          for (const id of rememberedBefore) if (!remembered.has(id)) coverage[recordsMax < 1_000_000 ? 'forgotten:past-bound' : 'forgotten:age'] = (coverage[recordsMax < 1_000_000 ? 'forgotten:past-bound' : 'forgotten:age'] ?? 0) + 1;
          expiries += model.seq - seqBefore - expected.filter((o) => o.ok && !o.replay).length;
          assert.equal(actual.length, envelopes.length);
          actual.forEach((outcome, index) => {
            assert.equal(canonical(comparable(outcome)), canonical(comparable(expected[index] as Outcome)), `${context}: command ${index} ${JSON.stringify(envelopes[index])}`);
            assertIntegers(outcome, 'outcome');
            tally(coverage, outcome);
          });
          commandsChecked += envelopes.length;
          assert.equal(ledger.head().seq, model.seq, `${context}: journal head`);
          checkState(ledger, model, context);
        };
        await runBatch(setupEnvelopes(), 'setup');
        let batch: Envelope[] = [];
        let opsCount = 0;
        let step = 0;
        const flush = async () => {
          if (batch.length === 0) return;
          step += 1;
          await runBatch(batch, `step ${step}`);
          batch = [];
          resolver.batch += 1;
        };
        for (const it of items) {
          if (it.kind === 'op') {
            if (opsCount >= opsPerRunMax) break;
            opsCount += 1;
            batch.push(resolver.resolve(it.op));
          } else {
            await flush();
            if (it.kind === 'tick') {
              nowMs += it.advanceMs;
              if (it.sweep) {
                step += 1;
                await runBatch([], `sweep at step ${step}`);
              }
            }
          }
        }
        await flush();
        const report = ledger.verify();
        assert.deepEqual(report.problems, []);
        assert.equal(report.entries, model.seq);
      } finally {
        await ledger.close();
        rmSync(path, { recursive: true, force: true });
      }
    }),
    { numRuns: runsCount },
  );
  if (details.failed) {
    // The shrunk counterexample and the assertion that failed on it, both in the test's report.
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    t.fail(`${fc.defaultReportMessage(details) ?? 'property failed'}\n${cause}`);
    return;
  }

  t.log(`runs ${runIndex}, commands checked ${commandsChecked}, holds expired ${expiries}`);
  t.log(JSON.stringify(coverage));
  // The generator must reach every path it exists for; a path never taken proves nothing.
  const reached = (key: string) => (coverage[key] ?? 0) > 0;
  for (const key of [
    'replay', 'error:IDEMPOTENCY_CONFLICT', 'Sale:DECLINED', 'Sale:APPROVED', 'ReturnAuthorized:APPROVED', 'ReturnAuthorized:PARTIALLY_APPROVED',
    'ReturnAuthorized:DECLINED', 'return.full', 'return.partial', 'result:ReturnVoided', 'exchange:APPROVED', 'exchange:DECLINED', 'override',
    'reason:QUANTITY_EXCEEDS_RETURNABLE', 'reason:RECEIPT_LINE_NOT_FOUND', 'reason:SKU_MISMATCH', 'reason:AMOUNT_EXCEEDS_PAID',
    'reason:NOT_RETURNABLE', 'reason:OUTSIDE_RETURN_WINDOW', 'reason:INSUFFICIENT_STOCK', 'reason:REPLACEMENT_DECLINED',
    'reason:NON_RECEIPTED_LIMIT', 'reason:NON_RECEIPTED_NOT_ALLOWED', 'error:RETURN_NOT_HELD', 'error:COMPLETE_LINE_INVALID',
    'error:STOCK_WOULD_GO_NEGATIVE', 'result:ReceiptImported', 'forgotten:past-bound',
  ]) {
    t.true(reached(key), `the generator never reached ${key}`);
  }
  t.true(expiries > 0, 'no hold ever expired');
});
