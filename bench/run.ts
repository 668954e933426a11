/**
 * `npm run bench` (full) and `npm run bench:ci` (short, gated): tillgate against a no-op gRPC echo
 * server with the same services, TLS, options and response sizes, driven by load-generator processes
 * of the same kind, in one process tree on this machine. For every tillgate target — the pool at N
 * (= cores), 1 and 2 shards, and the inline engine — two workloads (the `simulate` mix, and
 * AuthorizeReturn + CompleteReturn only), each at saturation (closed loop) and in an open loop at half
 * the echo server's saturation rate, each phase measured right beside the same phase on echo. Server CPU per operation comes from the server
 * process's own utime + stime in /proc. Ratios tillgate ÷ echo are the numbers that travel between
 * machines; bench:ci fails when one is past bench/thresholds.json.
 *
 * Flags: --ci (short, gated), --profile (pool N only, saturation only, server under --cpu-prof),
 * --record-thresholds (write bench/thresholds.json from this run with a 40% margin).
 * Env: BENCH_PHASE_MS, BENCH_WARMUP_MS, BENCH_GENERATORS, BENCH_TERMINALS, BENCH_SHARDS (e.g. "1,2,4"),
 * BENCH_RUNTIME (dist|tsx), BENCH_SERVER_NODE_ARGS (extra node flags for the server under test). Results: bench/results/bench.json (or bench-ci.json) and report.html.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../src/control/index.js';
import { checkBounds, issueTargets, ratiosOf, sumCommits, summarizePhase, thresholdFrom } from './lib/analysis.js';
import type { Loop, PhaseResult, RatioBound } from './lib/analysis.js';
import { LoadGenerator, chooseRuntime, clockTicksPerSecond, cpuTicks, entryArgs, machineTicks, mainThreadCpuTicks, repoRoot, startServer, threadCpuTicks } from './lib/processes.js';
import type { RunningServer, Runtime } from './lib/processes.js';
import type { CannedResponse, Fixture, Workload } from './lib/protocol.js';
import { describePattern, lmdbCommitFloor } from './lib/commit-floor.js';
import { interleave, median, perCommand } from './lib/micro.js';
import { htmlReport, phaseOf, textTable } from './lib/report.js';
import type { BenchReport, CommitFloor, FloorAtBatch, TargetResult } from './lib/report.js';
import { summarizeProfiles } from './lib/profile.js';

type Mode = 'full' | 'ci' | 'profile';
const mode: Mode = process.argv.includes('--ci') ? 'ci' : process.argv.includes('--profile') ? 'profile' : 'full';
const recordThresholds = process.argv.includes('--record-thresholds');
const coreCount = cpus().length;
const envNumber = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));

const settings = {
  mode,
  phaseMs: envNumber('BENCH_PHASE_MS', mode === 'ci' ? 4000 : 10_000),
  /** Per workload, at saturation, before a server's first measured phase (see warmUp). */
  warmupMs: envNumber('BENCH_WARMUP_MS', mode === 'ci' ? 3000 : 5000),
  generators: envNumber('BENCH_GENERATORS', 2),
  terminalsPerGenerator: envNumber('BENCH_TERMINALS', 16),
  /** Open loop: operations in flight per generator at most; past it an operation is dropped (and counted). */
  inflightPerGeneratorMax: 1024,
  receiptsPerTerminal: 4,
  fixture: { stores: 4, skus: 50 } satisfies Fixture,
  captureMs: 2000,
  /** The commit floor (measureFloor): rounds, commits per round, records per tree before them. */
  floor: { rounds: 3, commits: mode === 'ci' ? 150 : 400, prefillRecords: 5000 },
  shardCounts: (process.env.BENCH_SHARDS ?? (mode === 'full' ? `${coreCount},1,2` : `${coreCount}`)).split(',').map(Number),
  inline: mode === 'full',
  /** The engine floors (engineFloors): in the full run, or with BENCH_FLOORS=1. */
  floors: process.env.BENCH_FLOORS === undefined ? mode === 'full' : process.env.BENCH_FLOORS === '1',
  /** Only the targets named here (comma-separated), when set. */
  only: process.env.BENCH_TARGETS?.split(',').filter((name) => name !== ''),
};
/** Every reply from a generator within this bound, or the run fails (a hung child never hangs CI). */
const replyMsMax = settings.phaseMs + 60_000;
const workloads: readonly Workload[] = ['mix', 'returns'];

