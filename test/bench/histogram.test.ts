import test from 'ava';
import { Histogram } from '../../src/simulate/index.js';
import type { SimulationSummary } from '../../src/simulate/index.js';
import { checkBounds, cpuTicksFromStat, ratiosOf, summarizePhase, thresholdFrom } from '../../bench/lib/analysis.js';
import type { CpuWindow, PhaseResult } from '../../bench/lib/analysis.js';
import { selfTimes } from '../../bench/lib/profile.js';
import { htmlReport, textTable } from '../../bench/lib/report.js';
import type { BenchReport } from '../../bench/lib/report.js';

function summary(latenciesUs: readonly number[], operations: number, rpcs: number, durationMs = 1000): SimulationSummary {
  const histogram = new Histogram();
  for (const us of latenciesUs) histogram.record(us);
  return {
    durationMs, operations, droppedOperations: 0, rpcs, opsPerSecond: (operations * 1000) / durationMs, rpcsPerSecond: (rpcs * 1000) / durationMs,
    latencyMs: {}, outcomes: {}, errors: {}, histograms: { operation: histogram.toJSON(), AuthorizeReturn: histogram.toJSON() },
  };
}

const window = (ticks: number): CpuWindow => ({ ticksBefore: 1000, ticksAfter: 1000 + ticks, mainThreadTicks: ticks / 2, generatorTicks: 50, machineBusyTicks: 150, clockTicksPerSecond: 100, wallMs: 1000 });

test('reads utime + stime from /proc/<pid>/stat even when the command name holds spaces and parentheses', (t) => {
  const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 5000 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
  t.is(cpuTicksFromStat(stat), 1234 + 567);
  t.throws(() => cpuTicksFromStat('4242 (node) S 1'), { message: /utime\/stime/ });
});

test('a phase merges the generators\' histograms, so p99 is the p99 of all samples, not an average of p99s', (t) => {
  // Generator A: 990 fast operations; generator B: 10 slow ones. Together 1% are slow: p99 is fast, p99.9 is slow.
  const fast = summary(Array.from({ length: 990 }, () => 1000), 990, 1980);
  const slow = summary(Array.from({ length: 10 }, () => 100_000), 10, 20);
  const phase = summarizePhase('returns', 'saturation', undefined, [fast, slow], window(50));
  t.is(phase.operations, 1000);
  t.is(phase.rpcs, 2000);
  t.is(phase.opsPerSecond, 1000);
  t.true(phase.latencyMs.p99 < 1.1, `p99 ${phase.latencyMs.p99}`);
  t.true(phase.latencyMs.p999 > 90, `p999 ${phase.latencyMs.p999}`);
  // 50 ticks at 100 per second is 500,000 µs of server CPU over 1000 operations and 2000 RPCs.
  t.is(phase.serverCpuUs, 500_000);
  t.is(phase.cpuUsPerOp, 500);
  t.is(phase.cpuUsPerRpc, 250);
  t.is(phase.serverCores, 0.5);
  t.is(phase.machineCores, 1.5);
  t.is(phase.latencyByRpcMs.AuthorizeReturn?.count, 1000);
});

function phase(workload: 'mix' | 'returns', loop: 'saturation' | 'open', opsPerSecond: number, cpuUsPerRpc: number, p99: number): PhaseResult {
  const base = summarizePhase(workload, loop, undefined, [summary([1000], 1, 2)], window(1));
  return { ...base, opsPerSecond, cpuUsPerRpc, cpuUsPerOp: cpuUsPerRpc * 2, latencyMs: { ...base.latencyMs, p99 } };
}

test('ratios are tillgate ÷ echo for the same workload and loop, and absent where echo has no such phase', (t) => {
  const echo = [phase('returns', 'saturation', 4000, 100, 10)];
  const tillgate = [phase('returns', 'saturation', 1000, 400, 30), phase('mix', 'open', 500, 500, 5)];
  const ratios = ratiosOf(tillgate, echo);
  t.is(ratios['returns.saturation.throughput'], 0.25);
  t.is(ratios['returns.saturation.cpuPerRpc'], 4);
  t.is(ratios['returns.saturation.cpuPerOp'], 4);
  t.is(ratios['returns.saturation.p99'], 3);
  t.false('mix.open.throughput' in ratios);
});

test('a ratio past its threshold fails with a message naming the ratio, the measured value and the bound', (t) => {
  const checks = checkBounds({ 'returns.saturation.throughput': 0.25, 'returns.saturation.cpuPerRpc': 4 }, [
    { ratio: 'returns.saturation.throughput', min: 0.3 },
    { ratio: 'returns.saturation.cpuPerRpc', max: 5 },
    { ratio: 'returns.open.p99', max: 2 },
  ], 'pool-2');
  t.deepEqual(checks.map((check) => check.pass), [false, true, false]);
  t.is(checks[0]?.message, 'pool-2: returns.saturation.throughput = 0.25 (bound >= 0.3) REGRESSED');
  t.regex(checks[2]?.message ?? '', /returns\.open\.p99 was not measured/);
});

test('thresholds are recorded with the margin on the side a regression moves toward', (t) => {
  t.deepEqual(thresholdFrom('x.throughput', 0.5, 'min', 0.4), { ratio: 'x.throughput', min: 0.3 });
  t.deepEqual(thresholdFrom('x.cpuPerRpc', 5, 'max', 0.4), { ratio: 'x.cpuPerRpc', max: 7 });
});

test('the HTML report is self-contained and draws one percentile line per target', (t) => {
  const echoPhase = phase('returns', 'saturation', 4000, 100, 10);
  const report: BenchReport = {
    bench: 'grpc', mode: 'test', at: '2026-01-01T00:00:00Z', node: 'v20', cpus: 2, cpuModel: 'test <cpu>', runtime: 'tsx', settings: {},
    targets: [
      { name: 'echo', kind: 'echo', engine: undefined, shards: undefined, phases: [echoPhase], ratios: {} },
      { name: 'pool-2', kind: 'tillgate', engine: 'pool', shards: 2, phases: [phase('returns', 'saturation', 1000, 400, 30)], ratios: { 'returns.saturation.throughput': 0.25 } },
    ],
    targetChecks: [], thresholdChecks: checkBounds({}, [{ ratio: 'mix.open.p99', max: 2 }], 'pool-2'), notes: [],
  };
  const html = htmlReport(report);
  t.false(/(src|href)=/.test(html), 'no external assets');
  t.is(html.match(/<polyline /g)?.length, 2);
  t.true(html.includes('test &lt;cpu&gt;'), 'text is escaped');
  t.regex(textTable(report), /pool-2 .* 0\.250/);
  t.regex(textTable(report), /FAIL {2}pool-2: ratio mix\.open\.p99 was not measured/);
});

test('self time per function adds up the sample intervals of every node of that function', (t) => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: '0', columnNumber: 0 });
  const profile = {
    nodes: [{ id: 1, callFrame: frame('(root)') }, { id: 2, callFrame: frame('commit', 'file:///x/src/ledger/ledger.js', 9) }, { id: 3, callFrame: frame('commit', 'file:///x/src/ledger/ledger.js', 9) }, { id: 4, callFrame: frame('(idle)') }],
    samples: [2, 3, 4, 2],
    timeDeltas: [1000, 2000, 5000, 2000],
  };
  const { totalMs, rows } = selfTimes(profile);
  t.is(totalMs, 10);
  t.deepEqual(rows[0], { name: 'commit src/ledger/ledger.js:10', selfMs: 5, share: 0.5 });
  t.is(rows[1]?.name, '(idle)');
});
