/**
 * The ledger run inline on the main thread, behind the same CommandSink as the pool. It exists
 * so that the pool's worth is measured (bench), not assumed; and for tools that want one process
 * and one thread. Same layout, same batching per event-loop turn, same bounds.
 */
import { availableParallelism } from 'node:os';
import { Ledger } from '../ledger/index.js';
import type { BatchLedger, Envelope, LedgerReader, Outcome, Policy } from '../ledger/index.js';
import { lockDataDir, openLayout, shardPath } from './layout.js';
import { batchBound, poolDefaults, submitToEvery } from './pool.js';
import type { CommandSink, ShardStats } from './pool.js';
import { faultText } from './messages.js';
import { shardOf } from './routing.js';

/** The ledger an inline shard runs, which also serves its reads. */
type ShardLedger = BatchLedger & LedgerReader;

interface InlineShard {
  ledger: ShardLedger;
  /** How to open the shard's ledger again (after a failed commit). */
  open: () => ShardLedger;
  outbox: { envelope: unknown; resolve: (outcome: Outcome) => void }[];
  running: number;
  scheduled: boolean;
  committedCommands: number;
  committedBatches: number;
}

/**
 * Closes a failed ledger, then opens the shard again. Meanwhile the closed ledger answers
 * LEDGER_CLOSED (retryable); if the open fails, the closed one stays, and the next start or a later
 * batch's failure tries again.
 */
function reopen(shard: InlineShard): void {
  const failed = shard.ledger;
  void failed.close().catch(() => undefined).then(() => {
    if (shard.ledger !== failed) return;
    try {
      shard.ledger = shard.open();
    } catch {
      // The disk still fails: the closed ledger keeps refusing until a batch finds it reopened.
    }
  });
}

