/**
 * The journal: one entry per accepted command, written in the same transaction as the state it
 * changes, each hashed (SHA-256) over the previous entry's hash and its own body, so any edit,
 * gap or reordering is detectable. The deltas are the whole state change: verify() recomputes
 * every balance from them.
 */
import { hash as oneShotHash } from 'node:crypto';
import { Packr, RESERVE_START_SPACE, RESET_BUFFER_MODE, REUSE_BUFFER_MODE } from 'msgpackr';
import type { Actor, Bucket, CommandType } from './types.js';

export type PositionField = Bucket | 'RESERVED';

export type Delta =
  | { kind: 'position'; storeId: string; sku: string; field: PositionField; delta: number }
  | { kind: 'receipt'; storeId: string; receiptId: string; lines: { lineNo: number; quantity: number }[]; tendersMinor: number[] }
  | { kind: 'line'; storeId: string; receiptId: string; lineNo: number; returned: number; held: number }
  | { kind: 'tender'; storeId: string; receiptId: string; index: number; refundedMinor: number; heldMinor: number };

export type EntryType = CommandType | 'ExpireReturn';

export interface JournalEntry {
  seq: number;
  atMs: number;
  type: EntryType;
  idempotencyId: string;
  actor: Actor;
  storeId: string;
  /** Ids the entry is about: receipt, return, sku. */
  ref: Record<string, string>;
  /** The business decision, where the command has one. */
  decision?: string;
  /** 'return.full' or 'return.partial' on a completion. */
  event?: string;
  deltas: Delta[];
}

export interface JournalHead {
  seq: number;
  hash: Buffer;
}

export const genesisHash: Buffer = Buffer.alloc(32, 0);
export const hashBytes = 32;

// Records off: a self-describing, deterministic encoding, so the hashed bytes never depend on
// structures shared elsewhere and a reader in another process decodes them alone.
const packr = new Packr({ useRecords: false, variableMapSize: true });

export function chainHash(previous: Buffer, body: Buffer): Buffer {
  return oneShotHash('sha256', Buffer.concat([previous, body]), 'buffer');
}

/**
 * Memory for the stored entries of one batch, reused batch after batch. An entry's bytes are needed
 * only until the batch's transaction has copied them into LMDB, so the owner resets the arena after
 * each commit. Reuse is the point: on the development VM a first touch of fresh memory (a page
 * fault) cost more than packing the entry, and allocating a buffer per entry, or a chunk that is
 * freed again, touched fresh pages every few entries (bench:ledger profile: ~5% of a command's CPU
 * on the copy into them).
 */
export class EntryArena {
  private readonly chunks: Buffer[] = [];
  private chunkIndex = 0;
  private offset = 0;

  constructor(private readonly chunkBytes = 256 * 1024) {}

  take(length: number): Buffer {
    if (length > this.chunkBytes / 4) return Buffer.allocUnsafeSlow(length);
    let chunk = this.chunks[this.chunkIndex];
    if (chunk !== undefined && this.offset + length > chunk.length) {
      this.chunkIndex += 1;
      this.offset = 0;
      chunk = this.chunks[this.chunkIndex];
    }
    if (chunk === undefined) {
      chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
      this.chunks.push(chunk);
    }
    const slice = chunk.subarray(this.offset, this.offset + length);
    // Word-aligned starts, as msgpackr does, so LMDB's copy of the value is aligned too.
    this.offset = (this.offset + length + 7) & ~7;
    return slice;
  }

  /** Every entry taken so far may be overwritten from now on. */
  reset(): void {
    this.chunkIndex = 0;
    this.offset = 0;
  }
}

/** msgpackr's buffer, with the encoded value at [start, end) (REUSE_BUFFER_MODE). */
type PackedView = Buffer & { start: number; end: number };

/**
 * Encodes an entry as stored: its chain hash, then its body. The body is packed behind 32
 * reserved bytes that first hold the previous hash, so the chain hash is taken over one
 * contiguous range (previous ‖ body) without a concatenation; the stored copy then gets the new
 * hash in those bytes. The stored bytes live only until the arena is reset.
 */
export function encodeEntry(entry: JournalEntry, previous: Buffer, arena: EntryArena): { bytes: Buffer; hash: Buffer } {
  if (previous.length !== hashBytes) throw new Error(`a chain hash is ${hashBytes} bytes, not ${previous.length}`);
  const packed = packr.pack(entry, REUSE_BUFFER_MODE | RESET_BUFFER_MODE | RESERVE_START_SPACE | hashBytes) as PackedView;
  packed.set(previous, packed.start);
  const stored = packed.subarray(packed.start, packed.end);
  const hash = oneShotHash('sha256', stored, 'buffer');
  const bytes = arena.take(stored.length);
  bytes.set(stored);
  bytes.set(hash, 0);
  return { bytes, hash };
}

export function decodeEntry(bytes: Buffer): { entry: JournalEntry; hash: Buffer; body: Buffer } {
  const hash = bytes.subarray(0, hashBytes);
  const body = bytes.subarray(hashBytes);
  return { entry: packr.unpack(body) as JournalEntry, hash, body };
}

/** A stable digest of a command body for idempotency: keys sorted, undefined dropped. */
export function bodyDigest(value: unknown): string {
  return oneShotHash('sha256', canonicalJson(value), 'base64url').slice(0, 32);
}

/** JSON text of each object key seen, so hot keys are escaped once (bounded; misses just recompute). */
const keyTextCache = new Map<string, string>();
const keyTextCacheEntriesMax = 4096;

function keyText(key: string): string {
  let text = keyTextCache.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (keyTextCache.size < keyTextCacheEntriesMax) keyTextCache.set(key, text);
  }
  return text;
}

/** Objects with more keys than this are sorted by Array.prototype.sort; commands' objects have fewer. */
const insertionSortKeysMax = 16;

/**
 * Sorts distinct keys in place by UTF-16 code units, the order of Array.prototype.sort without a
 * comparator. Up to insertionSortKeysMax by insertion: sort() copies the array to a work array on
 * every call, and on the ledger's commands that copy was the largest allocation per command
 * (sampled: 14% of the bytes a batch allocates).
 */
function sortKeys(keys: string[]): void {
  if (keys.length > insertionSortKeysMax) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i += 1) {
    const key = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > key; j -= 1) keys[j + 1] = keys[j] as string;
    keys[j + 1] = key;
  }
}

/** JSON with object keys sorted and undefined members dropped; hot path, so no intermediate arrays. */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i += 1) text += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  sortKeys(keys);
  let text = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    text += `${text.length === 1 ? '' : ','}${keyText(key)}:${canonicalJson(member)}`;
  }
  return `${text}}`;
}
