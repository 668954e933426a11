/**
 * The shard pool: one writer thread per shard, bounded queues, reads without a hop.
 *
 * Commands are routed by store; within one event-loop turn the pool gathers the commands for a
 * shard into messages of at most one batch each (fewer port crossings), and the writer batches
 * further into group commits. A shard whose queue is full refuses at once (OVERLOADED), never queues without limit.
 * A writer that dies fails its in-flight commands (SHARD_UNAVAILABLE, safe to retry with the same
 * idempotency id: the ledger replays what was committed) and is restarted.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { openReader } from '../ledger/index.js';
import type { Envelope, LedgerReader, Outcome, Policy } from '../ledger/index.js';
import { limits } from '../ledger/index.js';
import { lockDataDir, openLayout, shardPath } from './layout.js';
import { decodeMessage, encodeMessage, postEncoded, postPacked } from './messages.js';
import type { FromWriter } from './messages.js';
import { shardOf } from './routing.js';
import type { WriterData } from './shard-worker.js';

export interface PoolOptions {
  dataDir: string;
  /** Fixed at creation; undefined means the recorded count, or the number of cores for a new directory. */
  shardCount?: number;
  /** Commands queued or in flight per shard before new ones are refused. */
  queueCommandsMax?: number;
  batchCommandsMax?: number;
  expirySweepIntervalMs?: number;
  restartDelayMsMax?: number;
  defaultPolicy?: Partial<Policy>;
  idempotencyRetentionMs?: number;
  idempotencyRecordsMax?: number;
  /** The largest each shard's LMDB file may grow (the ledger's default when absent). */
  mapSizeBytes?: number;
  /** Called when a writer dies unexpectedly (for logs and metrics). */
  onWriterExit?: (shard: number, reason: string) => void;
  /** Called after each committed batch (for metrics). */
  onCommitted?: (shard: number, commands: number) => void;
  /**
   * A writer met a fault outside any one command (a batch or an expiry sweep failed as a whole) and
   * went on; or (clock) its ledger opened with the wall clock behind the time it last stored.
   */
  onWriterFault?: (shard: number, message: string, clock: boolean) => void;
  /** Benchmarks only: the writers run this module's ledger in place of the real one (WriterData.ledgerModule). */
  ledgerModule?: WriterData['ledgerModule'];
}

export const poolDefaults = Object.freeze({
  queueCommandsMax: 8192,
  batchCommandsMax: 1024,
  expirySweepIntervalMs: 1000,
  restartDelayMsMax: 5000,
  idempotencyRetentionMs: 7 * 24 * 3600 * 1000,
  idempotencyRecordsMax: 5_000_000,
});

export interface ShardStats {
  shard: number;
  alive: boolean;
  queuedCommands: number;
  committedCommands: number;
  committedBatches: number;
  restarts: number;
  /** The writer's Linux thread id (its row in `top -H`, /proc/<pid>/task/<tid>), when known. */
  threadId?: number;
}

/** What the gRPC server and the TCP gateway submit through: the pool, or the inline ledger. */
export interface CommandSink {
  readonly shardCount: number;
  submit(envelope: Envelope): Promise<Outcome>;
  reader(storeId: string): LedgerReader;
  readers(): readonly LedgerReader[];
  stats(): ShardStats[];
  close(): Promise<void>;
}


/**
 * The batch bound in force: the configured batchCommandsMax within 1..limits.batchCommandsMax (the
 * default when it is not a positive integer; a batch of NaN commands would never send anything).
 */
export function batchBound(configured: number | undefined): number {
  const value = configured !== undefined && Number.isSafeInteger(configured) && configured > 0 ? configured : poolDefaults.batchCommandsMax;
  return Math.min(value, limits.batchCommandsMax);
}

/** A writer that stopped after running this long restarts with the shortest backoff again. */
const restartBackoffResetMs = 60_000;

/** Execute messages a writer holds at once: the batch it runs and the one waiting behind it. */
const requestsInFlightMax = 2;

const refusal = (code: string, message: string): Outcome => ({ ok: false, error: { code, message } });

type OutboxItem = { envelope: unknown; resolve: (outcome: Outcome) => void };

