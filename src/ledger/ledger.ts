/**
 * The single writer of one shard. execute() takes a batch of envelopes, decides each on its own
 * (a failure leaves no trace), appends one journal entry per accepted command, and commits the
 * whole batch in one LMDB transaction (group commit). Outcomes are returned only after the
 * transaction is flushed to disk. Batches run strictly one after another.
 */
import { InvariantError, LedgerError, broken } from './errors.js';
import { EntryArena, bodyDigest, decodeEntry, encodeEntry } from './journal.js';
import type { EntryType, JournalEntry, JournalHead } from './journal.js';
import { limits } from './limits.js';
import { LedgerReader } from './reader.js';
import { releaseReturn, runRule } from './rules/index.js';
import type { RuleContext, RuleOutput } from './rules/index.js';
import { Overlay, openEnvironment } from './storage.js';
import type { Environment } from './storage.js';
import { defaultPolicy as builtInPolicy } from './types.js';
import type { Actor, Command, Outcome, Policy } from './types.js';
import { validateEnvelope } from './validate.js';

export interface LedgerOptions {
  path: string;
  /** Wall clock in ms; injectable so tests can move time (hold expiry, windows, velocity). */
  clock?: () => number;
  /**
   * A clock that never jumps, in ms (performance.now by default; the injected `clock` when only
   * that is given, so tests that move time also move pruning). Idempotency retention is counted on
   * it, so a wall clock that steps forward or back cannot make ids be forgotten early.
   */
  steadyClock?: () => number;
  defaultPolicy?: Partial<Policy>;
  /** How long an idempotency id is remembered. */
  idempotencyRetentionMs?: number;
  /** Most idempotency records kept per shard; the oldest go first past it. */
  idempotencyRecordsMax?: number;
  /** LMDB map size: the largest the shard's file may grow. */
  mapSizeBytes?: number;
}

export const ledgerDefaults = Object.freeze({
  idempotencyRetentionMs: 7 * 24 * 3600 * 1000,
  idempotencyRecordsMax: 5_000_000,
  mapSizeBytes: 64 * 1024 ** 3,
});

interface IdempotencyRecord {
  digest: string;
  /** When it was made, on the retention clock (Ledger.retentionNow): what its age is read from. */
  atMs: number;
  outcome: Outcome;
}

interface BatchState {
  root: Overlay;
  head: JournalHead;
  nowMs: number;
  idempotencyAdded: number;
  /** The retention clock at the start of the batch. */
  retentionNowMs: number;
}

/** Where a command's idempotency record lives, and what it must match. */
interface RecordSlot {
  key: string;
  storeId: string;
  digest: string;
}

const idempotencyCountKey = 'idempotencyCount';
/** Bound on expiry keys remembered as failing; past it they are retried like the others. */
const stuckExpiryKeysMax = 10_000;
/** The last journal seq whose idempotency record pruning has dealt with (forgotten or kept past). */
const idempotencyPrunedSeqKey = 'idempotencyPrunedSeq';
/** How far the wall clock may be behind the stored retention time at open before it is reported. */
const clockDisagreementMsMax = 60_000;
/** The retention clock's last reading stored with an idempotency record (Ledger.retentionNow). */
const idempotencyClockKey = 'idempotencyClockMs';
/** The first journal seq whose idempotency record is keyed by store and id (idempotencyKey). */
const idempotencyScopedFromSeqKey = 'idempotencyScopedFromSeq';

/**
 * An idempotency id names one request of one store, and its record is keyed by both. The pool
 * sends all of a store's commands to one shard, so whether an id is known never depends on the
 * shard count or on where other stores live: the same id sent for two stores is two requests
 * wherever they land (keyed by the id alone, it was a conflict on one shard and applied twice
 * across two). Commands for no store (UpsertSku, sent to every shard) use ''. Ids hold no control
 * characters, so such a key is never the bare id that keyed records before.
 */
function idempotencyKey(storeId: string, id: string): string {
  return `${storeId}\u0000${id}`;
}

/** The store a command's idempotency id is scoped to ('' for commands of no store). */
function scopeOf(command: Command): string {
  return 'storeId' in command ? command.storeId : '';
}

/**
 * What a shard's writer (the pool's worker thread, or the inline engine) needs of the ledger it
 * runs. Ledger is the one the node runs; the benchmarks put a stand-in behind the same engine to
 * measure what the engine and a durable commit cost without the ledger's rules (bench/README.md).
 */
