/**
 * `npm run bench:ledger-pool`: the ledger-only target measured on the engine that serves it, the
 * shard pool, with no network. Commands are submitted in-process through `ShardPool.submit` (the
 * same call the gRPC server makes), spread over stores that route evenly to the shards, with a
 * sliding window of commands in flight deep enough that every writer commits full batches. The
 * pool runs with 1 shard and with N (= cores), and beside them, interleaved round by round, the
 * baseline: one `Ledger` on the main thread executing batches of 1024 (bench:ledger's batch-1024 row)
 * over the same stores and commands. Ratios pool ÷ baseline mean the same on any machine.
 *
 * Each side first runs BENCH_WARMUP_COMMANDS untimed (the same mix, earlier receipts), so the
 * writers' code is compiled before the clock starts: a new writer thread compiles the ledger anew,
 * and in a short run that compilation (on V8's helper threads) would be counted as ledger work.
 * Durable commands per second counts commands whose outcome arrived (each batch fsynced before
 * it answers); CPU is the whole process's (user + system, all threads), per command.
 * Env: BENCH_ROUNDS (3), BENCH_COMMANDS (48000), BENCH_WARMUP_COMMANDS (64000), BENCH_STORES_PER_SHARD (4),
 * BENCH_WINDOW_PER_SHARD (2048), BENCH_SIDES (all; e.g. `pool-2` alone, for a profile).
 * Results: printed and written to bench/results/ledger-pool.json.
 */
import { availableParallelism } from 'node:os';
import { Ledger } from '../src/ledger/index.js';
import type { Command, Envelope } from '../src/ledger/index.js';
import { shardOf } from '../src/workers/routing.js';
import { ShardPool } from '../src/workers/index.js';
import { benchPolicy, setupCommands, workload } from './lib/ledger-workload.js';
import { median, printTable, timed, withTempDir, writeResults } from './lib/micro.js';

const roundsCount = Number(process.env.BENCH_ROUNDS ?? 3);
const commandsCount = Number(process.env.BENCH_COMMANDS ?? 48_000);
const warmupCount = Number(process.env.BENCH_WARMUP_COMMANDS ?? 64_000);
const storesPerShard = Number(process.env.BENCH_STORES_PER_SHARD ?? 4);
const windowPerShard = Number(process.env.BENCH_WINDOW_PER_SHARD ?? 2048);
const cores = availableParallelism();
const baselineBatch = 1024;

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

/**
 * Every store's workload, interleaved command by command (each store's own order kept), split
 * into the warm-up and the timed part. Both parts hold whole quads per store, so no return in the
 * timed part waits on a sale in the warm-up that was cut off.
 */
function mixedWorkload(storeIds: readonly string[]): { warmup: Envelope[]; timed: Envelope[] } {
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
  return { warmup: interleaved(0, 4 * warmupQuads), timed: interleaved(4 * warmupQuads, perStore[0]?.length ?? 0) };
}

interface Workload {
  setup: Envelope[];
  warmup: Envelope[];
  timed: Envelope[];
}

const asEnvelopes = (commands: readonly Command[], prefix: string): Envelope[] => commands.map((command, index) => ({ idempotencyId: `${prefix}-${index}`, actor: {}, command }));

interface Sample {
  commandsPerSecond: number;
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
      const setupFailed = (await drive(pool, work.setup, 1024)) + (await drive(pool, work.warmup, windowPerShard * shardCount));
      if (setupFailed > 0) throw new Error(`pool-${shardCount}: ${setupFailed} setup or warm-up commands failed`);
      const envelopes = work.timed;
      const before = pool.stats().reduce((sum, shard) => ({ commands: sum.commands + shard.committedCommands, batches: sum.batches + shard.committedBatches }), { commands: 0, batches: 0 });
      const run = await timed(() => drive(pool, envelopes, windowPerShard * shardCount));
      const after = pool.stats().reduce((sum, shard) => ({ commands: sum.commands + shard.committedCommands, batches: sum.batches + shard.committedBatches }), { commands: 0, batches: 0 });
      return {
        commandsPerSecond: envelopes.length / (run.wallUs / 1e6), cpuUsPerCommand: run.cpuUs / envelopes.length,
        commandsPerCommit: (after.commands - before.commands) / Math.max(1, after.batches - before.batches), failed: run.value,
      };
    } finally {
      await pool.close();
    }
  });
}