/**
 * One answer for a command every shard runs (UpsertSku: the catalog is replicated). All alike:
 * that answer. Some applied and some not (a writer stopped, say): a retryable refusal, since a
 * retry with the same id replays where it applied and applies where it did not; an idempotency
 * conflict stays one, as no retry can mend it.
 */
function replicatedOutcome(outcomes: readonly Outcome[]): Outcome {
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed === undefined || failed.ok) return outcomes[0] ?? refusal('INTERNAL', 'no shards');
  const applied = outcomes.filter((outcome) => outcome.ok).length;
  if (applied === 0) return failed;
  const conflict = outcomes.find((outcome) => !outcome.ok && outcome.error.code === 'IDEMPOTENCY_CONFLICT');
  if (conflict !== undefined) return conflict;
  return refusal('SHARD_UNAVAILABLE', `recorded on ${applied} of ${outcomes.length} shards (${failed.error.code}: ${failed.error.message}); retry with the same idempotency id`);
}

/**
 * Runs a command on every shard (UpsertSku: the catalog is replicated), admitted by every shard or
 * by none, so a full queue does not leave it on some shards only; one answer for all of them.
 */
export async function submitToEvery<S>(shards: readonly S[], admission: (shard: S) => Outcome | undefined, enqueue: (shard: S) => Promise<Outcome>): Promise<Outcome> {
  for (const shard of shards) {
    const refused = admission(shard);
    if (refused !== undefined) return refused;
  }
  return replicatedOutcome(await Promise.all(shards.map(enqueue)));
}

/**
 * The execute message for these items, encoded once. An envelope msgpack cannot carry (a cycle, a
 * BigInt past 64 bits: only an in-process caller can send such values) is refused and the rest are
 * sent, rather than the encoder throwing on the pool's turn and taking the process down.
 */
function encodeExecute(id: number, items: OutboxItem[]): { items: OutboxItem[]; bytes: Uint8Array } | undefined {
  const encode = (list: OutboxItem[]) => encodeMessage({ kind: 'execute', id, envelopes: list.map((item) => item.envelope) });
  try {
    return { items, bytes: encode(items) };
  } catch {
    const kept = items.filter((item) => {
      try {
        encode([item]);
        return true;
      } catch (error) {
        item.resolve(refusal('INVALID_ARGUMENT', `the command cannot be encoded for its shard's writer: ${error instanceof Error ? error.message : String(error)}`));
        return false;
      }
    });
    return kept.length === 0 ? undefined : { items: kept, bytes: encode(kept) };
  }
}

class Shard {
  worker: Worker | undefined;
  ready = false;
  outbox: OutboxItem[] = [];
  inflight = new Map<number, { resolvers: ((outcome: Outcome) => void)[] }>();
  inflightCommands = 0;
  flushScheduled = false;
  committedCommands = 0;
  committedBatches = 0;
  restarts = 0;
  restartTimer: NodeJS.Timeout | undefined;
  /** When (performance.now()) the current writer said it was ready; cleared when it stops. */
  readyAtMs: number | undefined;
  threadId: number | undefined;
  closed: (() => void) | undefined;

  constructor(readonly index: number) {}

  get queued(): number {
    return this.outbox.length + this.inflightCommands;
  }
}

export class ShardPool implements CommandSink {
  readonly shardCount: number;
  private readonly shards: Shard[];
  private readonly shardReaders: LedgerReader[];
  private readonly options: Required<Omit<PoolOptions, 'shardCount' | 'onWriterExit' | 'onCommitted' | 'onWriterFault' | 'mapSizeBytes' | 'ledgerModule'>> & PoolOptions;
  private nextId = 1;
  private closing = false;
  private closed: Promise<void> | undefined;
  /** Gives the data directory back (lockDataDir) once every writer has closed. */
  private releaseLock: () => void = () => undefined;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly batchCommandsMax: number;

  private constructor(options: PoolOptions, shardCount: number) {
    this.options = { ...poolDefaults, defaultPolicy: {}, ...options };
    this.shardCount = shardCount;
    this.batchCommandsMax = batchBound(this.options.batchCommandsMax);
    this.shards = Array.from({ length: shardCount }, (_, index) => new Shard(index));
    this.shardReaders = [];
  }