export class InlineSink implements CommandSink {
  private closing = false;
  /** The one close in progress or done: a second close() waits for the same one. */
  private closed: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Told of a fault outside any one command (InlineSink.open's onWriterFault). */
  private onFault: (shard: number, message: string, clock: boolean) => void = () => undefined;
  /** Gives the data directory back (lockDataDir) once every ledger has closed. */
  private releaseLock: () => void = () => undefined;

  private constructor(
    readonly shardCount: number,
    private readonly shards: InlineShard[],
    private readonly queueCommandsMax: number,
    private readonly batchCommandsMax: number,
  ) {}

  /** openLedger is for benchmarks only: a stand-in for the real ledger, with the same batching around it. */
  static open(options: {
    dataDir: string; shardCount?: number; queueCommandsMax?: number; batchCommandsMax?: number; expirySweepIntervalMs?: number; defaultPolicy?: Partial<Policy>;
    openLedger?: (path: string) => ShardLedger;
    /** As the pool's onWriterFault: a fault outside any one command, or (clock) a wall clock behind the stored time. */
    onWriterFault?: (shard: number, message: string, clock: boolean) => void;
  }): InlineSink {
    const releaseLock = lockDataDir(options.dataDir);
    try {
      const manifest = openLayout(options.dataDir, options.shardCount, availableParallelism());
      const openLedger = options.openLedger ?? ((path: string) => Ledger.open({ path, defaultPolicy: options.defaultPolicy ?? {} }));
      const shards = Array.from({ length: manifest.shardCount }, (_, index): InlineShard => {
        const path = shardPath(options.dataDir, index);
        const open = () => openLedger(path);
        return { ledger: open(), open, outbox: [], running: 0, scheduled: false, committedCommands: 0, committedBatches: 0 };
      });
      const sink = new InlineSink(manifest.shardCount, shards, options.queueCommandsMax ?? poolDefaults.queueCommandsMax, batchBound(options.batchCommandsMax));
      sink.releaseLock = releaseLock;
      if (options.onWriterFault !== undefined) sink.onFault = options.onWriterFault;
      for (const shard of shards) if (shard.ledger.clockWarning !== undefined) sink.report(shard, shard.ledger.clockWarning, true);
      // As each pool writer does: holds past their TTL are released on an idle shard too.
      sink.sweepTimer = setInterval(() => sink.sweepIdle(), options.expirySweepIntervalMs ?? poolDefaults.expirySweepIntervalMs);
      sink.sweepTimer.unref();
      return sink;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  async submit(envelope: Envelope): Promise<Outcome> {
    const command = envelope.command as { type?: unknown; storeId?: unknown };
    if (command.type === 'UpsertSku') return submitToEvery(this.shards, (shard) => this.admission(shard), (shard) => this.enqueue(shard, envelope));
    const shard = this.shards[shardOf(typeof command.storeId === 'string' ? command.storeId : '', this.shardCount)];
    if (shard === undefined) return { ok: false, error: { code: 'INTERNAL', message: 'no shard' } };
    return this.enqueue(shard, envelope);
  }

  private admission(shard: InlineShard): Outcome | undefined {
    if (this.closing) return { ok: false, error: { code: 'SHUTTING_DOWN', message: 'the node is shutting down' } };
    if (shard.outbox.length + shard.running >= this.queueCommandsMax) {
      return { ok: false, error: { code: 'OVERLOADED', message: `queue full (queueCommandsMax ${this.queueCommandsMax})` } };
    }
    return undefined;
  }

  private enqueue(shard: InlineShard, envelope: unknown): Promise<Outcome> {
    const refused = this.admission(shard);
    if (refused !== undefined) return Promise.resolve(refused);
    return new Promise((resolve) => {
      shard.outbox.push({ envelope, resolve });
      if (!shard.scheduled) {
        shard.scheduled = true;
        setImmediate(() => this.drain(shard));
      }
    });
  }

  /**
   * As the shard writer does: one batch at a time, and what arrives meanwhile is the next batch.
   * The commit is synchronous, so here it holds the main thread (and every connection on it)
   * through each fsync: the price of the inline engine, which the benchmark measures.
   */
  private drain(shard: InlineShard): void {
    shard.scheduled = false;
    // A batch is running while `running` counts its commands.
    if (shard.outbox.length === 0 || shard.running > 0) return;
    const batch = shard.outbox.splice(0, this.batchCommandsMax);
    shard.running = batch.length;
    const answer = (outcomeAt: (index: number) => Outcome): void => {
      shard.running = 0;
      batch.forEach((item, index) => item.resolve(outcomeAt(index)));
      this.drain(shard);
    };
    shard.ledger.execute(batch.map((item) => item.envelope)).then(
      (outcomes) => {
        shard.committedCommands += batch.length;
        shard.committedBatches += 1;
        // A failed commit leaves the ledger refusing every write: open the shard again from what is
        // durable, as the pool does by restarting its writer (a reopen that fails is tried again
        // after the next batch, which the failed ledger answers SHARD_UNAVAILABLE).
        if (shard.ledger.failed || shard.ledger.isClosed) reopen(shard);
        answer((index) => outcomes[index] ?? { ok: false, error: { code: 'INTERNAL', message: 'missing outcome' } });
      },
      // A batch that throws outside its commit (a read of a damaged record, say) committed nothing:
      // its callers get an error they may retry, and the shard goes on (and close() can finish).
      (error: unknown) => {
        const message = faultText.batch(error);
        answer(() => ({ ok: false, error: { code: 'INTERNAL', message } }));
        this.report(shard, message);
      },
    );
  }

  reader(storeId: string): LedgerReader {
    const shard = this.shards[shardOf(storeId, this.shardCount)];
    if (shard === undefined) throw new Error(`no shard for ${storeId}`);
    return shard.ledger;
  }

  readers(): readonly LedgerReader[] {
    return this.shards.map((shard) => shard.ledger);
  }

  stats(): ShardStats[] {
    return this.shards.map((shard, index) => ({
      shard: index, alive: true, queuedCommands: shard.outbox.length + shard.running,
      committedCommands: shard.committedCommands, committedBatches: shard.committedBatches, restarts: 0,
    }));
  }

  /** Stops taking work, commits and answers what was accepted before (as the pool's writers do), then closes the ledgers. */
  close(): Promise<void> {
    this.closed ??= this.closeShards();
    return this.closed;
  }

  /** Tells onWriterFault of a shard's fault; a reporter that throws harms nothing. */
  private report(shard: InlineShard, message: string, clock = false): void {
    try {
      this.onFault(this.shards.indexOf(shard), message, clock);
    } catch {
      // The fault was answered to its callers already; a failing report changes nothing.
    }
  }

  /** Runs the expiry sweep (an empty batch) on every shard with nothing queued or running. */
  private sweepIdle(): void {
    for (const shard of this.shards) {
      if (this.closing || shard.outbox.length > 0 || shard.running > 0) continue;
      // Marked busy like a batch, so commands arriving meanwhile wait for it and then drain.
      shard.running = 1;
      void shard.ledger.expireDue().catch((error: unknown) => {
        this.report(shard, faultText.sweep(error));
      }).finally(() => {
        shard.running = 0;
        this.drain(shard);
      });
    }
  }

  private async closeShards(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.closing = true;
    // A queued command always has a drain scheduled or a batch running that drains next, and each
    // batch commits synchronously: waiting a few turns lets the bounded outbox empty.
    for (const shard of this.shards) {
      while (shard.outbox.length > 0 || shard.running > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(this.shards.map((shard) => shard.ledger.close()));
    this.releaseLock();
  }
}