interface Target {
  name: string;
  kind: 'echo' | 'tillgate' | 'floor';
  engine?: 'pool' | 'inline';
  shards?: number;
  /** Engine floors: what the minimal ledger commits per command (bench/lib/minimal-ledger.ts). */
  commit?: 'durable' | 'journal' | 'none';
}

/**
 * The engine floors: the echo server with tillgate's real engine in front of a ledger that only
 * commits what any ledger must (a journal entry and an idempotency record per command; `floor-*`),
 * only the journal entry (`journal-*`), or nothing (`hop-*`). Between echo, hop, floor and tillgate, each step's cost is measured
 * in the same run: the engine's hand-off, the durable commit, and the ledger's own work.
 */
function engineFloors(): Target[] {
  return [
    { name: `hop-pool-${coreCount}`, kind: 'floor', engine: 'pool', shards: coreCount, commit: 'none' },
    { name: `floor-pool-${coreCount}`, kind: 'floor', engine: 'pool', shards: coreCount, commit: 'durable' },
    { name: 'floor-pool-1', kind: 'floor', engine: 'pool', shards: 1, commit: 'durable' },
    { name: 'floor-inline', kind: 'floor', engine: 'inline', shards: coreCount, commit: 'durable' },
    { name: 'journal-inline', kind: 'floor', engine: 'inline', shards: coreCount, commit: 'journal' },
  ];
}

/** The targets; each is measured beside the echo server (measureAll). */
function targets(): Target[] {
  const list: Target[] = [];
  for (const shards of [...new Set(settings.shardCounts)]) list.push({ name: `pool-${shards}`, kind: 'tillgate', engine: 'pool', shards });
  if (settings.inline) list.push({ name: 'inline', kind: 'tillgate', engine: 'inline', shards: coreCount });
  if (settings.floors) list.push(...engineFloors());
  return settings.only === undefined ? list : list.filter((target) => settings.only?.includes(target.name));
}