  static async start(options: PoolOptions): Promise<ShardPool> {
    const releaseLock = lockDataDir(options.dataDir);
    let pool: ShardPool | undefined;
    try {
      const manifest = openLayout(options.dataDir, options.shardCount, availableParallelism());
      const started = new ShardPool(options, manifest.shardCount);
      pool = started;
      const spawned = await Promise.allSettled(started.shards.map((shard) => started.spawn(shard)));
      const failed = spawned.find((result) => result.status === 'rejected');
      if (failed !== undefined) {
        // A writer's error arrives from its thread as a copy that is not a native Error here.
        const reason: unknown = failed.reason;
        const message = typeof reason === 'object' && reason !== null && 'message' in reason ? String(reason.message) : String(reason);
        throw new Error(`a shard writer could not start: ${message}`, { cause: reason });
      }
      for (let index = 0; index < manifest.shardCount; index += 1) {
        started.shardReaders.push(openReader(shardPath(options.dataDir, index), { defaultPolicy: started.options.defaultPolicy }));
      }
      started.releaseLock = releaseLock;
      return started;
    } catch (error) {
      // Nothing of a failed start may outlive it: a writer left running (or restarting) beside the
      // next node on this directory would write the same shard from a stale journal head.
      await pool?.abandon();
      releaseLock();
      throw error;
    }
  }

  /** After a failed start: no restarts, every writer stopped, readers closed. */
  private async abandon(): Promise<void> {
    this.closing = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    await Promise.allSettled(this.shards.map(async (shard) => {
      const worker = shard.worker;
      shard.worker = undefined;
      shard.ready = false;
      await worker?.terminate();
    }));
    for (const reader of this.shardReaders) await reader.close().catch(() => undefined);
  }

  shardFor(storeId: string): number {
    return shardOf(storeId, this.shardCount);
  }

  reader(storeId: string): LedgerReader {
    const reader = this.shardReaders[this.shardFor(storeId)];
    if (reader === undefined) throw new Error(`no reader for store ${storeId}`);
    return reader;
  }

  readers(): readonly LedgerReader[] {
    return this.shardReaders;
  }

  /** Routes by store; the SKU catalog is replicated, so UpsertSku goes to every shard. */
  async submit(envelope: Envelope): Promise<Outcome> {
    const command = envelope.command as { type?: unknown; storeId?: unknown };
    if (command.type === 'UpsertSku') return submitToEvery(this.shards, (shard) => this.admission(shard), (shard) => this.enqueue(shard, envelope));
    const storeId = typeof command.storeId === 'string' ? command.storeId : '';
    const shard = this.shards[this.shardFor(storeId)];
    if (shard === undefined) return refusal('INTERNAL', 'no shard for store');
    return this.enqueue(shard, envelope);
  }

  /** Why a shard cannot take a command now, or undefined when it can. */
  private admission(shard: Shard): Outcome | undefined {
    if (this.closing) return refusal('SHUTTING_DOWN', 'the node is shutting down');
    // A shard whose writer is restarting refuses at once rather than holding callers for as long
    // as the restart takes (which, for a writer that cannot start, is unbounded).
    if (!shard.ready) return refusal('SHARD_UNAVAILABLE', `the writer of shard ${shard.index} is restarting; retry with the same idempotency id`);
    if (shard.queued >= this.options.queueCommandsMax) {
      return refusal('OVERLOADED', `shard ${shard.index} has ${shard.queued} commands queued (queueCommandsMax ${this.options.queueCommandsMax})`);
    }
    return undefined;
  }

  private enqueue(shard: Shard, envelope: unknown): Promise<Outcome> {
    const refused = this.admission(shard);
    if (refused !== undefined) return Promise.resolve(refused);
    return new Promise((resolve) => {
      shard.outbox.push({ envelope, resolve });
      this.scheduleFlush(shard);
    });
  }

  private scheduleFlush(shard: Shard): void {
    if (shard.flushScheduled || !shard.ready) return;
    shard.flushScheduled = true;
    setImmediate(() => this.flush(shard));
  }