export interface BatchLedger {
  execute(envelopes: readonly unknown[]): Promise<Outcome[]>;
  expireDue(): Promise<void>;
  head(): JournalHead;
  readonly failed: boolean;
  readonly isClosed: boolean;
  /** Set at open when the wall clock disagrees with the time the shard last stored (see Ledger). */
  readonly clockWarning?: string | undefined;
  close(): Promise<void>;
}

export function openReader(path: string, options: { defaultPolicy?: Partial<Policy>; mapSizeBytes?: number } = {}): LedgerReader {
  const env = openEnvironment({ path, readOnly: true, mapSizeBytes: options.mapSizeBytes ?? ledgerDefaults.mapSizeBytes });
  return new LedgerReader(env, { ...builtInPolicy, ...options.defaultPolicy });
}

export class Ledger extends LedgerReader implements BatchLedger {
  /** Head after the last committed batch. */
  private tipHead: JournalHead;
  /** Set when a commit failed: the ledger refuses writes until it is reopened. */
  private fatal: Error | undefined;
  private closed = false;
  private readonly clock: () => number;
  private readonly steadyClock: () => number;
  /** Where the retention clock started when this ledger opened, on the steady clock and in wall time. */
  private readonly openedAt: { wallMs: number; steadyMs: number };
  /** The retention clock's last reading: it never goes back. */
  private retentionLastMs = 0;
  /**
   * Set at open when the wall clock is more than a minute behind the latest retention time the shard
   * stored: a clock is or was wrong. Retention goes on from the stored time, so ids are kept longer;
   * but if the clock was behind before this start too, ids stamped then may be forgotten early (by
   * up to the time the node was down). The owner logs it.
   */
  readonly clockWarning: string | undefined;
  private readonly retentionMs: number;
  private readonly recordsMax: number;
  /** Expiry keys whose release failed with an internal error: passed over by later sweeps. */
  private readonly stuckExpiryKeys = new Set<string>();
  /** The batch's stored journal entries; reset once the batch is committed (or dropped). */
  private readonly arena = new EntryArena();
  /** Entries from this seq on keyed their idempotency records by store and id; earlier ones by the bare id. */
  private readonly scopedFromSeq: number;
  /** Records keyed by the bare id may still be held: until pruning has walked past the last entry that made one. */
  private bareIdRecords: boolean;

  private constructor(env: Environment, options: LedgerOptions) {
    super(env, { ...builtInPolicy, ...options.defaultPolicy });
    this.clock = options.clock ?? Date.now;
    this.steadyClock = options.steadyClock ?? options.clock ?? (() => performance.now());
    const stored = env.dbs.meta.get(idempotencyClockKey) as number | undefined;
    const wallMs = this.clock();
    this.openedAt = { wallMs: Math.max(wallMs, stored ?? 0), steadyMs: this.steadyClock() };
    const behindMs = (stored ?? 0) - wallMs;
    this.clockWarning = behindMs > clockDisagreementMsMax
      ? `the wall clock is ${behindMs} ms behind the latest idempotency time this shard stored: idempotency retention goes on from the stored time; check the clock`
      : undefined;
    this.retentionMs = options.idempotencyRetentionMs ?? ledgerDefaults.idempotencyRetentionMs;
    this.recordsMax = options.idempotencyRecordsMax ?? ledgerDefaults.idempotencyRecordsMax;
    this.tipHead = this.head();
    this.dropTimeIndex();
    this.scopedFromSeq = this.scopeIdempotencyKeys();
    this.bareIdRecords = !this.bareIdRecordsPruned((env.dbs.meta.get(idempotencyPrunedSeqKey) as number | undefined) ?? 0);
  }

  static open(options: LedgerOptions): Ledger {
    const env = openEnvironment({ path: options.path, readOnly: false, mapSizeBytes: options.mapSizeBytes ?? ledgerDefaults.mapSizeBytes });
    return new Ledger(env, options);
  }

