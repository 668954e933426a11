/**
 * `tillgate simulate`: N terminals in M stores running a realistic mix against a node through the
 * SDK — sales, receipted full and partial returns, non-receipted returns, exchanges, voids and
 * stock lookups — closed loop (each terminal waits for its answer) or open loop at a fixed offered
 * rate. It creates the stores, SKUs, stock and past receipts it needs when they are missing.
 */
import { randomUUID } from 'node:crypto';
import type { TillgateClient} from '../client/index.js';
import { TillgateError, pb } from '../client/index.js';
import { Histogram } from './histogram.js';

export { Histogram } from './histogram.js';

export interface SimulateOptions {
  client: TillgateClient;
  terminals: number;
  stores: number;
  skus: number;
  durationMs: number;
  /** Offered operations per second (open loop); undefined runs closed loop. */
  ratePerSecond?: number;
  /** Open loop: operations in flight at most; past it an operation is counted as dropped. */
  inflightMax?: number;
  storePrefix?: string;
  progressIntervalMs?: number;
  onProgress?: (progress: Progress) => void;
  /** Skips fixture creation (the load generator of a benchmark that set them up already). */
  skipSetup?: boolean;
}

export interface Progress {
  elapsedMs: number;
  operations: number;
  errors: number;
  opsPerSecond: number;
  p99Ms: number;
}

export interface SimulationSummary {
  durationMs: number;
  operations: number;
  droppedOperations: number;
  rpcs: number;
  opsPerSecond: number;
  rpcsPerSecond: number;
  latencyMs: Record<string, { count: number; p50: number; p99: number; p999: number; max: number }>;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
  histograms: Record<string, ReturnType<Histogram['toJSON']>>;
}

interface SoldReceipt {
  receiptId: string;
  lines: { lineNo: number; sku: string; quantity: number; unitPriceMinor: number }[];
}

interface Terminal {
  id: string;
  storeId: string;
  receipts: SoldReceipt[];
  counter: number;
}

const receiptsPerTerminalMax = 64;
const opWeights: [Operation, number][] = [
  ['sale', 35], ['returnFull', 15], ['returnPartial', 10], ['nonReceipted', 8], ['exchange', 7], ['authorizeVoid', 5], ['lookup', 20],
];
type Operation = 'sale' | 'returnFull' | 'returnPartial' | 'nonReceipted' | 'exchange' | 'authorizeVoid' | 'lookup';

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
/** Names and prices of the simulated fixture, shared with the benchmarks' load generators. */
export const simulatedSku = (index: number) => `SIM-SKU-${String(index).padStart(4, '0')}`;
export const simulatedStoreId = (index: number, prefix = 'SIM-STORE-') => `${prefix}${String(index).padStart(3, '0')}`;
export const simulatedPriceMinor = (sku: string) => 500 + (Number(sku.slice(-4)) % 20) * 125;
const skuName = simulatedSku;
const priceOf = simulatedPriceMinor;

function chooseOperation(): Operation {
  const total = opWeights.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [operation, weight] of opWeights) {
    roll -= weight;
    if (roll < 0) return operation;
  }
  return 'lookup';
}

export class Simulation {
  private readonly stats = new RunStats();
  private readonly runId = randomUUID().slice(0, 8);
  private readonly skus: string[];
  private readonly storeIds: string[];

  constructor(private readonly options: SimulateOptions) {
    this.skus = Array.from({ length: options.skus }, (_, i) => skuName(i));
    this.storeIds = Array.from({ length: options.stores }, (_, i) => simulatedStoreId(i, options.storePrefix));
  }

  /** Creates what is missing: stores, SKUs, stock, and past receipts to return against. */
  async setup(): Promise<void> {
    const client = this.options.client;
    for (const sku of this.skus) {
      const found = await client.getSku({ sku }).catch(() => undefined);
      if (found?.sku === undefined) await client.upsertSku({ sku, description: `simulated item ${sku}`, returnable: true, returnWindowDays: 0 });
    }
    await Promise.all(this.storeIds.map((storeId) => this.setupStore(storeId)));
  }

  private async setupStore(storeId: string): Promise<void> {
    const client = this.options.client;
    const store = await client.getStore({ storeId }).catch(() => undefined);
    if (store?.store === undefined) await client.upsertStore({ storeId, name: `Simulated store ${storeId}`, currency: 'USD' });
    for (const sku of this.skus) {
      const stock = await client.getStock({ storeId, sku });
      const sellable = stock.position?.sellable ?? 0;
      if (sellable < 100_000) await client.receiveStock({ storeId, sku, bucket: pb.Bucket.BUCKET_SELLABLE, quantity: 1_000_000 - sellable, reference: 'simulate' });
    }
  }