  /**
   * Sends the outbox in messages of at most batchCommandsMax commands, while the writer holds
   * fewer than requestsInFlightMax of them; past that it waits, gathering, for the next batch's
   * results (onMessage flushes again). close() forces the rest out. Posting wakes
   * the writer's thread, which costs far more than the bytes; this keeps it to about one post per
   * batch rather than one per arriving command, while one request always waits at the writer so it
   * never idles between batches.
   */
  private flush(shard: Shard, force = false): void {
    shard.flushScheduled = false;
    const worker = shard.worker;
    if (!shard.ready || worker === undefined) return;
    while (shard.outbox.length > 0 && (force || shard.inflight.size < requestsInFlightMax)) {
      // One message is at most one batch: the writer commits a lone oversized request whole.
      const id = this.nextId++;
      const encoded = encodeExecute(id, shard.outbox.splice(0, this.batchCommandsMax));
      if (encoded === undefined) continue;
      shard.inflight.set(id, { resolvers: encoded.items.map((item) => item.resolve) });
      shard.inflightCommands += encoded.items.length;
      postPacked(worker, encoded.bytes);
    }
  }

  private spawn(shard: Shard): Promise<void> {
    const data: WriterData = {
      shard: shard.index,
      path: shardPath(this.options.dataDir, shard.index),
      batchCommandsMax: this.batchCommandsMax,
      expirySweepIntervalMs: this.options.expirySweepIntervalMs,
      defaultPolicy: this.options.defaultPolicy ?? {},
      idempotencyRetentionMs: this.options.idempotencyRetentionMs,
      idempotencyRecordsMax: this.options.idempotencyRecordsMax,
      ...(this.options.mapSizeBytes === undefined ? {} : { mapSizeBytes: this.options.mapSizeBytes }),
      ...(this.options.ledgerModule === undefined ? {} : { ledgerModule: this.options.ledgerModule }),
    };
    const worker = startWorker(writerEntry, data, `shard-${shard.index}`);
    shard.worker = worker;
    return new Promise((resolve, reject) => {
      worker.on('message', (bytes: Uint8Array) => this.onMessage(shard, decodeMessage<FromWriter>(bytes), resolve));
      worker.once('error', (error) => {
        if (!shard.ready) reject(error);
        this.options.onWriterExit?.(shard.index, error.message);
      });
      worker.once('exit', (code) => this.onExit(shard, worker, code));
    });
  }

  private onMessage(shard: Shard, message: FromWriter, ready: () => void): void {
    if (message.kind === 'results') {
      // Acknowledged writes must be visible to the caller's next read on this thread.
      this.shardReaders[shard.index]?.refresh();
      let offset = 0;
      message.requests.forEach((id, index) => {
        const count = message.counts[index] ?? 0;
        const entry = shard.inflight.get(id);
        if (entry !== undefined) {
          shard.inflight.delete(id);
          shard.inflightCommands -= entry.resolvers.length;
          entry.resolvers.forEach((resolve, at) => resolve(message.outcomes[offset + at] ?? refusal('INTERNAL', 'missing outcome')));
        }
        offset += count;
      });
      shard.committedCommands += offset;
      shard.committedBatches += 1;
      this.options.onCommitted?.(shard.index, offset);
      if (shard.outbox.length > 0) this.flush(shard);
    } else if (message.kind === 'fault') {
      this.options.onWriterFault?.(shard.index, message.message, message.clock === true);
    } else if (message.kind === 'ready') {
      shard.ready = true;
      shard.readyAtMs = performance.now();
      shard.threadId = message.threadId;
      ready();
      this.scheduleFlush(shard);
    } else {
      shard.closed?.();
    }
  }

  /** A writer that exits while the pool runs has crashed: fail its in-flight work, restart it. */
  private onExit(shard: Shard, worker: Worker, code: number): void {
    if (shard.worker !== worker) return;
    shard.ready = false;
    shard.worker = undefined;
    const failed = refusal('SHARD_UNAVAILABLE', `the writer of shard ${shard.index} stopped (exit ${code}); retry with the same idempotency id`);
    for (const entry of shard.inflight.values()) entry.resolvers.forEach((resolve) => resolve(failed));
    shard.inflight.clear();
    shard.inflightCommands = 0;
    // Commands not yet sent are refused too: none waits for a restart that may not come.
    for (const item of shard.outbox.splice(0)) item.resolve(failed);
    shard.closed?.();
    if (this.closing) return;
    this.options.onWriterExit?.(shard.index, `exit ${code}`);
    // A writer that ran for a good while before it stopped starts the backoff over (once: the
    // writers that then fail to start never said they were ready, so the backoff grows again).
    if (shard.readyAtMs !== undefined && performance.now() - shard.readyAtMs > restartBackoffResetMs) shard.restarts = 0;
    shard.readyAtMs = undefined;
    this.scheduleRestart(shard);
  }

