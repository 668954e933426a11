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
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';

const roundsCount = Number(process.env.BENCH_ROUNDS ?? 5);
const commitsPerRun = Number(process.env.BENCH_COMMITS ?? 400);
const prefillRecords = Number(process.env.BENCH_PREFILL ?? 50_000);
const batchSizes = (process.env.BENCH_BATCHES ?? '1,8,64').split(',').map(Number).filter((size) => Number.isSafeInteger(size) && size > 0);
/** Value sizes of one command's records, about what the ledger stores for a return (bytes). */
const recordBytes = { journal: 420, idempotency: 320, receipts: 300, returns: 420 } as const;
const randomKeyed = ['idempotency', 'receipts', 'returns'] as const;

interface Cost {
  wallUsPerCommit: number;
  cpuUsPerCommit: number;
  systemUsPerCommit: number;
}

function measure(commits: number, commit: () => void): Cost {
  const startedCpu = process.cpuUsage();
  const startedNs = process.hrtime.bigint();
  for (let index = 0; index < commits; index += 1) commit();
  const wallUs = Number(process.hrtime.bigint() - startedNs) / 1e3;
  const cpu = process.cpuUsage(startedCpu);
  return { wallUsPerCommit: wallUs / commits, cpuUsPerCommit: (cpu.user + cpu.system) / commits, systemUsPerCommit: cpu.system / commits };
}

async function runLmdb(batchSize: number): Promise<Cost> {
  const path = mkdtempSync(join(tmpdir(), 'tillgate-bench-floor-lmdb-'));
  const root = open({ path, maxDbs: 8, mapSize: 4 * 1024 ** 3, overlappingSync: true, noSync: false, useWritemap: false, compression: false, cache: false });
  const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary', cache: false, compression: false });
  const keyed = randomKeyed.map((name) => ({ name, db: root.openDB<Buffer, string>({ name, encoding: 'binary', cache: false, compression: false }), value: Buffer.alloc(recordBytes[name], 0x5a) }));
  const entry = Buffer.alloc(recordBytes.journal, 0x5a);
  let seq = 0;
  try {
    root.transactionSync(() => {
      for (let index = 0; index < prefillRecords; index += 1) {
        seq += 1;
        journal.putSync(seq, entry);
        for (const { db, value } of keyed) db.putSync(randomUUID(), value);
      }
    });
    return measure(commitsPerRun, () => {
      root.transactionSync(() => {
        for (let command = 0; command < batchSize; command += 1) {
          seq += 1;
          journal.putSync(seq, entry);
          for (const { db, value } of keyed) db.putSync(randomUUID(), value);
        }
      });
    });
  } finally {
    await root.close();
    rmSync(path, { recursive: true, force: true });
  }
}

function runAppend(batchSize: number): Cost {
  const path = mkdtempSync(join(tmpdir(), 'tillgate-bench-floor-append-'));
  const fd = openSync(join(path, 'log'), 'a');
  const commandBytes = Object.values(recordBytes).reduce((sum, bytes) => sum + bytes, 0);
  try {
    return measure(commitsPerRun, () => {
      const batch = Buffer.alloc(batchSize * commandBytes, 0x5a);
      writeSync(fd, batch);
      fdatasyncSync(fd);
    });
  } finally {
    closeSync(fd);
    rmSync(path, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const samples = new Map<number, { lmdb: Cost[]; append: Cost[] }>(batchSizes.map((size) => [size, { lmdb: [], append: [] }]));
for (let round = 0; round < roundsCount; round += 1) {
  for (const batchSize of batchSizes) {
    const sample = samples.get(batchSize);
    if (sample === undefined) continue;
    // Alternate which side goes first, so neither always inherits a warm (or busy) disk.
    if (round % 2 === 0) {
      sample.lmdb.push(await runLmdb(batchSize));
      sample.append.push(runAppend(batchSize));
    } else {
      sample.append.push(runAppend(batchSize));
      sample.lmdb.push(await runLmdb(batchSize));
    }
  }
  process.stderr.write(`round ${round + 1}/${roundsCount} done\n`);
}

const summarize = (costs: Cost[]) => ({
  wallUsPerCommit: Math.round(median(costs.map((cost) => cost.wallUsPerCommit))),
  cpuUsPerCommit: Math.round(median(costs.map((cost) => cost.cpuUsPerCommit))),
  systemUsPerCommit: Math.round(median(costs.map((cost) => cost.systemUsPerCommit))),
});
const rows = batchSizes.map((batchSize) => {
  const sample = samples.get(batchSize) ?? { lmdb: [], append: [] };
  const lmdb = summarize(sample.lmdb);
  const append = summarize(sample.append);
  return { batchSize, lmdb, append, lmdbCpuUsPerCommand: Math.round(lmdb.cpuUsPerCommit / batchSize), appendCpuUsPerCommand: Math.round(append.cpuUsPerCommit / batchSize), cpuRatio: Number((lmdb.cpuUsPerCommit / append.cpuUsPerCommit).toFixed(2)) };
});

console.log(`durable commit floor: median of ${roundsCount} interleaved rounds, ${commitsPerRun} commits each; per command 1 journal entry + 3 random-key records (lmdb) or the same bytes appended (append)`);
console.log('batch  lmdb wall µs  lmdb CPU µs (sys)  append wall µs  append CPU µs (sys)  lmdb÷append CPU  lmdb CPU µs/cmd');
for (const row of rows) {
  const cells = [
    String(row.batchSize).padStart(5), String(row.lmdb.wallUsPerCommit).padStart(12), `${row.lmdb.cpuUsPerCommit} (${row.lmdb.systemUsPerCommit})`.padStart(17),
    String(row.append.wallUsPerCommit).padStart(14), `${row.append.cpuUsPerCommit} (${row.append.systemUsPerCommit})`.padStart(19), row.cpuRatio.toFixed(2).padStart(15), String(row.lmdbCpuUsPerCommand).padStart(15),
  ];
  console.log(cells.join('  '));
}
const resultsDir = new URL('./results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const report = { bench: 'commit-floor', at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', rounds: roundsCount, commitsPerRun, prefillRecords, recordBytes, rows };
writeFileSync(new URL('commit-floor.json', resultsDir), `${JSON.stringify(report, null, 2)}\n`);
