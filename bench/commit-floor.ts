/**
 * `npm run bench:commit-floor`: what a durable commit costs on this machine before any ledger
 * code runs, the floor under the shard writers' CPU. For batches of 1, 8 and 64 commands it
 * times, interleaved round by round:
 *
 * - `lmdb`: one synchronous durable LMDB transaction (the ledger's settings and commit) per batch,
 *   each command writing the ledger's pattern of records: a journal entry under the next sequence
 *   number, and an idempotency record, a receipt and a return under random keys, each in its own
 *   database, every database prefilled so the trees have real depth. Random keys dirty a page each,
 *   and LMDB writes each dirty page that is not next to another with its own pwrite.
 * - `append`: the same bytes appended to one file and made durable with one fdatasync per batch,
 *   which is what a write-ahead log would pay per batch.
 *
 * CPU is the process's (user + system, all threads), per commit. Env: BENCH_ROUNDS (5), BENCH_BATCHES (1,8,64),
 * BENCH_COMMITS (400 per batch size and side per round), BENCH_PREFILL (50000 records per database).
 * Results: printed and written to bench/results/commit-floor.json.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { writerDurability } from '../src/ledger/storage.js';
import { interleave, median, printTable, timed, withTempDir, writeResults } from './lib/micro.js';
import type { Timed } from './lib/micro.js';

const roundsCount = Number(process.env.BENCH_ROUNDS ?? 5);
const commitsPerRun = Number(process.env.BENCH_COMMITS ?? 400);
const prefillRecords = Number(process.env.BENCH_PREFILL ?? 50_000);
const batchSizes = (process.env.BENCH_BATCHES ?? '1,8,64').split(',').map(Number).filter((size) => Number.isSafeInteger(size) && size > 0);
/** Value sizes of one command's records, about what the ledger stores for a return (bytes). */
const recordBytes = { journal: 420, idempotency: 320, receipts: 300, returns: 420 } as const;
const commandBytes = Object.values(recordBytes).reduce((sum, bytes) => sum + bytes, 0);
const randomKeyed = ['idempotency', 'receipts', 'returns'] as const;

/** Runs `commit` commitsPerRun times. */
const measure = (commit: () => void): Promise<Timed<void>> =>
  timed(() => {
    for (let index = 0; index < commitsPerRun; index += 1) commit();
  });

function runLmdb(batchSize: number): Promise<Timed<void>> {
  return withTempDir('tillgate-bench-floor-lmdb-', async (path) => {
    const root = open({ path, maxDbs: 8, mapSize: 4 * 1024 ** 3, ...writerDurability });
    const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary', cache: false, compression: false });
    const keyed = randomKeyed.map((name) => ({ db: root.openDB<Buffer, string>({ name, encoding: 'binary', cache: false, compression: false }), value: Buffer.alloc(recordBytes[name], 0x5a) }));
    const entry = Buffer.alloc(recordBytes.journal, 0x5a);
    let seq = 0;
    /** One command's records: the next journal entry and one record under a random key in each other database. */
    const writeCommand = () => {
      seq += 1;
      journal.putSync(seq, entry);
      for (const { db, value } of keyed) db.putSync(randomUUID(), value);
    };
    try {
      root.transactionSync(() => {
        for (let index = 0; index < prefillRecords; index += 1) writeCommand();
      });
      return await measure(() => {
        root.transactionSync(() => {
          for (let command = 0; command < batchSize; command += 1) writeCommand();
        });
      });
    } finally {
      await root.close();
    }
  });
}

function runAppend(batchSize: number): Promise<Timed<void>> {
  return withTempDir('tillgate-bench-floor-append-', async (path) => {
    const fd = openSync(join(path, 'log'), 'a');
    try {
      return await measure(() => {
        const batch = Buffer.alloc(batchSize * commandBytes, 0x5a);
        writeSync(fd, batch);
        fdatasyncSync(fd);
      });
    } finally {
      closeSync(fd);
    }
  });
}

const samples = batchSizes.map((batchSize) => ({ batchSize, lmdb: [] as Timed<void>[], append: [] as Timed<void>[] }));
for (let round = 0; round < roundsCount; round += 1) {
  for (const sample of samples) {
    await interleave(
      round,
      async () => {
        sample.lmdb.push(await runLmdb(sample.batchSize));
      },
      async () => {
        sample.append.push(await runAppend(sample.batchSize));
      },
    );
  }
  process.stderr.write(`round ${round + 1}/${roundsCount} done\n`);
}

const perCommit = (runs: readonly Timed<void>[]) => ({
  wallUsPerCommit: Math.round(median(runs.map((run) => run.wallUs / commitsPerRun))),
  cpuUsPerCommit: Math.round(median(runs.map((run) => run.cpuUs / commitsPerRun))),
  systemUsPerCommit: Math.round(median(runs.map((run) => run.systemUs / commitsPerRun))),
});
const rows = samples.map(({ batchSize, lmdb: lmdbRuns, append: appendRuns }) => {
  const lmdb = perCommit(lmdbRuns);
  const append = perCommit(appendRuns);
  return { batchSize, lmdb, append, lmdbCpuUsPerCommand: Math.round(lmdb.cpuUsPerCommit / batchSize), appendCpuUsPerCommand: Math.round(append.cpuUsPerCommit / batchSize), cpuRatio: Number((lmdb.cpuUsPerCommit / append.cpuUsPerCommit).toFixed(2)) };
});

console.log(`durable commit floor: median of ${roundsCount} interleaved rounds, ${commitsPerRun} commits each; per command 1 journal entry + 3 random-key records (lmdb) or the same bytes appended (append)`);
printTable(
  ['batch', 'lmdb wall µs', 'lmdb CPU µs (sys)', 'append wall µs', 'append CPU µs (sys)', 'lmdb÷append CPU', 'lmdb CPU µs/cmd'],
  rows.map((row) => [
    String(row.batchSize), String(row.lmdb.wallUsPerCommit), `${row.lmdb.cpuUsPerCommit} (${row.lmdb.systemUsPerCommit})`,
    String(row.append.wallUsPerCommit), `${row.append.cpuUsPerCommit} (${row.append.systemUsPerCommit})`, row.cpuRatio.toFixed(2), String(row.lmdbCpuUsPerCommand),
  ]),
);
writeResults('commit-floor', { rounds: roundsCount, commitsPerRun, prefillRecords, recordBytes, rows });