async function startTarget(target: Target, runtime: Runtime, dataDir: string, cannedFile: string, profileDir: string | undefined): Promise<RunningServer> {
  const echoArgs = [...entryArgs(runtime, 'bench/echo-server.ts'), '--data-dir', dataDir, '--canned', cannedFile];
  if (target.kind === 'echo') return startServer(target.name, echoArgs);
  const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profileDir, target.name)];
  // Extra node flags for the server under test only, e.g. --perf-basic-prof for `perf record`.
  profile.push(...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''));
  const engine = ['--shards', String(target.shards ?? coreCount), '--engine', target.engine ?? 'pool'];
  const server = await startServer(target.name, target.kind === 'floor'
    ? [...profile, ...echoArgs, ...engine, '--commit', target.commit ?? 'durable']
    : [...profile, ...entryArgs(runtime, 'src/cli/index.ts'), 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', ...engine, '--log-level', 'warn']);
  // The pid whose CPU we read must be the node itself, not a wrapper: ask the node.
  const answer = (await controlRequest(join(dataDir, 'tillgate.sock'), { command: 'status' })) as { status?: { pid?: number; shards?: unknown[] } };
  if (answer.status?.pid !== server.pid) throw new Error(`${target.name}: control socket reports pid ${answer.status?.pid}, spawned ${server.pid}`);
  if (answer.status.shards?.length !== target.shards) throw new Error(`${target.name}: node runs ${answer.status.shards?.length} shards, expected ${target.shards}`);
  return server;
}

async function all<T>(generators: readonly LoadGenerator[], run: (generator: LoadGenerator) => Promise<T>): Promise<T[]> {
  return Promise.all(generators.map(run));
}

interface CommitCounts {
  commands: number;
  batches: number;
  /** CPU ticks of the shard writers' threads (by their Linux thread ids from the node's status). */
  writerTicks: number;
}

/** Commands, commits and writer-thread CPU over all shards, from a tillgate node's control socket. */
async function commitCounts(dataDir: string, pid: number): Promise<CommitCounts> {
  const answer = (await controlRequest(join(dataDir, 'tillgate.sock'), { command: 'status' })) as { status?: { shards?: { committedCommands: number; committedBatches: number; threadId?: number }[] } };
  const shards = answer.status?.shards ?? [];
  const writerTicks = shards.reduce((sum, shard) => sum + (shard.threadId === undefined ? 0 : threadCpuTicks(pid, shard.threadId)), 0);
  return { ...sumCommits(shards), writerTicks };
}

async function runPhase(server: RunningServer, generators: readonly LoadGenerator[], workload: Workload, loop: Loop, offeredPerSecond: number | undefined, durationMs: number, commits: () => Promise<CommitCounts | undefined>): Promise<PhaseResult> {
  const prepare = { op: 'prepare', workload, fixture: settings.fixture, terminals: settings.terminalsPerGenerator, receiptsPerTerminal: settings.receiptsPerTerminal } as const;
  await all(generators, (generator) => generator.request(prepare, replyMsMax));
  const ratePerSecond = offeredPerSecond === undefined ? undefined : offeredPerSecond / generators.length;
  const run = { op: 'run', durationMs, inflightMax: settings.inflightPerGeneratorMax, ...(ratePerSecond === undefined ? {} : { ratePerSecond }) } as const;
  const generatorTicks = () => generators.reduce((sum, generator) => sum + (generator.pid === undefined ? 0 : cpuTicks(generator.pid)), 0);
  const commitsBefore = await commits();
  const before = { server: cpuTicks(server.pid), main: mainThreadCpuTicks(server.pid), generators: generatorTicks(), machine: machineTicks().busy, atMs: Date.now() };
  const replies = await all(generators, (generator) => generator.request(run, replyMsMax));
  const commitsAfter = await commits();
  const cpu = {
    ticksBefore: before.server, ticksAfter: cpuTicks(server.pid), mainThreadTicks: mainThreadCpuTicks(server.pid) - before.main, generatorTicks: generatorTicks() - before.generators,
    machineBusyTicks: machineTicks().busy - before.machine, clockTicksPerSecond: clockTicks, wallMs: Date.now() - before.atMs,
  };
  const summaries = replies.map((reply) => {
    if (reply.type !== 'summary') throw new Error(`expected a summary, got ${reply.type}`);
    return reply.summary;
  });
  const commitsDone = commitsBefore === undefined || commitsAfter === undefined ? undefined : {
    commands: commitsAfter.commands - commitsBefore.commands, batches: commitsAfter.batches - commitsBefore.batches, writerTicks: commitsAfter.writerTicks - commitsBefore.writerTicks,
  };
  return summarizePhase(workload, loop, offeredPerSecond, summaries, { ...cpu, ...(commitsDone === undefined ? {} : { commits: commitsDone }) });
}

/** A running server with its own load generators and data directory. */
interface Side {
  server: RunningServer;
  generators: LoadGenerator[];
  dataDir: string;
  commits: () => Promise<CommitCounts | undefined>;
}

async function startSide(target: Target, runtime: Runtime, cannedFile: string, profileDir: string | undefined): Promise<Side> {
  const dataDir = mkdtempSync(join(tmpdir(), `tillgate-bench-${target.name}-`));
  const server = await startTarget(target, runtime, dataDir, cannedFile, profileDir);
  const generators = Array.from({ length: settings.generators }, (_, index) => LoadGenerator.start(index, runtime, server));
  // The echo server has no shards to count.
  const commits = target.kind === 'echo' ? () => Promise.resolve(undefined) : () => commitCounts(dataDir, server.pid);
  return { server, generators, dataDir, commits };
}

async function stopSide(side: Side): Promise<void> {
  await Promise.all(side.generators.map((generator) => generator.stop()));
  await side.server.stop();
  rmSync(side.dataDir, { recursive: true, force: true });
}

const phaseOn = (side: Side, workload: Workload, loop: Loop, offeredPerSecond: number | undefined, durationMs = settings.phaseMs) =>
  runPhase(side.server, side.generators, workload, loop, offeredPerSecond, durationMs, side.commits);

/**
 * Every workload at saturation, unmeasured, before a server's first measured phase. A fresh
 * server's V8 keeps compiling (on helper threads whose CPU the server's accounting includes) for
 * seconds after each new workload starts, and a tillgate server compiles the ledger once per writer
 * thread: warming one workload only left the other's compilation inside its measured phases.
 */
async function warmUp(side: Side): Promise<void> {
  for (const workload of workloads) await phaseOn(side, workload, 'saturation', undefined, settings.warmupMs);
}

/**
 * A target's phases, each measured beside the same phase on the echo server when there is one:
 * echo at saturation, the target at saturation, then the target and echo in the open loop at half
 * the echo's rate just measured (A B B A, so a machine that gets busier or quieter during the pair
 * moves both sides alike). Without echo (--profile), saturation only.
 */
async function measurePhases(name: string, side: Side, echo: Side | undefined): Promise<{ phases: PhaseResult[]; echoPhases: PhaseResult[] }> {
  const phases: PhaseResult[] = [];
  const echoPhases: PhaseResult[] = [];
  for (const workload of workloads) {
    if (echo === undefined) {
      progress(`${name}: ${workload} saturation`);
      phases.push(await phaseOn(side, workload, 'saturation', undefined));
      continue;
    }
    progress(`${name} beside echo: ${workload} saturation`);
    const echoSaturated = await phaseOn(echo, workload, 'saturation', undefined);
    const saturated = await phaseOn(side, workload, 'saturation', undefined);
    const offered = echoSaturated.opsPerSecond / 2;
    progress(`${name} beside echo: ${workload} open loop at ${offered.toFixed(0)} ops/s`);
    const open = await phaseOn(side, workload, 'open', offered);
    const echoOpen = await phaseOn(echo, workload, 'open', offered);
    phases.push(saturated, open);
    echoPhases.push(echoSaturated, echoOpen);
  }
  return { phases, echoPhases };
}

/**
 * Every tillgate target, one at a time, beside the echo server, which runs (with its generators)
 * for the whole bench; each target's ratios are to the echo phases measured next to its own. On
 * this shared VM, echo measured minutes apart from the target moved its CPU per RPC by up to 2x,
 * which moved the ratios with it.
 */
async function measureAll(runtime: Runtime, cannedFile: string, profileDir: string | undefined): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  const tillgateTargets = targets();
  const echo = mode === 'profile' ? undefined : await startSide({ name: 'echo', kind: 'echo' }, runtime, cannedFile, undefined);
  try {
    if (echo !== undefined) await warmUp(echo);
    for (const target of tillgateTargets) {
      const side = await startSide(target, runtime, cannedFile, profileDir);
      try {
        await side.generators[0]?.request({ op: 'setup', fixture: settings.fixture }, replyMsMax);
        await warmUp(side);
        const measured = await measurePhases(target.name, side, echo);
        if (echo !== undefined) {
          // One tillgate target (bench:ci): the echo row keeps its plain name.
          const name = tillgateTargets.length === 1 ? 'echo' : `echo/${target.name}`;
          results.push({ name, kind: 'echo', engine: undefined, shards: undefined, phases: measured.echoPhases, ratios: {} });
          results.push({ name: target.name, kind: target.kind, engine: target.engine, shards: target.shards, echo: name, phases: measured.phases, ratios: ratiosOf(measured.phases, measured.echoPhases) });
        } else {
          results.push({ name: target.name, kind: target.kind, engine: target.engine, shards: target.shards, phases: measured.phases, ratios: {} });
        }
      } finally {
        await stopSide(side);
      }
    }
  } finally {
    if (echo !== undefined) await stopSide(echo);
  }
  return results;
}

