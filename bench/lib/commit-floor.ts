/**
 * The durable-commit floor: what a group commit costs on this machine before any ledger code
 * runs. Used by bench:commit-floor (batch sizes side by side with an append-only log) and by
 * bench/run.ts (at the batch size the gRPC load produced, beside the echo server's CPU per RPC).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { writerDurability } from '../../src/ledger/storage.js';
import { timed, withTempDir } from './micro.js';
import type { Timed } from './micro.js';

/**
 * Value sizes of one command's records, about what the ledger stores for a return (bytes). A
 * return writes at least these: its journal entry, its idempotency record, the return and the
 * receipt (it also moves stock and may index a hold, which the floor leaves out).
 */
export const floorRecordBytes = { journal: 420, idempotency: 320, receipts: 300, returns: 420 } as const;
export const floorCommandBytes = Object.values(floorRecordBytes).reduce((sum, bytes) => sum + bytes, 0);
type KeyedDatabase = 'idempotency' | 'receipts' | 'returns';

/**
 * What each command writes besides its journal entry (the next sequence number), one record under
 * a random key in each database named. `ledger`: the pattern of a return, as bench:commit-floor
 * measures it. `minimal`: what every accepted command must make durable whatever the design, the
 * journal entry and the idempotency record under the client's id (a random UUID from the SDK).
 */
export const floorPatterns = {
  ledger: ['idempotency', 'receipts', 'returns'],
  minimal: ['idempotency'],
} as const satisfies Record<string, readonly KeyedDatabase[]>;
export type FloorPattern = keyof typeof floorPatterns;

export function describePattern(pattern: FloorPattern): string {
  const keyed = floorPatterns[pattern];
  return `1 journal entry + ${keyed.length} random-key record${keyed.length === 1 ? '' : 's'} (${keyed.join(', ')}) per command`;
}

export interface FloorRun {
  batchSize: number;
  commits: number;
  /** Records written to every tree before the timed commits, so the trees have real depth. */
  prefill: number;
  pattern: FloorPattern;
}

/** Runs `commit` `commits` times under one timer. */
const measure = (commits: number, commit: () => void): Promise<Timed<void>> =>
  timed(() => {
    for (let index = 0; index < commits; index += 1) commit();
  });

/**
 * One synchronous durable LMDB transaction (the ledger's settings and commit) per batch, each
 * command writing its pattern's records. Random keys dirty a page each, and LMDB writes each dirty
 * page not next to another with its own pwrite. Only the commits are timed.
 */
export function lmdbCommitFloor({ batchSize, commits, prefill, pattern }: FloorRun): Promise<Timed<void>> {
  return withTempDir('tillgate-bench-floor-lmdb-', async (path) => {
    const root = open({ path, maxDbs: 8, mapSize: 4 * 1024 ** 3, ...writerDurability });
    const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary', cache: false, compression: false });
    const keyed = floorPatterns[pattern].map((name) => ({ db: root.openDB<Buffer, string>({ name, encoding: 'binary', cache: false, compression: false }), value: Buffer.alloc(floorRecordBytes[name], 0x5a) }));
    const entry = Buffer.alloc(floorRecordBytes.journal, 0x5a);
    let seq = 0;
    const writeCommand = () => {
      seq += 1;
      journal.putSync(seq, entry);
      for (const { db, value } of keyed) db.putSync(randomUUID(), value);
    };
    try {
      root.transactionSync(() => {
        for (let index = 0; index < prefill; index += 1) writeCommand();
      });
      return await measure(commits, () => {
        root.transactionSync(() => {
          for (let command = 0; command < batchSize; command += 1) writeCommand();
        });
      });
    } finally {
      await root.close();
    }
  });
}

/** The ledger pattern's bytes per batch appended to one file and made durable with one fdatasync: what a write-ahead log would pay. */
export function appendCommitFloor({ batchSize, commits }: Pick<FloorRun, 'batchSize' | 'commits'>): Promise<Timed<void>> {
  return withTempDir('tillgate-bench-floor-append-', async (path) => {
    const fd = openSync(join(path, 'log'), 'a');
    try {
      return await measure(commits, () => {
        const batch = Buffer.alloc(batchSize * floorCommandBytes, 0x5a);
        writeSync(fd, batch);
        fdatasyncSync(fd);
      });
    } finally {
      closeSync(fd);
    }
  });
}