  /**
   * Runs a batch as one durable transaction; one outcome per envelope, in order. The batch is
   * decided and committed before this returns (the commit is synchronous), so a batch handed over
   * right after another is decided on its state.
   */
  execute(envelopes: readonly unknown[]): Promise<Outcome[]> {
    if (this.closed) return Promise.resolve(envelopes.map(() => closedOutcome));
    if (envelopes.length > limits.batchCommandsMax) {
      const error = { code: 'BATCH_TOO_LARGE', message: `a batch holds at most ${limits.batchCommandsMax} commands` };
      return Promise.resolve(envelopes.map((): Outcome => ({ ok: false, error })));
    }
    try {
      return Promise.resolve(this.executeBatch(envelopes));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    } finally {
      // LMDB has copied the batch's journal entries (or the batch was dropped): their memory is free.
      this.arena.reset();
    }
  }

  /** Releases holds whose TTL has passed (also done at the start of every batch). */
  async expireDue(): Promise<void> {
    await this.execute([]);
  }

  /** A commit failed: the ledger refuses writes until it is reopened (its owner should reopen it). */
  get failed(): boolean {
    return this.fatal !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await super.close();
  }

  /** Decides every command of a batch on one overlay, then commits the overlay durably. */
  private executeBatch(envelopes: readonly unknown[]): Outcome[] {
    const fatal = this.fatal;
    if (fatal !== undefined) return envelopes.map((): Outcome => ({ ok: false, error: { code: 'SHARD_UNAVAILABLE', message: fatal.message } }));
    const state: BatchState = { root: new Overlay(this.env), head: { ...this.tipHead }, nowMs: this.clock(), idempotencyAdded: 0, retentionNowMs: this.retentionNow() };
    this.sweepExpired(state);
    const outcomes = envelopes.map((envelope) => this.runOne(state, envelope));
    this.pruneIdempotency(state);
    if (state.root.isEmpty) return outcomes;
    try {
      // A synchronous write transaction on this thread: mdb_txn_commit fsyncs the data pages and
      // writes the meta page through its O_DSYNC handle before returning, so the batch is durable
      // when this returns. lmdb's asynchronous transaction() + flushed overlapped the fsync with
      // the next batch, but its hand-offs to lmdb's write thread and back cost more CPU than the
      // overlap saved on a busy machine (bench:ledger and bench:ci, figures in bench/README.md).
      this.env.root.transactionSync(() => state.root.applyInTransaction());
    } catch (error) {
      // A failed commit (disk full, I/O error): nothing of the batch is acknowledged, and the
      // ledger refuses everything until it is reopened from what is durable. The caller may retry
      // with the same ids after that.
      this.fatal = new Error(`commit failed: ${error instanceof Error ? error.message : String(error)}; the shard refuses writes until it is reopened`);
      const message = `${this.fatal.message}; nothing of the batch was committed: retry with the same idempotency id`;
      return outcomes.map((): Outcome => ({ ok: false, error: { code: 'SHARD_UNAVAILABLE', message } }));
    }
    // transactionSync has already dropped this thread's read snapshot: the next batch reads what was committed.
    this.tipHead = state.head;
    return outcomes;
  }

  private runOne(state: BatchState, raw: unknown): Outcome {
    try {
      const envelope = validateEnvelope(raw);
      const storeId = scopeOf(envelope.command);
      const digest = bodyDigest(envelope.command);
      const slot: RecordSlot = { key: idempotencyKey(storeId, envelope.idempotencyId), storeId, digest };
      let prior = state.root.get<IdempotencyRecord>('idempotency', slot.key);
      if (prior === undefined && this.bareIdRecords) prior = state.root.get<IdempotencyRecord>('idempotency', envelope.idempotencyId);
      if (prior !== undefined) {
        if (prior.digest !== digest) {
          throw new LedgerError('IDEMPOTENCY_CONFLICT', `idempotency id ${envelope.idempotencyId} was used with a different request`, 'idempotencyId');
        }
        return prior.outcome.ok ? { ...prior.outcome, replay: true } : prior.outcome;
      }
      return this.apply(state, envelope.command.type, envelope.idempotencyId, envelope.actor, (ctx) => runRule(ctx, envelope.command), slot);
    } catch (error) {
      return failure(error);
    }
  }

