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
import { appendCommitFloor, describePattern, floorRecordBytes, lmdbCommitFloor } from './lib/commit-floor.js';
import { interleave, median, printTable, writeResults } from './lib/micro.js';
import type { Timed } from './lib/micro.js';

const roundsCount = Number(process.env.BENCH_ROUNDS ?? 5);
const commitsPerRun = Number(process.env.BENCH_COMMITS ?? 400);
const prefillRecords = Number(process.env.BENCH_PREFILL ?? 50_000);
const batchSizes = (process.env.BENCH_BATCHES ?? '1,8,64').split(',').map(Number).filter((size) => Number.isSafeInteger(size) && size > 0);

const samples = batchSizes.map((batchSize) => ({ batchSize, lmdb: [] as Timed<void>[], append: [] as Timed<void>[] }));
for (let round = 0; round < roundsCount; round += 1) {
  for (const sample of samples) {
    await interleave(
      round,
      async () => {
        sample.lmdb.push(await lmdbCommitFloor({ batchSize: sample.batchSize, commits: commitsPerRun, prefill: prefillRecords, pattern: 'ledger' }));
      },
      async () => {
        sample.append.push(await appendCommitFloor({ batchSize: sample.batchSize, commits: commitsPerRun }));
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

console.log(`durable commit floor: median of ${roundsCount} interleaved rounds, ${commitsPerRun} commits each; ${describePattern('ledger')} (lmdb) or the same bytes appended (append)`);
printTable(
  ['batch', 'lmdb wall µs', 'lmdb CPU µs (sys)', 'append wall µs', 'append CPU µs (sys)', 'lmdb÷append CPU', 'lmdb CPU µs/cmd'],
  rows.map((row) => [
    String(row.batchSize), String(row.lmdb.wallUsPerCommit), `${row.lmdb.cpuUsPerCommit} (${row.lmdb.systemUsPerCommit})`,
    String(row.append.wallUsPerCommit), `${row.append.cpuUsPerCommit} (${row.append.systemUsPerCommit})`, row.cpuRatio.toFixed(2), String(row.lmdbCpuUsPerCommand),
  ]),
);
writeResults('commit-floor', { rounds: roundsCount, commitsPerRun, prefillRecords, recordBytes: floorRecordBytes, rows });