  private newTerminal(index: number): Terminal {
    return { id: `SIM-T${String(index).padStart(4, '0')}`, storeId: this.storeIds[index % this.storeIds.length] ?? '', receipts: [], counter: 0 };
  }

  private nextId(terminal: Terminal, kind: string): string {
    terminal.counter += 1;
    return `${kind}-${this.runId}-${terminal.id}-${terminal.counter}`;
  }

  /** Past receipts (sold yesterday, imported) so returns can start at once. */
  async seedReceipts(terminal: Terminal, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const lines = [1, 2].map((lineNo) => {
        const sku = pick(this.skus);
        return { lineNo, sku, quantity: 2, unitPriceMinor: priceOf(sku) };
      });
      const receiptId = this.nextId(terminal, 'PAST');
      const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
      const imported = await this.stats.rpc('ImportReceipt', () => this.options.client.importReceipt({
        storeId: terminal.storeId, receiptId, channel: pb.Channel.CHANNEL_ONLINE, currency: 'USD', soldAtMs: Date.now() - 24 * 3600 * 1000,
        lines, tenders: [{ tenderType: pb.TenderType.TENDER_TYPE_CARD, amountMinor: totalMinor, cardMasked: '411111******1111' }],
      }));
      if (imported !== undefined) terminal.receipts.push({ receiptId, lines });
    }
  }

  private async runOperation(terminal: Terminal, operation: Operation): Promise<void> {
    const receipt = terminal.receipts.length === 0 ? undefined : pick(terminal.receipts);
    if (operation === 'lookup') {
      await this.stats.rpc('GetStock', () => this.options.client.getStock({ storeId: terminal.storeId, sku: pick(this.skus) }));
      this.stats.countOutcome('lookup');
    } else if (operation === 'sale' || receipt === undefined) await this.sale(terminal);
    else if (operation === 'nonReceipted') await this.nonReceipted(terminal);
    else await this.returnAgainst(terminal, receipt, operation);
    this.stats.operations += 1;
  }

  private async sale(terminal: Terminal): Promise<void> {
    const lineCount = 1 + Math.floor(Math.random() * 3);
    const lines = Array.from({ length: lineCount }, (_, i) => {
      const sku = pick(this.skus);
      return { lineNo: i + 1, sku, quantity: 1 + Math.floor(Math.random() * 3), unitPriceMinor: priceOf(sku) };
    });
    const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
    const receiptId = this.nextId(terminal, 'R');
    const response = await this.stats.rpc('RecordSale', () => this.options.client.recordSale({
      storeId: terminal.storeId, receiptId, channel: pb.Channel.CHANNEL_STORE, currency: 'USD', lines,
      tenders: [{ tenderType: pb.TenderType.TENDER_TYPE_CARD, amountMinor: totalMinor, cardMasked: '411111******1111' }],
    }));
    if (response === undefined) return;
    this.stats.countOutcome(`sale:${pb.Decision[response.decision]}`);
    if (response.decision === pb.Decision.DECISION_APPROVED) {
      terminal.receipts.push({ receiptId, lines });
      if (terminal.receipts.length > receiptsPerTerminalMax) terminal.receipts.shift();
    }
  }

  private async nonReceipted(terminal: Terminal): Promise<void> {
    const sku = pick(this.skus);
    const returnId = this.nextId(terminal, 'NR');
    const authorized = await this.stats.rpc('AuthorizeReturn', () => this.options.client.authorizeReturn({
      storeId: terminal.storeId, returnId, lines: [{ lineNo: 1, sku, quantity: 1, unitRefundMinor: 300, disposition: pb.Bucket.BUCKET_QUARANTINE }],
    }));
    if (authorized?.authorization === undefined) return;
    this.countAuthorization(authorized.authorization);
    if (authorized.authorization.decision !== pb.Decision.DECISION_DECLINED) {
      await this.stats.rpc('CompleteReturn', () => this.options.client.completeReturn({ storeId: terminal.storeId, returnId }));
    }
  }

  private countAuthorization(authorization: pb.ReturnAuthorization): void {
    const reason = authorization.lines.find((line) => line.reason !== pb.DeclineReason.DECLINE_REASON_UNSPECIFIED)?.reason;
    const suffix = reason === undefined ? '' : `:${pb.DeclineReason[reason]}`;
    this.stats.countOutcome(`return:${pb.Decision[authorization.decision]}${suffix}`);
  }

  private async returnAgainst(terminal: Terminal, receipt: SoldReceipt, operation: Operation): Promise<void> {
    const client = this.options.client;
    const returnId = this.nextId(terminal, 'RET');
    const partial = operation !== 'returnFull';
    const lines = (partial ? receipt.lines.slice(0, 1) : receipt.lines).map((line, index) => ({
      lineNo: index + 1, receiptLineNo: line.lineNo, sku: line.sku, quantity: partial ? 1 : line.quantity, disposition: pb.Bucket.BUCKET_SELLABLE,
    }));
    if (operation === 'exchange') {
      const sku = pick(this.skus);
      const response = await this.stats.rpc('Exchange', () => client.exchange({
        storeId: terminal.storeId, returnId, receiptId: receipt.receiptId, lines,
        replacement: { receiptId: this.nextId(terminal, 'X'), lines: [{ lineNo: 1, sku, quantity: 1, unitPriceMinor: priceOf(sku) }] },
      }));
      if (response?.authorization !== undefined) this.countAuthorization(response.authorization);
      return;
    }
    const authorized = await this.stats.rpc('AuthorizeReturn', () => client.authorizeReturn({ storeId: terminal.storeId, returnId, receiptId: receipt.receiptId, lines }));
    if (authorized?.authorization === undefined) return;
    this.countAuthorization(authorized.authorization);
    if (authorized.authorization.decision === pb.Decision.DECISION_DECLINED) {
      terminal.receipts = terminal.receipts.filter((candidate) => candidate !== receipt);
      return;
    }
    if (operation === 'authorizeVoid') await this.stats.rpc('VoidReturn', () => client.voidReturn({ storeId: terminal.storeId, returnId, reason: 'customer changed mind' }));
    else await this.stats.rpc('CompleteReturn', () => client.completeReturn({ storeId: terminal.storeId, returnId }));
  }

  /** Runs the mix for the duration and returns the summary. */
  async run(): Promise<SimulationSummary> {
    if (this.options.skipSetup !== true) await this.setup();
    const terminals = Array.from({ length: this.options.terminals }, (_, i) => this.newTerminal(i));
    await Promise.all(terminals.map((terminal) => this.seedReceipts(terminal, 3)));
    this.stats.resetMeasurements();
    const startedMs = Date.now();
    const deadlineMs = startedMs + this.options.durationMs;
    const progress = this.startProgress(startedMs);
    try {
      if (this.options.ratePerSecond === undefined) {
        await Promise.all(terminals.map(async (terminal) => {
          while (Date.now() < deadlineMs) await this.timedOperation(terminal, process.hrtime.bigint());
        }));
      } else await this.openLoop(terminals, startedMs, deadlineMs, this.options.ratePerSecond);
    } finally {
      clearInterval(progress);
    }
    return this.stats.summary(Date.now() - startedMs);
  }

  private async timedOperation(terminal: Terminal, intendedNs: bigint): Promise<void> {
    await this.runOperation(terminal, chooseOperation());
    // Measured from the intended start, so a backed-up open loop shows its queueing delay.
    this.stats.histogram('operation').record(Number(process.hrtime.bigint() - intendedNs) / 1000);
  }

  private async openLoop(terminals: Terminal[], startedMs: number, deadlineMs: number, ratePerSecond: number): Promise<void> {
    const dropped = await runOpenLoop({
      startedMs, deadlineMs, ratePerSecond, inflightMax: this.options.inflightMax ?? 1024,
      start: (index, intendedNs) => this.timedOperation(terminals[index % terminals.length] as Terminal, intendedNs),
    });
    this.stats.dropped += dropped;
  }

  private startProgress(startedMs: number): NodeJS.Timeout {
    const interval = this.options.progressIntervalMs ?? 1000;
    return setInterval(() => {
      const elapsedMs = Date.now() - startedMs;
      this.options.onProgress?.({
        elapsedMs, operations: this.stats.operations, errors: [...this.stats.errors.values()].reduce((a, b) => a + b, 0),
        opsPerSecond: Math.round((this.stats.operations * 1000) / Math.max(1, elapsedMs)), p99Ms: this.stats.histogram('operation').quantileUs(0.99) / 1000,
      });
    }, interval);
  }
}