  /** Runs one rule in a savepoint of the batch overlay, journals it, remembers its id; undone on failure. */
  private apply(state: BatchState, type: EntryType, idempotencyId: string, actor: Actor, rule: (ctx: RuleContext) => RuleOutput, record?: RecordSlot): Outcome {
    const tx = state.root;
    tx.savepoint();
    try {
      const output = rule({ tx, nowMs: state.nowMs, defaultPolicy: this.defaultPolicy });
      const seq = state.head.seq + 1;
      const entry: JournalEntry = { seq, atMs: state.nowMs, type, idempotencyId, actor, storeId: output.storeId, ref: output.ref, deltas: output.deltas };
      if (output.decision !== undefined) entry.decision = output.decision;
      if (output.event !== undefined) entry.event = output.event;
      const { bytes, hash } = encodeEntry(entry, state.head.hash, this.arena);
      tx.appendJournal(seq, bytes);
      const outcome: Outcome = { ok: true, result: output.result, replay: false, seq };
      if (record !== undefined) {
        // Pruning finds the record again from the journal entry's store: they must be the same.
        if (output.storeId !== record.storeId) broken(`a ${type} entry is for store '${output.storeId}', its command for '${record.storeId}'`);
        tx.put('idempotency', record.key, { digest: record.digest, atMs: state.retentionNowMs, outcome } satisfies IdempotencyRecord);
        state.idempotencyAdded += 1;
      }
      tx.release();
      state.head = { seq, hash };
      return outcome;
    } catch (error) {
      tx.rollback();
      throw error;
    }
  }

  private sweepExpired(state: BatchState): void {
    // Keys that failed are passed over (not counted against the bound), so they cannot keep the
    // holds behind them from ever being released.
    const due = this.env.dbs.expiry.getKeys({ end: [state.nowMs + 1], limit: limits.expirySweepHoldsMax + this.stuckExpiryKeys.size });
    let released = 0;
    for (const key of due) {
      if (released >= limits.expirySweepHoldsMax) break;
      const [expiresAtMs, storeId, returnId] = key as [number, string, string];
      const id = `${expiresAtMs}\u0000${storeId}\u0000${returnId}`;
      if (this.stuckExpiryKeys.has(id)) continue;
      released += 1;
      try {
        this.apply(state, 'ExpireReturn', `expire:${storeId}:${returnId}`, {}, (ctx) => releaseReturn(ctx, storeId, returnId, 'EXPIRED'));
      } catch (error) {
        // A hold that can no longer be released (already ended) only leaves a stale index key.
        // Anything else is a bug: the key stays (verify reports the hold) and this ledger stops
        // retrying it until it is reopened.
        if (error instanceof LedgerError) state.root.remove('expiry', key);
        else if (this.stuckExpiryKeys.size < stuckExpiryKeysMax) this.stuckExpiryKeys.add(id);
      }
    }
  }

  /**
   * The clock an idempotency record's age is read on: the wall clock when the ledger opened (or the
   * last reading stored, if that is later), plus the steady time since; it never goes back. A wall
   * clock that steps forward or back while the ledger runs moves it neither way. What it cannot
   * know is the time that passed while the node was down: a wall clock already behind when the
   * ledger opens makes records stamped meanwhile look younger than they are, so they are forgotten
   * late, then early by up to that downtime once the clock is put right and the ledger reopens
   * (clockWarning reports a clock behind the stored time). One ahead is kept: records are
   * forgotten late, never early; only the record bound prunes meanwhile.
   */
  private retentionNow(): number {
    this.retentionLastMs = Math.max(this.retentionLastMs, this.openedAt.wallMs + (this.steadyClock() - this.openedAt.steadyMs));
    return this.retentionLastMs;
  }

