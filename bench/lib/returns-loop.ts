/**
 * The focused returns workload: each operation is one AuthorizeReturn of one unit against a seeded
 * receipt, then its CompleteReturn — the durable two-phase path the targets are about.
 * Receipts are imported before the measured window (prepare); a terminal that uses up its receipts
 * imports another inside the window, counted as an RPC but not as an operation.
 *
 * It reports the same summary shape as Simulation, so the harness aggregates both the same way.
 */
import type { TillgateClient } from '../../src/client/index.js';
import { pb } from '../../src/client/index.js';
import { RunStats, runOpenLoop, simulatedPriceMinor, simulatedSku, simulatedStoreId } from '../../src/simulate/index.js';
import type { SimulationSummary } from '../../src/simulate/index.js';
import type { Fixture } from './protocol.js';

/** Units per receipt line: a few dozen returns per receipt, as a busy store's order might see. */
const unitsPerLine = 50;
const linesPerReceipt = 2;
const tickMs = 2;

// Simulation's fixture names, so the setup it does serves this workload too.
export { simulatedSku, simulatedStoreId };
const priceOf = simulatedPriceMinor;

interface SeededReceipt {
  receiptId: string;
  lines: { lineNo: number; sku: string; remaining: number }[];
}

interface Terminal {
  id: string;
  storeId: string;
  receipts: SeededReceipt[];
  counter: number;
}

export interface ReturnsLoopOptions {
  client: TillgateClient;
  fixture: Fixture;
  terminals: number;
  receiptsPerTerminal: number;
  runId: string;
}

export class ReturnsLoop {
  private readonly stats = new RunStats();
  private readonly terminals: Terminal[];

  constructor(private readonly options: ReturnsLoopOptions) {
    this.terminals = Array.from({ length: options.terminals }, (_, index) => ({
      id: `BENCH-T${String(index).padStart(4, '0')}`, storeId: simulatedStoreId(index % options.fixture.stores), receipts: [], counter: 0,
    }));
  }

  /** Imports every terminal's receipts; not part of the measured window. */
  async prepare(): Promise<void> {
    await Promise.all(this.terminals.map(async (terminal) => {
      for (let i = 0; i < this.options.receiptsPerTerminal; i += 1) await this.importReceipt(terminal);
    }));
    this.stats.resetMeasurements();
  }

  async run(durationMs: number, ratePerSecond: number | undefined, inflightMax: number): Promise<SimulationSummary> {
    const startedMs = Date.now();
    const deadlineMs = startedMs + durationMs;
    if (ratePerSecond === undefined) {
      await Promise.all(this.terminals.map(async (terminal) => {
        while (Date.now() < deadlineMs) await this.timedOperation(terminal, process.hrtime.bigint());
      }));
    } else await this.openLoop(startedMs, deadlineMs, ratePerSecond, inflightMax);
    return this.stats.summary(Date.now() - startedMs);
  }

  private async openLoop(startedMs: number, deadlineMs: number, ratePerSecond: number, inflightMax: number): Promise<void> {
    this.stats.dropped += await runOpenLoop({
      startedMs, deadlineMs, ratePerSecond, inflightMax, tickMs,
      start: (index, intendedNs) => this.timedOperation(this.terminals[index % this.terminals.length] as Terminal, intendedNs),
    });
  }

  /** Latency from the intended start, so an open loop that falls behind shows its queueing delay. */
  private async timedOperation(terminal: Terminal, intendedNs: bigint): Promise<void> {
    // An operation that could not even start (no receipt to return against) is not counted.
    if (!(await this.authorizeAndComplete(terminal))) return;
    this.stats.operations += 1;
    this.stats.histogram('operation').record(Number(process.hrtime.bigint() - intendedNs) / 1000);
  }

  private async authorizeAndComplete(terminal: Terminal): Promise<boolean> {
    const claim = await this.claimUnit(terminal);
    if (claim === undefined) return false;
    terminal.counter += 1;
    const returnId = `BR-${this.options.runId}-${terminal.id}-${terminal.counter}`;
    const client = this.options.client;
    const authorized = await this.stats.rpc('AuthorizeReturn', () => client.authorizeReturn({
      storeId: terminal.storeId, returnId, receiptId: claim.receiptId,
      lines: [{ lineNo: 1, receiptLineNo: claim.lineNo, sku: claim.sku, quantity: 1, disposition: pb.Bucket.BUCKET_SELLABLE }],
    }));
    const decision = authorized?.authorization?.decision;
    if (decision === undefined) return true;
    this.stats.countOutcome(`return:${pb.Decision[decision]}`);
    if (decision === pb.Decision.DECISION_DECLINED) return true;
    await this.stats.rpc('CompleteReturn', () => client.completeReturn({ storeId: terminal.storeId, returnId }));
    return true;
  }

  /** Takes one unit off a seeded receipt line (client-side bookkeeping), importing a receipt if none is left. */
  private async claimUnit(terminal: Terminal): Promise<{ receiptId: string; lineNo: number; sku: string } | undefined> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      for (const receipt of terminal.receipts) {
        const line = receipt.lines.find((candidate) => candidate.remaining > 0);
        if (line === undefined) continue;
        line.remaining -= 1;
        return { receiptId: receipt.receiptId, lineNo: line.lineNo, sku: line.sku };
      }
      terminal.receipts = [];
      await this.importReceipt(terminal);
    }
    return undefined;
  }

  private async importReceipt(terminal: Terminal): Promise<void> {
    terminal.counter += 1;
    const receiptId = `BP-${this.options.runId}-${terminal.id}-${terminal.counter}`;
    const lines = Array.from({ length: linesPerReceipt }, (_, index) => {
      const sku = simulatedSku((terminal.counter * linesPerReceipt + index) % this.options.fixture.skus);
      return { lineNo: index + 1, sku, quantity: unitsPerLine, unitPriceMinor: priceOf(sku) };
    });
    const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
    const imported = await this.stats.rpc('ImportReceipt', () => this.options.client.importReceipt({
      storeId: terminal.storeId, receiptId, channel: pb.Channel.CHANNEL_ONLINE, currency: 'USD', soldAtMs: Date.now() - 3600 * 1000,
      lines, tenders: [{ tenderType: pb.TenderType.TENDER_TYPE_CARD, amountMinor: totalMinor, cardMasked: '411111******1111' }],
    }));
    if (imported !== undefined) terminal.receipts.push({ receiptId, lines: lines.map((line) => ({ lineNo: line.lineNo, sku: line.sku, remaining: line.quantity })) });
  }
}
