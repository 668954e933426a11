/**
 * One LMDB environment per shard, its named databases, and the write overlay that lets a batch
 * of commands be decided one by one (each succeeding or failing on its own) and then committed in
 * a single durable transaction.
 */
import { open } from 'lmdb';
import type { Database, DatabaseOptions, Key, RootDatabase } from 'lmdb';

export const databaseNames = [
  'meta', // shard metadata and the journal head
  'stores', // storeId -> Store
  'skus', // sku -> Sku
  'positions', // [storeId, sku] -> Position
  'receipts', // [storeId, receiptId] -> Receipt
  'returns', // [storeId, returnId] -> ReturnRecord
  'reservedReceiptIds', // [storeId, receiptId] -> returnId, for replacement receipts of held exchanges
  'expiry', // [expiresAtMs, storeId, returnId] -> true, for held returns only
  'velocity', // [storeId, customerToken] -> number[] (approved-return times, newest last)
  'idempotency', // storeId \0 idempotencyId -> IdempotencyRecord (the bare id in records from before format 2)
  'idempotencyTime', // no longer written: emptied on open (pruning walks the journal; see Ledger.pruneIdempotency)
] as const;
export type DatabaseName = (typeof databaseNames)[number];

export interface Environment {
  root: RootDatabase;
  /**
   * The writer's copy of rarely-changing registries (stores, SKUs) as committed. Valid because the
   * writer is the only one that changes them; read on nearly every command.
   */
  registryCache: Map<string, unknown>;
  dbs: Record<DatabaseName, Database<unknown, Key>>;
  /** seq -> 32-byte SHA-256 chain hash followed by the msgpack entry body. */
  journal: Database<Buffer, number>;
}

export interface EnvironmentOptions {
  path: string;
  readOnly: boolean;
  mapSizeBytes: number;
}

/**
 * How a shard writer's environment writes and syncs; the benchmarks' raw-LMDB baselines open theirs
 * with the same. The writer commits with transactionSync, which fsyncs before it returns (see
 * Ledger.executeBatch). overlappingSync is kept for its meta-page handling: with it a durable
 * synchronous commit measured about 10% less CPU and 40% less wall time than without.
 */
export const writerDurability = Object.freeze({ overlappingSync: true, noSync: false, useWritemap: false, compression: false, cache: false });

export function openEnvironment(options: EnvironmentOptions): Environment {
  const root = open({
    path: options.path,
    readOnly: options.readOnly,
    maxDbs: 16,
    mapSize: options.mapSizeBytes,
    ...writerDurability,
    overlappingSync: !options.readOnly,
  });
  const dbs = {} as Record<DatabaseName, Database<unknown, Key>>;
  for (const name of databaseNames) {
    // Plain msgpack maps, no record structures (useRecords is read by lmdb-js but missing from its
    // types): it then skips its structure bookkeeping on every read and write. Measured on ledger
    // records: gets about 2x and puts about 1.4x cheaper, values a little larger. Records written
    // with structures (each carrying its own definition) still decode, so the format is unchanged.
    const options: DatabaseOptions & { name: string; useRecords: boolean } = { name, cache: false, compression: false, useRecords: false };
    dbs[name] = root.openDB(options);
  }
  const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary', cache: false, compression: false });
  return { root, dbs, journal, registryCache: new Map() };
}

interface Write {
  db: DatabaseName;
  key: Key;
  /** undefined means remove. */
  value: unknown;
}

const cachedDatabases: ReadonlySet<DatabaseName> = new Set<DatabaseName>(['stores', 'skus']);
/** Bound on cached registry entries; past it, lookups go to LMDB (still correct, only slower). */
const registryCacheEntriesMax = 100_000;

function slot(db: DatabaseName, key: Key): string {
  return `${db}\u0001${Array.isArray(key) ? key.join('\u0000') : String(key)}`;
}

/**
 * Reads through to LMDB, writes into memory. A command runs inside a savepoint: on success its
 * writes stay in the batch, on failure rollback() restores every slot it touched and drops its
 * journal entry, so a failed command leaves no trace. Records handed out are shared: rules treat
 * them as immutable and write new objects.
 */