  /**
   * One restart timer per shard at most: a writer that fails to start reports both an error (its
   * spawn rejects) and an exit, and two timers would start two writers for one shard.
   */
  private scheduleRestart(shard: Shard): void {
    if (this.closing || shard.restartTimer !== undefined) return;
    shard.restarts += 1;
    const delayMs = Math.min(this.options.restartDelayMsMax, 50 * 2 ** Math.min(shard.restarts, 10));
    // Not unref'd: the pool restarts its writer until it is closed.
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      shard.restartTimer = undefined;
      this.respawn(shard);
    }, delayMs);
    shard.restartTimer = timer;
    this.restartTimers.add(timer);
  }

  /** Starts a writer again; a writer that fails to start is retried with the same backoff. */
  private respawn(shard: Shard): void {
    if (this.closing || shard.worker !== undefined) return;
    let started: Promise<void>;
    try {
      started = this.spawn(shard);
    } catch (error) {
      this.options.onWriterExit?.(shard.index, `restart failed: ${String(error)}`);
      this.scheduleRestart(shard);
      return;
    }
    started.catch((error: unknown) => {
      this.options.onWriterExit?.(shard.index, `restart failed: ${String(error)}`);
      this.scheduleRestart(shard);
    });
  }

  /** Test hook and operator tool: stops a writer abruptly, as a crash would. */
  async killShard(index: number): Promise<void> {
    await this.shards[index]?.worker?.terminate();
  }

  stats(): ShardStats[] {
    return this.shards.map((shard) => ({
      shard: shard.index,
      alive: shard.ready,
      queuedCommands: shard.queued,
      committedCommands: shard.committedCommands,
      committedBatches: shard.committedBatches,
      restarts: shard.restarts,
      ...(shard.threadId === undefined ? {} : { threadId: shard.threadId }),
    }));
  }

  /** Stops taking work, lets every writer finish its queue and close its ledger; a second call waits for the same close. */
  close(): Promise<void> {
    this.closed ??= this.closeAll();
    return this.closed;
  }

  private async closeAll(): Promise<void> {
    this.closing = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    for (const shard of this.shards) {
      this.flush(shard, true);
      // Work still waiting for a writer that will not come back is refused, not left hanging.
      for (const item of shard.outbox.splice(0)) item.resolve(refusal('SHUTTING_DOWN', 'the node is shutting down'));
    }
    await Promise.all(this.shards.map((shard) => this.closeShard(shard)));
    for (const reader of this.shardReaders) await reader.close();
    this.releaseLock();
  }

  private async closeShard(shard: Shard): Promise<void> {
    const worker = shard.worker;
    if (worker === undefined) return;
    const closed = new Promise<void>((resolve) => {
      shard.closed = resolve;
    });
    postEncoded(worker, { kind: 'close' });
    await closed;
    await worker.terminate();
  }
}

const writerEntry = new URL(import.meta.url.endsWith('.ts') ? './shard-worker.ts' : './shard-worker.js', import.meta.url);

/** Starts a worker entry; under tsx (tests, development) through the loader shim. */
export function startWorker(entry: URL, data: object, name: string): Worker {
  // No execArgv: the worker inherits the parent's node flags as they are. Passed explicitly, they
  // are checked again, and a V8 or process-wide flag the node was started with (--perf-basic-prof,
  // --max-old-space-size, --v8-pool-size, ...) would stop every writer from starting; those act on
  // the whole process anyway.
  const options = { name };
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { ...options, workerData: data });
  return new Worker(new URL('./tsx-boot.mjs', import.meta.url), { ...options, workerData: { ...data, entry: entry.href } });
}