/** One real response per RPC from a throwaway node, for the echo server to answer with. */
async function captureCanned(runtime: Runtime, cannedFile: string): Promise<Record<string, CannedResponse>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tillgate-bench-capture-'));
  const target: Target = { name: 'capture', kind: 'tillgate', engine: 'pool', shards: coreCount };
  const server = await startTarget(target, runtime, dataDir, cannedFile, undefined);
  const generator = LoadGenerator.start(0, runtime, server);
  try {
    const reply = await generator.request({ op: 'capture', fixture: settings.fixture, durationMs: settings.captureMs }, replyMsMax);
    if (reply.type !== 'captured') throw new Error(`expected captured responses, got ${reply.type}`);
    writeFileSync(cannedFile, JSON.stringify(reply.responses));
    return reply.responses;
  } finally {
    await generator.stop();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - benchStartedMs) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

const benchStartedMs = Date.now();
const clockTicks = clockTicksPerSecond();
const resultsDir = join(repoRoot, 'bench/results');
const thresholdsFile = join(repoRoot, 'bench/thresholds.json');

interface Thresholds {
  target: string;
  recordedAt: string;
  /** Where the bounds came from: one run's ratios (--record-thresholds) or a note on several runs. */
  recordedFrom: unknown;
  bounds: RatioBound[];
}

