/**
 * `npm run bench:ledger-pool`: the ledger-only target measured on the engine that serves it, the
 * shard pool, with no network. Commands are submitted in-process through `ShardPool.submit` (the
 * same call the gRPC server makes), spread over stores that route evenly to the shards, with a
 * sliding window of commands in flight deep enough that every writer always has a batch waiting
 * (the pool cuts batches at its batchCommandsMax, 1024). The pool runs with 1 shard and with N
 * (= cores), and beside them, interleaved round by round, the baseline: one `Ledger` on the main
 * thread executing batches of 1024 (the batch size of bench:ledger's largest row) over the same
 * stores and commands. Ratios pool ÷ baseline mean the same on any machine.
 *
 * Each side first runs BENCH_WARMUP_COMMANDS untimed (the same mix, earlier receipts), so the
 * writers' code is compiled before the clock starts: a new writer thread compiles the ledger anew,
 * and in a short run that compilation (on V8's helper threads) would be counted as ledger work.
 * Durable commands per second counts commands whose outcome arrived (each batch fsynced before
 * it answers); CPU is the whole process's (user + system, all threads), per command.
 * Env: BENCH_ROUNDS (3), BENCH_COMMANDS (48000), BENCH_WARMUP_COMMANDS (64000), BENCH_STORES_PER_SHARD (4),
 * BENCH_WINDOW_PER_SHARD (2048, at most the pool's queueCommandsMax), BENCH_SIDES (all: `one-thread,pool-1,pool-N`;
 * e.g. `pool-N` alone, for a profile).
 * Results: printed and written to bench/results/ledger-pool.json.
 */
import { availableParallelism } from 'node:os';
import { Ledger } from '../src/ledger/index.js';
import type { Envelope } from '../src/ledger/index.js';
import { ShardPool, poolDefaults, shardOf } from '../src/workers/index.js';
import { sumCommits } from './lib/analysis.js';
import { benchPolicy, executeInBatches, setupEnvelopes, workload } from './lib/ledger-workload.js';
import { interleave, median, perCommand, positiveInteger, printTable, timed, withTempDir, writeResults } from './lib/micro.js';

const roundsCount = positiveInteger('BENCH_ROUNDS', 3);
const commandsCount = positiveInteger('BENCH_COMMANDS', 48_000);
const warmupCount = positiveInteger('BENCH_WARMUP_COMMANDS', 64_000);
const storesPerShard = positiveInteger('BENCH_STORES_PER_SHARD', 4);
// A deeper window than the shard's queue would be refused (OVERLOADED), not measured.
const windowPerShard = positiveInteger('BENCH_WINDOW_PER_SHARD', 2048, poolDefaults.queueCommandsMax);
const cores = availableParallelism();
// The baseline runs batches as large as the pool's.
const baselineBatch = poolDefaults.batchCommandsMax;

/** Store ids that spread evenly: storesPerShard on each of `shardCount` shards. */
function balancedStores(shardCount: number): string[] {
  const perShard = Array.from({ length: shardCount }, (): string[] => []);
  for (let candidate = 1; perShard.some((ids) => ids.length < storesPerShard); candidate += 1) {
    const storeId = `S${candidate}`;
    const ids = perShard[shardOf(storeId, shardCount)];
    if (ids !== undefined && ids.length < storesPerShard) ids.push(storeId);
  }
  return perShard.flat();
}

interface Workload {
  setup: Envelope[];
  warmup: Envelope[];
  timed: Envelope[];
}

/**
 * Every store's workload, interleaved command by command (each store's own order kept), split
 * into the warm-up and the timed part. Both parts hold whole quads per store, so no return in the
 * timed part waits on a sale in the warm-up that was cut off.
 */
function mixedWorkload(storeIds: readonly string[]): Workload {
  const quadsPerStore = (count: number): number => Math.ceil(count / storeIds.length / 4);
  const warmupQuads = quadsPerStore(warmupCount);
  const perStore = storeIds.map((storeId) => workload(4 * (warmupQuads + quadsPerStore(commandsCount)), storeId));
  const interleaved = (from: number, to: number): Envelope[] => {
    const envelopes: Envelope[] = [];
    for (let index = from; index < to; index += 1) {
      for (const stream of perStore) {
        const envelope = stream[index];
        if (envelope !== undefined) envelopes.push(envelope);
      }
    }
    return envelopes;
  };
  return { setup: setupEnvelopes(storeIds), warmup: interleaved(0, 4 * warmupQuads), timed: interleaved(4 * warmupQuads, perStore[0]?.length ?? 0) };
}

interface Sample {
  perSecond: number;
  cpuUsPerCommand: number;
  commandsPerCommit: number;
  failed: number;
}

