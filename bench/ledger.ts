/**
 * Ledger throughput: durable commands per second, and process CPU per command, at batch sizes 1, 8, 64 and 1024, for a realistic
 * mix (sales, and returns authorized then completed), each run against a fresh LMDB in a temp dir.
 * Beside it, in the same run and interleaved round by round, the bare baseline: raw `lmdb` puts of
 * the same number of records, values of the same size (the ledger's mean journal entry), the same
 * durability settings and commit (overlappingSync, a synchronous transaction that has fsynced when
 * it returns), batched the same way. The ratio ledger ÷ raw is the number that means the same on any machine.
 *
 * Env: BENCH_ROUNDS (5), BENCH_COMMANDS_1 (400), BENCH_COMMANDS_8 (1200), BENCH_COMMANDS_64 (2560), BENCH_COMMANDS_1024 (8192).
 * Results: printed as a table and written to bench/results/ledger.json.
 */
import { open } from 'lmdb';
import { Ledger } from '../src/ledger/index.js';
import type { Envelope } from '../src/ledger/index.js';
import { writerDurability } from '../src/ledger/storage.js';
import { benchPolicy, executeInBatches, setupEnvelopes, workload } from './lib/ledger-workload.js';
import { interleave, median, perCommand, printTable, timed, withTempDir, writeResults } from './lib/micro.js';

const roundsCount = Number(process.env.BENCH_ROUNDS ?? 5);
const batchSizes = [1, 8, 64, 1024] as const;
const commandsBySize: Record<(typeof batchSizes)[number], number> = {
  1: Number(process.env.BENCH_COMMANDS_1 ?? 400),
  8: Number(process.env.BENCH_COMMANDS_8 ?? 8 * 150),
  64: Number(process.env.BENCH_COMMANDS_64 ?? 64 * 40),
  1024: Number(process.env.BENCH_COMMANDS_1024 ?? 1024 * 8),
};
const mapSizeBytes = 4 * 1024 ** 3;

async function openSetUpLedger(path: string): Promise<Ledger> {
  const ledger = Ledger.open({ path, mapSizeBytes, defaultPolicy: benchPolicy });
  const failed = await executeInBatches(ledger, setupEnvelopes(['S1']), 1024);
  if (failed > 0) throw new Error(`setup: ${failed} commands failed`);
  return ledger;
}

/** Commands per second, and process CPU (user + system, all threads) over the timed loop per command. */
type RunResult = ReturnType<typeof perCommand>;

function runLedger(envelopes: readonly Envelope[], batchSize: number): Promise<RunResult & { failed: number }> {
  return withTempDir('tillgate-bench-ledger-', async (path) => {
    const ledger = await openSetUpLedger(path);
    try {
      const run = await timed(() => executeInBatches(ledger, envelopes, batchSize));
      return { ...perCommand(run, envelopes.length), failed: run.value };
    } finally {
      await ledger.close();
    }
  });
}

function runRaw(count: number, valueBytes: number, batchSize: number): Promise<RunResult> {
  return withTempDir('tillgate-bench-raw-', async (path) => {
    const root = open({ path, mapSize: mapSizeBytes, ...writerDurability });
    const db = root.openDB<Buffer, number>({ name: 'raw', encoding: 'binary', cache: false, compression: false });
    const value = Buffer.alloc(valueBytes, 0x5a);
    try {
      const run = await timed(() => {
        for (let start = 0; start < count; start += batchSize) {
          const end = Math.min(count, start + batchSize);
          // The ledger's commit: a synchronous durable transaction (fsynced before it returns).
          root.transactionSync(() => {
            for (let key = start; key < end; key += 1) db.putSync(key, value);
          });
        }
      });
      return perCommand(run, count);
    } finally {
      await root.close();
    }
  });
}

/** Mean stored journal entry (hash + body) for the mix, read from a calibration run's raw bytes. */
function journalEntryBytes(): Promise<number> {
  return withTempDir('tillgate-bench-calibrate-', async (path) => {
    const ledger = await openSetUpLedger(path);
    const before = ledger.head().seq;
    await ledger.execute(workload(256));
    await ledger.close();
    const root = open({ path, readOnly: true, maxDbs: 16 });
    const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary' });
    let bytes = 0;
    let entries = 0;
    for (const { value } of journal.getRange({ start: before + 1 })) {
      bytes += value.length;
      entries += 1;
    }
    await root.close();
    return Math.round(bytes / entries);
  });
}

const valueBytes = await journalEntryBytes();
const samples = batchSizes.map((batchSize) => ({ batchSize, ledger: [] as (RunResult & { failed: number })[], raw: [] as RunResult[] }));
const startedMs = Date.now();
for (let round = 0; round < roundsCount; round += 1) {
  for (const sample of samples) {
    const count = commandsBySize[sample.batchSize];
    await interleave(
      round,
      async () => {
        sample.ledger.push(await runLedger(workload(count), sample.batchSize));
      },
      async () => {
        sample.raw.push(await runRaw(count, valueBytes, sample.batchSize));
      },
    );
  }
  process.stderr.write(`round ${round + 1}/${roundsCount} done\n`);
}

const rows = samples.map((sample) => {
  const ledgerOps = median(sample.ledger.map((run) => run.perSecond));
  const rawOps = median(sample.raw.map((run) => run.perSecond));
  return {
    batchSize: sample.batchSize, commands: commandsBySize[sample.batchSize], ledgerOpsPerSecond: Math.round(ledgerOps), rawOpsPerSecond: Math.round(rawOps), ratio: Number((ledgerOps / rawOps).toFixed(3)),
    ledgerCpuUsPerCommand: Math.round(median(sample.ledger.map((run) => run.cpuUsPerCommand))), rawCpuUsPerCommand: Math.round(median(sample.raw.map((run) => run.cpuUsPerCommand))),
    ledgerSamples: sample.ledger.map((run) => Math.round(run.perSecond)), rawSamples: sample.raw.map((run) => Math.round(run.perSecond)), failedCommands: sample.ledger.reduce((sum, run) => sum + run.failed, 0),
  };
});

console.log(`ledger vs raw lmdb puts (${valueBytes}-byte values, durable synchronous commits), median of ${roundsCount} interleaved rounds`);
printTable(
  ['batch', 'commands', 'ledger ops/s', 'raw ops/s', 'ledger÷raw', 'ledger CPU µs/cmd', 'raw CPU µs/put'],
  rows.map((row) => [String(row.batchSize), String(row.commands), String(row.ledgerOpsPerSecond), String(row.rawOpsPerSecond), row.ratio.toFixed(3), String(row.ledgerCpuUsPerCommand), String(row.rawCpuUsPerCommand)]),
);
writeResults('ledger', { rounds: roundsCount, valueBytes, elapsedMs: Date.now() - startedMs, mix: 'sale, sale, authorize return, complete return', rows });
if (rows.some((row) => row.failedCommands > 0)) {
  console.error('some ledger commands failed: the workload is not what it claims to be');
  process.exitCode = 1;
}