/**
 * What one run counts: each RPC timed by name, errors by RPC and reason, outcomes, operations;
 * shared by Simulation and the benchmark's returns loop, which report the same summary.
 */
export class RunStats {
  readonly histograms = new Map<string, Histogram>();
  readonly outcomes = new Map<string, number>();
  readonly errors = new Map<string, number>();
  operations = 0;
  dropped = 0;
  rpcs = 0;

  /** The named histogram, created on first use. */
  histogram(name: string): Histogram {
    let histogram = this.histograms.get(name);
    if (histogram === undefined) {
      histogram = new Histogram();
      this.histograms.set(name, histogram);
    }
    return histogram;
  }

  countOutcome(key: string): void {
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }

  /** Forgets the RPCs and errors of setup and seeding, before the measured window. */
  resetMeasurements(): void {
    this.histograms.clear();
    this.errors.clear();
    this.rpcs = 0;
  }

  /** Times one RPC; an error is counted by its reason and swallowed (the operation ends). */
  async rpc<T>(name: string, call: () => Promise<T>): Promise<T | undefined> {
    const startedNs = process.hrtime.bigint();
    this.rpcs += 1;
    try {
      return await call();
    } catch (error) {
      const key = error instanceof TillgateError ? `${name}:${error.reason}` : `${name}:${String(error)}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      return undefined;
    } finally {
      this.histogram(name).record(Number(process.hrtime.bigint() - startedNs) / 1000);
    }
  }

  summary(durationMs: number): SimulationSummary {
    return summarize({ durationMs, operations: this.operations, droppedOperations: this.dropped, rpcs: this.rpcs, histograms: this.histograms, outcomes: this.outcomes, errors: this.errors });
  }
}

/** The highest offered rate `simulate --rate` takes: far beyond what one node serves. */
export const simulatedRateMax = 1_000_000;

/**
 * An open loop: operation n is due at startedMs + n / rate, started then whatever the earlier ones
 * are doing (latency counts from that intended start), unless inflightMax are already in flight,
 * in which case it is dropped and counted. Returns the number dropped.
 */
export async function runOpenLoop(loop: {
  startedMs: number; deadlineMs: number; ratePerSecond: number; inflightMax: number; tickMs?: number;
  start: (index: number, intendedNs: bigint) => Promise<void>;
}): Promise<number> {
  const originNs = process.hrtime.bigint();
  const pending = new Set<Promise<void>>();
  let started = 0;
  let dropped = 0;
  while (Date.now() < loop.deadlineMs) {
    const due = Math.floor(((Date.now() - loop.startedMs) * loop.ratePerSecond) / 1000);
    for (; started < due; started += 1) {
      if (pending.size >= loop.inflightMax) {
        // Full: every operation due until the next tick is dropped, counted in one step (one at a
        // time, an absurd rate kept the loop from ever yielding past its deadline).
        dropped += due - started;
        started = due;
        break;
      }
      const work = loop.start(started, originNs + BigInt(Math.round((started * 1e9) / loop.ratePerSecond)));
      pending.add(work);
      void work.finally(() => pending.delete(work));
    }
    await new Promise((resolve) => setTimeout(resolve, loop.tickMs ?? 2));
  }
  await Promise.all(pending);
  return dropped;
}

/** A run's summary from its counters and per-RPC histograms (RunStats.summary). */
function summarize(run: {
  durationMs: number; operations: number; droppedOperations: number; rpcs: number;
  histograms: ReadonlyMap<string, Histogram>; outcomes: ReadonlyMap<string, number>; errors: ReadonlyMap<string, number>;
}): SimulationSummary {
  const latencyMs: SimulationSummary['latencyMs'] = {};
  const histograms: SimulationSummary['histograms'] = {};
  for (const [name, histogram] of run.histograms) {
    latencyMs[name] = {
      count: histogram.count, p50: histogram.quantileUs(0.5) / 1000, p99: histogram.quantileUs(0.99) / 1000,
      p999: histogram.quantileUs(0.999) / 1000, max: histogram.maxUs / 1000,
    };
    histograms[name] = histogram.toJSON();
  }
  return {
    durationMs: run.durationMs, operations: run.operations, droppedOperations: run.droppedOperations, rpcs: run.rpcs,
    opsPerSecond: (run.operations * 1000) / run.durationMs, rpcsPerSecond: (run.rpcs * 1000) / run.durationMs,
    latencyMs, outcomes: Object.fromEntries(run.outcomes), errors: Object.fromEntries(run.errors), histograms,
  };
}

export function runSimulation(options: SimulateOptions): Promise<SimulationSummary> {
  return new Simulation(options).run();
}