/** Submits with at most `window` commands in flight; counts refusals and failures. */
async function drive(pool: ShardPool, envelopes: readonly Envelope[], window: number): Promise<number> {
  let inflight = 0;
  let failed = 0;
  let wake: (() => void) | undefined;
  const pending: Promise<void>[] = [];
  for (const envelope of envelopes) {
    while (inflight >= window) await new Promise<void>((resolve) => (wake = resolve));
    inflight += 1;
    const settle = (ok: boolean): void => {
      if (!ok) failed += 1;
      inflight -= 1;
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    // A rejection (never expected: the pool answers refusals as outcomes) counts as a failure
    // rather than leaving the window full and the loop waiting forever.
    pending.push(pool.submit(envelope).then((outcome) => settle(outcome.ok), () => settle(false)));
  }
  await Promise.all(pending);
  return failed;
}

function runPool(shardCount: number, work: Workload): Promise<Sample> {
  return withTempDir('tillgate-bench-pool-', async (dataDir) => {
    const pool = await ShardPool.start({ dataDir, shardCount, defaultPolicy: benchPolicy });
    try {
      const window = windowPerShard * shardCount;
      const setupFailed = (await drive(pool, work.setup, window)) + (await drive(pool, work.warmup, window));
      if (setupFailed > 0) throw new Error(`pool-${shardCount}: ${setupFailed} setup or warm-up commands failed`);
      const before = sumCommits(pool.stats());
      const run = await timed(() => drive(pool, work.timed, window));
      const after = sumCommits(pool.stats());
      return { ...perCommand(run, work.timed.length), commandsPerCommit: (after.commands - before.commands) / Math.max(1, after.batches - before.batches), failed: run.value };
    } finally {
      await pool.close();
    }
  });
}

function runBaseline(work: Workload): Promise<Sample> {
  return withTempDir('tillgate-bench-single-', async (path) => {
    const ledger = Ledger.open({ path, defaultPolicy: benchPolicy });
    try {
      const setupFailed = (await executeInBatches(ledger, work.setup, baselineBatch)) + (await executeInBatches(ledger, work.warmup, baselineBatch));
      if (setupFailed > 0) throw new Error(`one thread: ${setupFailed} setup or warm-up commands failed`);
      const run = await timed(() => executeInBatches(ledger, work.timed, baselineBatch));
      const commits = Math.ceil(work.timed.length / baselineBatch);
      return { ...perCommand(run, work.timed.length), commandsPerCommit: work.timed.length / commits, failed: run.value };
    } finally {
      await ledger.close();
    }
  });
}

// The same stores and commands for every side, spread evenly over N shards (pool-1 holds them all).
const storeIds = balancedStores(cores);
const work = mixedWorkload(storeIds);
const allSides = [
  { key: 'one-thread', label: `one ledger thread, batch ${baselineBatch}`, shards: 0, run: () => runBaseline(work) },
  { key: 'pool-1', label: 'pool-1', shards: 1, run: () => runPool(1, work) },
  ...(cores > 1 ? [{ key: 'pool-N', label: `pool-${cores}`, shards: cores, run: () => runPool(cores, work) }] : []),
];
const chosen = process.env.BENCH_SIDES?.split(',') ?? allSides.map((side) => side.key);
const unknown = chosen.filter((key) => !allSides.some((side) => side.key === key));
if (unknown.length > 0) throw new Error(`BENCH_SIDES: no side ${unknown.join(', ')} (sides: ${allSides.map((side) => side.key).join(', ')})`);
const sides = allSides.filter((side) => chosen.includes(side.key)).map((side) => ({ ...side, samples: [] as Sample[] }));

const startedMs = Date.now();
for (let round = 0; round < roundsCount; round += 1) {
  await interleave(round, ...sides.map((side) => async () => side.samples.push(await side.run())));
  process.stderr.write(`round ${round + 1}/${roundsCount} done\n`);
}

const baseline = sides.find((side) => side.shards === 0);
const baselineOps = baseline === undefined ? undefined : median(baseline.samples.map((sample) => sample.perSecond));
const rows = sides.map((side) => {
  const ops = median(side.samples.map((sample) => sample.perSecond));
  return {
    side: side.label, shards: side.shards, commandsPerSecond: Math.round(ops),
    ...(baselineOps === undefined ? {} : { ratioToBaseline: Number((ops / baselineOps).toFixed(3)) }),
    cpuUsPerCommand: Number(median(side.samples.map((sample) => sample.cpuUsPerCommand)).toFixed(1)),
    commandsPerCommit: Math.round(median(side.samples.map((sample) => sample.commandsPerCommit))),
    samples: side.samples.map((sample) => Math.round(sample.perSecond)), failedCommands: side.samples.reduce((sum, sample) => sum + sample.failed, 0),
  };
});

console.log(`ledger only, no network: ${work.timed.length} timed commands (after ${work.warmup.length} warm-up) over ${storeIds.length} stores, median of ${roundsCount} interleaved rounds`);
printTable(
  ['side                            ', 'commands/s', '÷ one thread', 'CPU µs/cmd', 'cmds/commit', 'failed'],
  rows.map((row) => [row.side, String(row.commandsPerSecond), row.ratioToBaseline?.toFixed(3) ?? '-', row.cpuUsPerCommand.toFixed(1), String(row.commandsPerCommit), String(row.failedCommands)]),
);
writeResults('ledger-pool', { rounds: roundsCount, commands: work.timed.length, warmupCommands: work.warmup.length, stores: storeIds.length, windowPerShard, elapsedMs: Date.now() - startedMs, mix: 'sale, sale, authorize return, complete return', rows });
if (rows.some((row) => row.failedCommands > 0)) {
  console.error('some commands failed or were refused: the workload is not what it claims to be');
  process.exitCode = 1;
}