/**
 * The gated ratios, the direction each may regress in, and the room left for noise. CPU and
 * throughput ratios get 40%; open-loop p99 ratios get 200%, because an open loop near a contended
 * server's capacity turns small rate changes into large queueing delays (measured here: the same
 * code gave 5x and 43x on consecutive runs of a busy 2-core machine).
 */
const gated: readonly [string, 'min' | 'max', number][] = [
  ['mix.saturation.throughput', 'min', 0.4], ['mix.saturation.cpuPerOp', 'max', 0.4],
  ['returns.saturation.throughput', 'min', 0.4], ['returns.saturation.cpuPerRpc', 'max', 0.4],
  ['mix.open.p99', 'max', 2], ['returns.open.p99', 'max', 2],
];

function thresholdTarget(results: readonly TargetResult[]): TargetResult | undefined {
  return results.find((result) => result.kind === 'tillgate' && result.engine === 'pool' && result.shards === coreCount);
}

function recordNewThresholds(target: TargetResult): Thresholds {
  return {
    target: 'pool with shards = cores', recordedAt: new Date().toISOString(), recordedFrom: Object.fromEntries(gated.map(([ratio]) => [ratio, target.ratios[ratio] ?? Number.NaN])),
    bounds: gated.map(([ratio, direction, margin]) => ({ ...thresholdFrom(ratio, target.ratios[ratio] ?? Number.NaN, direction, margin), why: `${margin * 100}% margin` })),
  };
}