/** Runs envelopes through one ledger in batches of baselineBatch; returns how many failed. */
async function executeInBatches(ledger: Ledger, envelopes: readonly Envelope[]): Promise<number> {
  let failed = 0;
  for (let start = 0; start < envelopes.length; start += baselineBatch) {
    const outcomes = await ledger.execute(envelopes.slice(start, start + baselineBatch));
    failed += outcomes.filter((outcome) => !outcome.ok).length;
  }
  return failed;
}

function runBaseline(work: Workload): Promise<Sample> {
  return withTempDir('tillgate-bench-single-', async (path) => {
    const ledger = Ledger.open({ path, defaultPolicy: benchPolicy });
    try {
      const setupFailed = (await executeInBatches(ledger, work.setup)) + (await executeInBatches(ledger, work.warmup));
      if (setupFailed > 0) throw new Error(`baseline: ${setupFailed} setup or warm-up commands failed`);
      const envelopes = work.timed;
      const run = await timed(() => executeInBatches(ledger, envelopes));
      return { commandsPerSecond: envelopes.length / (run.wallUs / 1e6), cpuUsPerCommand: run.cpuUs / envelopes.length, commandsPerCommit: baselineBatch, failed: run.value };
    } finally {
      await ledger.close();
    }
  });
}

// The same stores and commands for every side, spread evenly over N shards (pool-1 holds them all).
const storeIds = balancedStores(cores);
const { skus, perStore } = setupCommands(storeIds);
const work: Workload = { setup: [...asEnvelopes(skus, 'setup-sku'), ...asEnvelopes(perStore, 'setup')], ...mixedWorkload(storeIds) };
const sides = [
  { name: `ledger, one thread, batch ${baselineBatch}`, shards: 0, run: () => runBaseline(work) },
  { name: 'pool-1', shards: 1, run: () => runPool(1, work) },
  ...(cores > 1 ? [{ name: `pool-${cores}`, shards: cores, run: () => runPool(cores, work) }] : []),
]
  // BENCH_SIDES=pool-2 (comma-separated names) runs only those sides, e.g. under a profiler.
  .filter((side) => process.env.BENCH_SIDES === undefined || process.env.BENCH_SIDES.split(',').includes(side.name))
  .map((side) => ({ ...side, samples: [] as Sample[] }));

const startedMs = Date.now();
for (let round = 0; round < roundsCount; round += 1) {
  // Each side goes first in turn, so none always inherits a warm (or busy) disk.
  for (let turn = 0; turn < sides.length; turn += 1) {
    const side = sides[(round + turn) % sides.length];
    if (side !== undefined) side.samples.push(await side.run());
  }
  process.stderr.write(`round ${round + 1}/${roundsCount} done\n`);
}

const baselineOps = median(sides.find((side) => side.shards === 0)?.samples.map((sample) => sample.commandsPerSecond) ?? [Number.NaN]);
const rows = sides.map((side) => {
  const ops = median(side.samples.map((sample) => sample.commandsPerSecond));
  return {
    side: side.name, shards: side.shards, commandsPerSecond: Math.round(ops), ratioToBaseline: Number((ops / baselineOps).toFixed(3)),
    cpuUsPerCommand: Number(median(side.samples.map((sample) => sample.cpuUsPerCommand)).toFixed(1)),
    commandsPerCommit: Math.round(median(side.samples.map((sample) => sample.commandsPerCommit))),
    samples: side.samples.map((sample) => Math.round(sample.commandsPerSecond)), failedCommands: side.samples.reduce((sum, sample) => sum + sample.failed, 0),
  };
});

console.log(`ledger only, no network: ${work.timed.length} timed commands (after ${work.warmup.length} warm-up) over ${storeIds.length} stores, median of ${roundsCount} interleaved rounds`);
printTable(
  ['side                          ', 'commands/s', '÷ baseline', 'CPU µs/cmd', 'cmds/commit', 'failed'],
  rows.map((row) => [row.side, String(row.commandsPerSecond), row.ratioToBaseline.toFixed(3), row.cpuUsPerCommand.toFixed(1), String(row.commandsPerCommit), String(row.failedCommands)]),
);
writeResults('ledger-pool', { rounds: roundsCount, commands: work.timed.length, warmupCommands: work.warmup.length, stores: storeIds, windowPerShard, elapsedMs: Date.now() - startedMs, mix: 'sale, sale, authorize return, complete return', rows });
if (rows.some((row) => row.failedCommands > 0)) {
  console.error('some commands failed or were refused: the workload is not what it claims to be');
  process.exitCode = 1;
}