  /**
   * Forgets idempotency ids past retention, and the oldest past the record bound, oldest first.
   * The journal is the commit-order index: entries name their id, so pruning walks it from where it
   * last stopped and writes nothing per command. A record is dropped only if it is still the one
   * that entry created (its outcome's seq), since an id forgotten earlier may have been used again
   * since; entries with no such record are passed over. The walk stops at the first record younger
   * than the cutoff (once the record bound is met). Its age is its own stamp on the retention
   * clock, and the cutoff is the earlier of that clock and the wall clock, less the retention: a
   * record is forgotten late (while the wall clock is behind) but never early. Bounded per batch in
   * entries read and in records dropped.
   */
  private pruneIdempotency(state: BatchState): void {
    const count = (state.root.get<number>('meta', idempotencyCountKey) ?? 0) + state.idempotencyAdded;
    const overflow = Math.max(0, count - this.recordsMax);
    const cutoffMs = Math.min(state.nowMs, state.retentionNowMs) - this.retentionMs;
    const prunedSeq = state.root.get<number>('meta', idempotencyPrunedSeqKey) ?? 0;
    let lastSeq = prunedSeq;
    let pruned = 0;
    for (const { key, value } of this.env.journal.getRange({ start: prunedSeq + 1, limit: limits.idempotencyPruneEntriesMax })) {
      if (pruned >= limits.idempotencyPruneRecordsMax) break;
      const { entry } = decodeEntry(value);
      if (entry.type !== 'ExpireReturn') {
        const recordKey = key < this.scopedFromSeq ? entry.idempotencyId : idempotencyKey(entry.storeId, entry.idempotencyId);
        const record = state.root.get<IdempotencyRecord>('idempotency', recordKey);
        if (record !== undefined && record.outcome.ok && record.outcome.seq === key) {
          if (record.atMs >= cutoffMs && pruned >= overflow) break;
          state.root.remove('idempotency', recordKey);
          pruned += 1;
        }
      }
      lastSeq = key;
    }
    if (lastSeq !== prunedSeq) state.root.put('meta', idempotencyPrunedSeqKey, lastSeq);
    // Once past, for good: a batch whose commit fails leaves the ledger failed, and it is reopened.
    if (this.bareIdRecords && this.bareIdRecordsPruned(lastSeq)) this.bareIdRecords = false;
    if (state.idempotencyAdded > 0 || pruned > 0) state.root.put('meta', idempotencyCountKey, count - pruned);
    if (state.idempotencyAdded > 0) state.root.put('meta', idempotencyClockKey, state.retentionNowMs);
  }

  /**
   * Data directories written before pruning followed the journal kept a time index of every id
   * (the idempotencyTime database) and pruned from it. On the first open by this build, the
   * journal cursor starts just before the oldest id the index still held, so the entries whose
   * records were already forgotten are not read again, and the index is emptied; both in one
   * transaction.
   */
  private dropTimeIndex(): void {
    const index = this.env.dbs.idempotencyTime;
    if (index.getKeysCount({ limit: 1 }) === 0) return;
    // The old index ran in time order, which is commit order unless the clock stepped back; the
    // oldest seq among its first keys covers that. A record older still is kept (never forgotten
    // early) and only counts toward idempotencyRecordsMax.
    let oldestSeq = Number.POSITIVE_INFINITY;
    for (const key of index.getKeys({ limit: limits.idempotencyPruneEntriesMax })) {
      const [, id] = key as [number, string];
      const record = this.env.dbs.idempotency.get(id) as IdempotencyRecord | undefined;
      if (record?.outcome.ok === true) oldestSeq = Math.min(oldestSeq, record.outcome.seq);
    }
    let prunedSeq = Number.isFinite(oldestSeq) ? oldestSeq - 1 : this.tipHead.seq;
    // A directory this build already pruned, then opened by an earlier build: never move forward
    // past records this build made (the earlier build did not index them).
    const existing = this.env.dbs.meta.get(idempotencyPrunedSeqKey) as number | undefined;
    if (existing !== undefined) prunedSeq = Math.min(prunedSeq, existing);
    this.env.root.transactionSync(() => {
      this.env.dbs.meta.putSync(idempotencyPrunedSeqKey, prunedSeq);
      index.clearSync();
    });
  }

  /** Whether pruning, having dealt with every entry up to prunedSeq, has passed every bare-id record. */
  private bareIdRecordsPruned(prunedSeq: number): boolean {
    return prunedSeq >= this.scopedFromSeq - 1;
  }

  /**
   * Directories written before records were keyed by store (idempotencyKey) keyed them by the bare
   * id. The first open by this build records the seq from which keys are scoped; until pruning has
   * passed it, an id not found under its scoped key is looked up bare too, so a retry that spans
   * the upgrade still replays. Returns that seq (1 for a directory this build created).
   */
  private scopeIdempotencyKeys(): number {
    const recorded = this.env.dbs.meta.get(idempotencyScopedFromSeqKey) as number | undefined;
    if (recorded !== undefined) return recorded;
    const fromSeq = this.tipHead.seq + 1;
    this.env.root.transactionSync(() => this.env.dbs.meta.putSync(idempotencyScopedFromSeqKey, fromSeq));
    return fromSeq;
  }
}

const closedOutcome: Outcome = { ok: false, error: { code: 'LEDGER_CLOSED', message: 'the ledger is closed' } };

function failure(error: unknown): Outcome {
  if (error instanceof LedgerError) return { ok: false, error: error.toInfo() };
  const message = error instanceof InvariantError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  return { ok: false, error: { code: 'INTERNAL', message } };
}