async function main(): Promise<void> {
  const { runtime, why } = chooseRuntime(process.env.BENCH_RUNTIME);
  progress(`mode ${mode}, runtime ${runtime} (${why}), ${settings.generators} generators × ${settings.terminalsPerGenerator} terminals, ${settings.phaseMs} ms phases`);
  mkdirSync(resultsDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'tillgate-bench-'));
  const cannedFile = join(scratch, 'canned.json');
  const profileDir = mode === 'profile' ? join(resultsDir, 'profiles') : undefined;
  if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true });
  try {
    progress('capturing real responses for the echo server');
    const canned = await captureCanned(runtime, cannedFile);
    const results = await measureAll(runtime, cannedFile, profileDir);
    // The floor is context for the ratios: a failure to measure it is noted, never the run's end.
    const floor = mode === 'profile' ? undefined : await measureFloor(results).catch((error: unknown) => {
      progress(`durable-commit floor not measured: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
    finish(results, canned, runtime, profileDir, floor);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The durable-commit floor beside the gated target's echo phase (see CommitFloor): LMDB commits of
 * the minimal pattern with no ledger code, at the batch size that target's returns phase committed
 * at saturation and at a batch of every terminal's command (in the closed loop each terminal has
 * one RPC in flight, and stores spread over the shards, so no commit holds more), interleaved
 * round by round, timed in this process after every server and generator has stopped. Each pattern
 * record is one the real command also writes; the idempotency tree holds fewer records than a
 * shard's does by then and the machine is quiet, so the figure errs low.
 */
async function measureFloor(results: readonly TargetResult[]): Promise<CommitFloor | undefined> {
  const target = thresholdTarget(results);
  const echo = results.find((result) => result.kind === 'echo' && result.name === target?.echo);
  const echoPhase = echo === undefined ? undefined : phaseOf(echo, 'returns', 'saturation');
  const perCommit = target === undefined ? undefined : phaseOf(target, 'returns', 'saturation')?.commandsPerCommit;
  if (target === undefined || echo === undefined || echoPhase === undefined || !(echoPhase.cpuUsPerRpc > 0) || perCommit === undefined || !(perCommit > 0)) return undefined;
  const { rounds, commits, prefillRecords } = settings.floor;
  const pattern = 'minimal';
  const batchSizes = [Math.max(1, Math.round(perCommit)), settings.generators * settings.terminalsPerGenerator];
  progress(`durable-commit floor: ${rounds} rounds of ${commits} LMDB commits of ${batchSizes.join(' and ')} commands`);
  const perCommandUs = batchSizes.map((): number[] => []);
  for (let round = 0; round < rounds; round += 1) {
    await interleave(round, ...batchSizes.map((batchSize, index) => async () => {
      const run = await lmdbCommitFloor({ batchSize, commits, prefill: prefillRecords, pattern });
      perCommandUs[index]?.push(perCommand(run, commits * batchSize).cpuUsPerCommand);
    }));
  }
  const atBatch = (index: number): FloorAtBatch => {
    const cpuUsPerCommand = median(perCommandUs[index] ?? []);
    const floorPerEchoRpc = cpuUsPerCommand / echoPhase.cpuUsPerRpc;
    return { batchSize: batchSizes[index] ?? 0, cpuUsPerCommand, floorPerEchoRpc, cpuPerRpcRatioFloor: 1 + floorPerEchoRpc };
  };
  return {
    target: target.name, echo: echo.name, pattern: describePattern(pattern), prefillRecords, commitsPerRound: commits, rounds, echoCpuUsPerRpc: echoPhase.cpuUsPerRpc,
    measuredCpuPerRpcRatio: target.ratios['returns.saturation.cpuPerRpc'], observed: atBatch(0), allTerminals: atBatch(1),
  };
}

function finish(results: TargetResult[], canned: Record<string, CannedResponse>, runtime: Runtime, profileDir: string | undefined, floor: CommitFloor | undefined): void {
  const gatedTarget = thresholdTarget(results);
  if (recordThresholds && gatedTarget !== undefined) writeFileSync(thresholdsFile, `${JSON.stringify(recordNewThresholds(gatedTarget), null, 2)}\n`);
  const thresholds: Thresholds | undefined = existsSync(thresholdsFile) ? (JSON.parse(readFileSync(thresholdsFile, 'utf8')) as Thresholds) : undefined;
  const label = gatedTarget?.name ?? 'pool-N';
  const report: BenchReport = {
    bench: 'grpc', mode, at: new Date().toISOString(), node: process.version, cpus: coreCount, cpuModel: cpus()[0]?.model ?? 'unknown', runtime,
    settings: { ...settings, elapsedMs: Date.now() - benchStartedMs, cannedResponseBytes: Object.fromEntries(Object.entries(canned).map(([name, c]) => [name, { bytes: c.bytes, min: c.bytesMin, max: c.bytesMax, samples: c.samples }])) },
    targets: results,
    targetChecks: mode === 'profile' ? [] : checkBounds(gatedTarget?.ratios ?? {}, issueTargets, label, 'MISSED'),
    thresholdChecks: mode === 'profile' ? [] : thresholds === undefined ? [{ ratio: '*', measured: undefined, bound: '-', pass: false, message: 'bench/thresholds.json is missing: run with --record-thresholds' }] : checkBounds(gatedTarget?.ratios ?? {}, thresholds.bounds, label),
    ...(floor === undefined ? {} : { floor }),
    notes: notes(results),
  };
  const base = mode === 'full' ? 'bench' : `bench-${mode}`;
  writeFileSync(join(resultsDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, mode === 'full' ? 'report.html' : `report-${mode}.html`), htmlReport(report));
  process.stdout.write(`${textTable(report)}\n\nwritten: bench/results/${base}.json and the HTML report beside it\n`);
  if (profileDir !== undefined) process.stdout.write(`\n${summarizeProfiles(profileDir, 15)}\n`);
  const failed = report.thresholdChecks.filter((check) => !check.pass);
  if (mode === 'ci' && failed.length > 0) {
    for (const check of failed) process.stderr.write(`bench:ci: ${check.message}\n`);
    process.exitCode = 1;
  }
}

function notes(results: readonly TargetResult[]): string[] {
  const list = [
    `Server CPU is utime + stime of the server process (all its threads) from /proc/<pid>/stat, ${clockTicks} ticks per second, read just before and after each measured window.`,
    'Load generators share the machine with the server; on a 2-core machine they compete for the same cores. That is why ratios to the echo server, driven by the same generators, are the numbers to compare.',
    'Open-loop latency is measured from each operation\'s intended start, so a server that falls behind shows its queueing delay.',
  ];
  for (const result of results) {
    for (const phase of result.phases) {
      if (phase.errors > 0) list.push(`${result.name} ${phase.workload} ${phase.loop}: ${phase.errors} errors: ${JSON.stringify(phase.errorsByReason)}`);
    }
    const returns = phaseOf(result, 'returns', 'saturation');
    if (returns !== undefined && returns.operations === 0) list.push(`${result.name}: the returns workload completed no operations`);
  }
  return list;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
