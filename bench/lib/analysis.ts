/**
 * Pure arithmetic of the benchmark: merging the load generators' summaries into one phase result,
 * CPU per operation from the server's own clock ticks, the tillgate ÷ echo ratios, and the
 * threshold check that gates CI. No I/O here, so all of it is tested directly.
 */
import { Histogram } from '../../src/simulate/index.js';
import type { SimulationSummary } from '../../src/simulate/index.js';
import type { Workload } from './protocol.js';

export type Loop = 'saturation' | 'open';

/** Quantiles drawn in the latency-percentile chart, and kept in bench.json for it. */
export const chartQuantiles = [0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999] as const;

export interface LatencyMs {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface PhaseResult {
  workload: Workload;
  loop: Loop;
  /** Open loop: the offered operations per second over all generators. */
  offeredPerSecond: number | undefined;
  durationMs: number;
  operations: number;
  rpcs: number;
  droppedOperations: number;
  errors: number;
  errorsByReason: Record<string, number>;
  opsPerSecond: number;
  rpcsPerSecond: number;
  /** Per operation (from its intended start in an open loop). */
  latencyMs: LatencyMs;
  /** [quantile, ms] for the chart. */
  percentilesMs: [number, number][];
  latencyByRpcMs: Record<string, LatencyMs>;
  serverCpuUs: number;
  cpuUsPerOp: number;
  cpuUsPerRpc: number;
  /** The share of cpuUsPerRpc spent on the server's main thread. */
  mainThreadCpuUsPerRpc: number;
  /** Server CPU over wall time, in cores (2.0 = both cores of this machine busy). */
  serverCores: number;
  /** The load generators' CPU over wall time, in cores. */
  generatorCores: number;
  /** Every process on the machine (this run's and anyone else's), in cores: near the core count means contended. */
  machineCores: number;
  /** tillgate only: durable commands per LMDB commit (group-commit batch size) over the window. */
  commandsPerCommit?: number;
  /** tillgate pool only: the share of cpuUsPerRpc spent on the shard writers' threads. */
  writerThreadsCpuUsPerRpc?: number;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export function latencyOf(histogram: Histogram): LatencyMs {
  return {
    count: histogram.count, p50: round(histogram.quantileUs(0.5) / 1000), p99: round(histogram.quantileUs(0.99) / 1000),
    p999: round(histogram.quantileUs(0.999) / 1000), max: round(histogram.maxUs / 1000),
  };
}

/** Merges the named histogram of every generator's summary. */
export function mergedHistogram(summaries: readonly SimulationSummary[], name: string): Histogram {
  const merged = new Histogram();
  for (const summary of summaries) {
    const data = summary.histograms[name];
    if (data !== undefined) merged.merge(Histogram.fromJSON(data));
  }
  return merged;
}

export interface CpuWindow {
  ticksBefore: number;
  ticksAfter: number;
  /** CPU of the server's main thread alone (gRPC, TLS, the pool's dispatch; the inline engine's ledger too). */
  mainThreadTicks: number;
  generatorTicks: number;
  machineBusyTicks: number;
  clockTicksPerSecond: number;
  wallMs: number;
  /** A tillgate node's shards over the window: commands and commits, and the writer threads' CPU ticks. */
  commits?: { commands: number; batches: number; writerTicks: number };
}

/** utime + stime of a process from the text of /proc/<pid>/stat (fields 14 and 15). */
export function cpuTicksFromStat(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read utime/stime from /proc stat: ${stat.slice(0, 120)}`);
  return utime + stime;
}

const coresOf = (ticks: number, cpu: CpuWindow) => (cpu.wallMs <= 0 ? 0 : round((ticks * 1000) / cpu.clockTicksPerSecond / cpu.wallMs, 2));

export function summarizePhase(workload: Workload, loop: Loop, offeredPerSecond: number | undefined, summaries: readonly SimulationSummary[], cpu: CpuWindow): PhaseResult {
  if (summaries.length === 0) throw new Error('no generator summaries to merge');
  const operations = summaries.reduce((sum, s) => sum + s.operations, 0);
  const rpcs = summaries.reduce((sum, s) => sum + s.rpcs, 0);
  const errorsByReason: Record<string, number> = {};
  for (const summary of summaries) for (const [reason, count] of Object.entries(summary.errors)) errorsByReason[reason] = (errorsByReason[reason] ?? 0) + count;
  const operation = mergedHistogram(summaries, 'operation');
  const rpcNames = [...new Set(summaries.flatMap((s) => Object.keys(s.histograms)))].filter((name) => name !== 'operation').sort();
  const serverCpuUs = ((cpu.ticksAfter - cpu.ticksBefore) * 1e6) / cpu.clockTicksPerSecond;
  return {
    workload, loop, offeredPerSecond: offeredPerSecond === undefined ? undefined : round(offeredPerSecond, 1),
    durationMs: Math.max(...summaries.map((s) => s.durationMs)), operations, rpcs,
    droppedOperations: summaries.reduce((sum, s) => sum + s.droppedOperations, 0),
    errors: Object.values(errorsByReason).reduce((a, b) => a + b, 0), errorsByReason,
    // Each generator's rate over its own window: their windows overlap but do not line up exactly.
    opsPerSecond: round(summaries.reduce((sum, s) => sum + s.opsPerSecond, 0), 1),
    rpcsPerSecond: round(summaries.reduce((sum, s) => sum + s.rpcsPerSecond, 0), 1),
    latencyMs: latencyOf(operation),
    percentilesMs: chartQuantiles.map((q) => [q, round(operation.quantileUs(q) / 1000)]),
    latencyByRpcMs: Object.fromEntries(rpcNames.map((name) => [name, latencyOf(mergedHistogram(summaries, name))])),
    serverCpuUs: Math.round(serverCpuUs),
    cpuUsPerOp: operations === 0 ? 0 : round(serverCpuUs / operations, 1),
    cpuUsPerRpc: rpcs === 0 ? 0 : round(serverCpuUs / rpcs, 1),
    mainThreadCpuUsPerRpc: rpcs === 0 ? 0 : round((cpu.mainThreadTicks * 1e6) / cpu.clockTicksPerSecond / rpcs, 1),
    serverCores: coresOf(cpu.ticksAfter - cpu.ticksBefore, cpu),
    generatorCores: coresOf(cpu.generatorTicks, cpu),
    machineCores: coresOf(cpu.machineBusyTicks, cpu),
    ...commitFields(cpu, rpcs),
  };
}

function commitFields(cpu: CpuWindow, rpcs: number): Pick<PhaseResult, 'commandsPerCommit' | 'writerThreadsCpuUsPerRpc'> {
  const commits = cpu.commits;
  if (commits === undefined || commits.batches <= 0) return {};
  const commandsPerCommit = round(commits.commands / commits.batches, 1);
  return rpcs === 0 ? { commandsPerCommit } : { commandsPerCommit, writerThreadsCpuUsPerRpc: round((commits.writerTicks * 1e6) / cpu.clockTicksPerSecond / rpcs, 1) };
}

/** tillgate ÷ echo for one workload and loop; names are `${workload}.${loop}.${metric}`. */
export function ratiosOf(target: readonly PhaseResult[], echo: readonly PhaseResult[]): Record<string, number> {
  const ratios: Record<string, number> = {};
  for (const phase of target) {
    const base = echo.find((candidate) => candidate.workload === phase.workload && candidate.loop === phase.loop);
    if (base === undefined) continue;
    const key = `${phase.workload}.${phase.loop}`;
    const put = (metric: string, value: number, baseline: number) => {
      if (baseline > 0) ratios[`${key}.${metric}`] = round(value / baseline);
    };
    put('throughput', phase.opsPerSecond, base.opsPerSecond);
    put('cpuPerOp', phase.cpuUsPerOp, base.cpuUsPerOp);
    put('cpuPerRpc', phase.cpuUsPerRpc, base.cpuUsPerRpc);
    put('p50', phase.latencyMs.p50, base.latencyMs.p50);
    put('p99', phase.latencyMs.p99, base.latencyMs.p99);
    put('p999', phase.latencyMs.p999, base.latencyMs.p999);
  }
  return ratios;
}

/** A bound on one ratio: at least `min`, or at most `max`. */
export interface RatioBound {
  ratio: string;
  min?: number;
  max?: number;
  why?: string;
}

export interface BoundCheck {
  ratio: string;
  measured: number | undefined;
  bound: string;
  pass: boolean;
  message: string;
}

/** Checks every bound; a ratio that was not measured fails, so a broken phase cannot pass silently. */
export function checkBounds(ratios: Readonly<Record<string, number>>, bounds: readonly RatioBound[], label: string, failWord = 'REGRESSED'): BoundCheck[] {
  return bounds.map((bound) => {
    const measured = ratios[bound.ratio];
    const text = [bound.min === undefined ? '' : `>= ${bound.min}`, bound.max === undefined ? '' : `<= ${bound.max}`].filter(Boolean).join(' and ');
    if (measured === undefined || !Number.isFinite(measured)) {
      return { ratio: bound.ratio, measured, bound: text, pass: false, message: `${label}: ratio ${bound.ratio} was not measured (bound ${text})` };
    }
    const pass = (bound.min === undefined || measured >= bound.min) && (bound.max === undefined || measured <= bound.max);
    const verdict = pass ? 'ok' : failWord;
    return { ratio: bound.ratio, measured, bound: text, pass, message: `${label}: ${bound.ratio} = ${measured} (bound ${text}) ${verdict}` };
  });
}

/** The issue's targets, as bounds on the same ratios (informational: CI gates on thresholds.json). */
export const issueTargets: readonly RatioBound[] = [
  { ratio: 'returns.saturation.cpuPerRpc', max: 1.5, why: 'server CPU per RPC within 1.5x of the echo server, each at its own saturation' },
  // The issue does not say at what load CPU is compared, and echo's CPU per RPC at half its
  // saturation rate is 1.7-2.0x its CPU per RPC at saturation (fixed costs spread over fewer
  // calls), so the same target is also read at one offered rate for both (bench/README.md).
  { ratio: 'returns.open.cpuPerRpc', max: 1.5, why: 'the same CPU target, both servers at the same offered rate (half the echo saturation rate)' },
  { ratio: 'returns.saturation.throughput', min: 0.6, why: 'throughput at saturation at least 0.6x the echo server' },
  { ratio: 'returns.open.p99', max: 2, why: 'p99 at half the echo saturation rate at most 2x the echo p99' },
  { ratio: 'mix.open.p99', max: 2, why: 'the same p99 target for the simulate mix' },
];

/** Thresholds recorded from a measured ratio with a safety margin (0.4 = 40% room). */
export function thresholdFrom(ratio: string, measured: number, direction: 'min' | 'max', margin: number): RatioBound {
  const value = direction === 'min' ? measured * (1 - margin) : measured * (1 + margin);
  return direction === 'min' ? { ratio, min: round(value, 2) } : { ratio, max: round(value, 2) };
}

/** Committed commands and commits summed over shards (pool stats, or the control socket's status). */
export function sumCommits(shards: readonly { committedCommands: number; committedBatches: number }[]): { commands: number; batches: number } {
  return shards.reduce((sum, shard) => ({ commands: sum.commands + shard.committedCommands, batches: sum.batches + shard.committedBatches }), { commands: 0, batches: 0 });
}