export class Overlay {
  private readonly writes = new Map<string, Write>();
  private readonly journalWrites: [number, Buffer][] = [];
  /** While a savepoint is open: each slot's write before the command touched it, in order. */
  private undo: [string, Write | undefined][] | undefined;
  private journalMark = 0;

  constructor(private readonly env: Environment) {}

  get<T>(db: DatabaseName, key: Key): T | undefined {
    const id = slot(db, key);
    const write = this.writes.get(id);
    if (write !== undefined) return write.value as T | undefined;
    if (!cachedDatabases.has(db)) return this.env.dbs[db].get(key) as T | undefined;
    const cache = this.env.registryCache;
    if (cache.has(id)) return cache.get(id) as T | undefined;
    const value = this.env.dbs[db].get(key) as T | undefined;
    if (cache.size < registryCacheEntriesMax) cache.set(id, value);
    return value;
  }

  /**
   * The current value (this batch's writes included) of every key of `db` whose first element is
   * `first`: the committed keys, read through the overlay, then the keys first written in this
   * batch. Keys are [first, ...] arrays; those of one `first` are contiguous in LMDB's order (ids
   * hold no control characters), so the scan starts at [first] and stops at the first other one.
   */
  *withFirstElement<T>(db: DatabaseName, first: string): Generator<T> {
    const seen = new Set<string>();
    for (const key of this.env.dbs[db].getKeys({ start: [first] })) {
      if (!Array.isArray(key) || key[0] !== first) break;
      const id = slot(db, key);
      seen.add(id);
      const value = this.get<T>(db, key);
      if (value !== undefined) yield value;
    }
    for (const [id, write] of this.writes) {
      if (write.db !== db || seen.has(id) || write.value === undefined) continue;
      if (Array.isArray(write.key) && write.key[0] === first) yield write.value as T;
    }
  }

  put(db: DatabaseName, key: Key, value: unknown): void {
    this.set(slot(db, key), { db, key, value });
  }

  remove(db: DatabaseName, key: Key): void {
    this.set(slot(db, key), { db, key, value: undefined });
  }

  private set(id: string, write: Write): void {
    this.undo?.push([id, this.writes.get(id)]);
    this.writes.set(id, write);
  }

  appendJournal(seq: number, bytes: Buffer): void {
    this.journalWrites.push([seq, bytes]);
  }

  /** Opens a savepoint: what follows is kept by release() or undone by rollback(). */
  savepoint(): void {
    if (this.undo !== undefined) throw new Error('savepoints do not nest');
    this.undo = [];
    this.journalMark = this.journalWrites.length;
  }

  /** Keeps everything written since the savepoint. */
  release(): void {
    this.undo = undefined;
  }

  /** Undoes everything written since the savepoint, newest first. */
  rollback(): void {
    const undo = this.undo;
    if (undo === undefined) throw new Error('rollback without a savepoint');
    for (let index = undo.length - 1; index >= 0; index -= 1) {
      const [id, previous] = undo[index] as [string, Write | undefined];
      if (previous === undefined) this.writes.delete(id);
      else this.writes.set(id, previous);
    }
    this.journalWrites.length = this.journalMark;
    this.undo = undefined;
  }

  get isEmpty(): boolean {
    return this.writes.size === 0 && this.journalWrites.length === 0;
  }

  /** Applies every write inside the current LMDB write transaction. */
  applyInTransaction(): void {
    // The cache must not run ahead of what is committed: drop what this batch changes, refill on read.
    for (const [id, write] of this.writes) if (cachedDatabases.has(write.db)) this.env.registryCache.delete(id);
    for (const write of this.writes.values()) {
      const db = this.env.dbs[write.db];
      if (write.value === undefined) db.removeSync(write.key);
      else db.putSync(write.key, write.value);
    }
    for (const [seq, bytes] of this.journalWrites) this.env.journal.putSync(seq, bytes);
  }
}
