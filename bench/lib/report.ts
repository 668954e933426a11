/**
 * Rendering of a benchmark result: the text table printed at the end of a run, and the
 * self-contained HTML report (inline SVG latency-percentile charts, no external assets). Pure
 * functions of the result object, so the report can be regenerated from bench.json alone.
 */
import type { BoundCheck, Loop, PhaseResult } from './analysis.js';
import type { Workload } from './protocol.js';

export interface TargetResult {
  name: string;
  /** floor: the echo server with tillgate's engine and a minimal ledger (bench/echo-server.ts --engine). */
  kind: 'echo' | 'tillgate' | 'floor';
  engine: 'pool' | 'inline' | undefined;
  shards: number | undefined;
  phases: PhaseResult[];
  /** tillgate only: the name of the echo result measured beside it. */
  echo?: string;
  /** tillgate ÷ echo, by `${workload}.${loop}.${metric}`; empty for the echo target itself. */
  ratios: Record<string, number>;
}

export interface BenchReport {
  bench: 'grpc';
  mode: string;
  at: string;
  node: string;
  cpus: number;
  cpuModel: string;
  runtime: string;
  settings: Record<string, unknown>;
  targets: TargetResult[];
  targetChecks: BoundCheck[];
  thresholdChecks: BoundCheck[];
  /** The durable-commit floor beside the echo server's CPU per RPC; absent in --profile runs. */
  floor?: CommitFloor;
  notes: string[];
}

/** The floor at one batch size: CPU per command, and what it puts under the CPU ratio. */
export interface FloorAtBatch {
  batchSize: number;
  cpuUsPerCommand: number;
  /** cpuUsPerCommand ÷ the echo server's CPU per RPC. */
  floorPerEchoRpc: number;
  /** 1 + floorPerEchoRpc: the least returns CPU per RPC ÷ echo a server paying this commit can reach. */
  cpuPerRpcRatioFloor: number;
}

/**
 * Synchronous durable LMDB commits of what every accepted command must make durable (its journal
 * entry and its idempotency record; bench/lib/commit-floor.ts), with no ledger code, measured after
 * every server has stopped, beside the echo server's CPU per RPC in the gated target's returns
 * phase at saturation: at the batch size that phase committed at, and at a batch of every
 * terminal's command at once (more than any one commit can hold under this load). Each returns
 * RPC is one command. tillgate does all of the echo server's work (the same TLS, framing and
 * responses) and commits every command durably before it answers, so its returns CPU per RPC ÷
 * echo cannot go below 1 + floor ÷ echo's CPU per RPC at the batch sizes it reaches.
 */
export interface CommitFloor {
  target: string;
  echo: string;
  pattern: string;
  prefillRecords: number;
  commitsPerRound: number;
  rounds: number;
  echoCpuUsPerRpc: number;
  /** The target's returns.saturation.cpuPerRpc ratio, measured, for comparison. */
  measuredCpuPerRpcRatio: number | undefined;
  observed: FloorAtBatch;
  allTerminals: FloorAtBatch;
}

export function floorLines(floor: CommitFloor): string[] {
  const line = (label: string, at: FloorAtBatch) =>
    `  ${label}, ${at.batchSize} commands per commit: ${fixed(at.cpuUsPerCommand, 0)} µs CPU per command = ${fixed(at.floorPerEchoRpc, 2)}x echo's CPU per RPC, so returns CPU per RPC ÷ echo >= ${fixed(at.cpuPerRpcRatioFloor, 2)}`;
  return [
    `durable-commit floor beside ${floor.echo}'s returns phase (${fixed(floor.echoCpuUsPerRpc, 0)} µs CPU per RPC): LMDB group commits of ${floor.pattern}, ${floor.prefillRecords} records per tree, no ledger code; ${floor.target} measured ${fixed(floor.measuredCpuPerRpcRatio, 2)}`,
    line(`at the batch ${floor.target}'s returns phase committed`, floor.observed),
    line('with every terminal\'s command in one commit', floor.allTerminals),
  ];
}

export const phaseKeys: readonly { workload: Workload; loop: Loop; title: string }[] = [
  { workload: 'mix', loop: 'saturation', title: 'simulate mix, saturation (closed loop)' },
  { workload: 'mix', loop: 'open', title: 'simulate mix, open loop at half the echo saturation rate' },
  { workload: 'returns', loop: 'saturation', title: 'AuthorizeReturn + CompleteReturn, saturation (closed loop)' },
  { workload: 'returns', loop: 'open', title: 'AuthorizeReturn + CompleteReturn, open loop at half the echo saturation rate' },
];

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));

export function phaseOf(target: TargetResult, workload: Workload, loop: Loop): PhaseResult | undefined {
  return target.phases.find((phase) => phase.workload === workload && phase.loop === loop);
}

/** One block per phase: a row per target, with its ratios to echo beside its numbers. */
export function textTable(report: BenchReport): string {
  const out: string[] = [];
  for (const key of phaseKeys) {
    const rows = report.targets.map((target) => ({ target, phase: phaseOf(target, key.workload, key.loop) })).filter((row) => row.phase !== undefined);
    if (rows.length === 0) continue;
    const offered = rows[0]?.phase?.offeredPerSecond;
    out.push('', `${key.title}${offered === undefined ? '' : ` (offered ${offered.toFixed(0)} ops/s)`}`);
    out.push('target           ops/s   p50 ms   p99 ms  p999 ms  cpu µs/op  cpu µs/rpc  main  wrtr  cores  gen  mach  err  drop  c/commit | ÷echo: ops/s  cpu/rpc    p99');
    for (const { target, phase } of rows) {
      if (phase === undefined) continue;
      const ratio = (metric: string) => target.ratios[`${key.workload}.${key.loop}.${metric}`];
      out.push([
        target.name.padEnd(13), fixed(phase.opsPerSecond, 0).padStart(8), fixed(phase.latencyMs.p50, 2).padStart(8), fixed(phase.latencyMs.p99, 2).padStart(8),
        fixed(phase.latencyMs.p999, 2).padStart(8), fixed(phase.cpuUsPerOp, 0).padStart(10), fixed(phase.cpuUsPerRpc, 0).padStart(11), fixed(phase.mainThreadCpuUsPerRpc, 0).padStart(5), fixed(phase.writerThreadsCpuUsPerRpc, 0).padStart(5), fixed(phase.serverCores, 2).padStart(6),
        fixed(phase.generatorCores, 1).padStart(4), fixed(phase.machineCores, 1).padStart(5), String(phase.errors).padStart(4), String(phase.droppedOperations).padStart(5), fixed(phase.commandsPerCommit, 1).padStart(9), '|', fixed(ratio('throughput'), 3).padStart(12), fixed(ratio('cpuPerRpc'), 3).padStart(8), fixed(ratio('p99'), 3).padStart(6),
      ].join(' '));
    }
  }
  const checks = (title: string, list: readonly BoundCheck[]) => (list.length === 0 ? [] : ['', title, ...list.map((check) => `  ${check.pass ? 'pass' : 'FAIL'}  ${check.message}`)]);
  out.push(...checks('issue targets (informational):', report.targetChecks), ...checks('CI thresholds (bench/thresholds.json):', report.thresholdChecks));
  if (report.floor !== undefined) out.push('', ...floorLines(report.floor));
  return out.join('\n');
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
const palette = ['#222222', '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** x: "nines" of the quantile (p50 → 0.3, p99 → 2, p99.9 → 3), y: latency on a log scale. */
export function percentileChartSvg(title: string, series: readonly { name: string; points: readonly [number, number][] }[]): string {
  const width = 640;
  const height = 320;
  const margin = { left: 60, right: 130, top: 28, bottom: 40 };
  const nines = (q: number) => -Math.log10(1 - q);
  const all = series.flatMap((s) => s.points).filter(([, ms]) => ms > 0);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40"><text x="10" y="24">${escapeHtml(title)}: no data</text></svg>`;
  const xMax = Math.max(...all.map(([q]) => nines(q)));
  const yLow = Math.floor(Math.log10(Math.min(...all.map(([, ms]) => ms))));
  const yHigh = Math.ceil(Math.log10(Math.max(...all.map(([, ms]) => ms)))) + (all.length === 1 ? 1 : 0);
  const x = (q: number) => margin.left + (nines(q) / xMax) * (width - margin.left - margin.right);
  const y = (ms: number) => height - margin.bottom - ((Math.log10(ms) - yLow) / Math.max(1, yHigh - yLow)) * (height - margin.top - margin.bottom);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`, `<text x="${margin.left}" y="16" font-size="13">${escapeHtml(title)}</text>`];
  for (let decade = yLow; decade <= yHigh; decade += 1) {
    const ms = 10 ** decade;
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(ms).toFixed(1)}" y2="${y(ms).toFixed(1)}" stroke="#ddd"/>`, `<text x="${margin.left - 6}" y="${(y(ms) + 4).toFixed(1)}" text-anchor="end">${ms >= 1 ? ms.toFixed(0) : ms.toString()} ms</text>`);
  }
  for (const [q] of series[0]?.points ?? []) {
    const label = `p${Number((q * 100).toFixed(2))}`;
    parts.push(`<line x1="${x(q).toFixed(1)}" x2="${x(q).toFixed(1)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#eee"/>`, `<text x="${x(q).toFixed(1)}" y="${height - margin.bottom + 16}" text-anchor="middle">${label}</text>`);
  }
  series.forEach((s, index) => {
    const color = palette[index % palette.length] ?? '#000';
    const points = s.points.filter(([, ms]) => ms > 0).map(([q, ms]) => `${x(q).toFixed(1)},${y(ms).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`);
    parts.push(`<text x="${width - margin.right + 8}" y="${margin.top + 14 * (index + 1)}" fill="${color}">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function htmlPhaseTable(report: BenchReport, workload: Workload, loop: Loop): string {
  const header = '<tr><th>target</th><th>ops/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>CPU µs/op</th><th>CPU µs/RPC</th><th>of it, main thread</th><th>of it, shard writers</th><th>server cores</th><th>generator cores</th><th>machine cores</th><th>errors</th><th>dropped</th><th>commands per commit</th><th>ops/s ÷ echo</th><th>CPU/RPC ÷ echo</th><th>p99 ÷ echo</th></tr>';
  const rows = report.targets.flatMap((target) => {
    const phase = phaseOf(target, workload, loop);
    if (phase === undefined) return [];
    const ratio = (metric: string) => fixed(target.ratios[`${workload}.${loop}.${metric}`], 3);
    const cells = [target.name, fixed(phase.opsPerSecond, 0), fixed(phase.latencyMs.p50, 2), fixed(phase.latencyMs.p99, 2), fixed(phase.latencyMs.p999, 2), fixed(phase.cpuUsPerOp, 0), fixed(phase.cpuUsPerRpc, 0), fixed(phase.mainThreadCpuUsPerRpc, 0), fixed(phase.writerThreadsCpuUsPerRpc, 0), fixed(phase.serverCores, 2), fixed(phase.generatorCores, 2), fixed(phase.machineCores, 2), String(phase.errors), String(phase.droppedOperations), fixed(phase.commandsPerCommit, 1), ratio('throughput'), ratio('cpuPerRpc'), ratio('p99')];
    return [`<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`];
  });
  return `<table>${header}${rows.join('')}</table>`;
}

export function htmlReport(report: BenchReport): string {
  const sections = phaseKeys.map((key) => {
    const series = report.targets.flatMap((target) => {
      const phase = phaseOf(target, key.workload, key.loop);
      return phase === undefined ? [] : [{ name: target.name, points: phase.percentilesMs }];
    });
    if (series.length === 0) return '';
    return `<h2>${escapeHtml(key.title)}</h2>${htmlPhaseTable(report, key.workload, key.loop)}${percentileChartSvg(`latency by percentile: ${key.title}`, series)}`;
  });
  const checkRows = (list: readonly BoundCheck[]) => list.map((check) => `<li class="${check.pass ? 'pass' : 'fail'}">${check.pass ? 'pass' : 'FAIL'}: ${escapeHtml(check.message)}</li>`).join('');
  return [
    '<!doctype html><html><head><meta charset="utf-8"><title>tillgate benchmark</title>',
    '<style>body{font-family:sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.fail{color:#b00}.pass{color:#070}</style></head><body>',
    `<h1>tillgate gRPC benchmark (${escapeHtml(report.mode)})</h1>`,
    `<p>${escapeHtml(report.at)} · node ${escapeHtml(report.node)} · ${report.cpus} × ${escapeHtml(report.cpuModel)} · runtime ${escapeHtml(report.runtime)}</p>`,
    `<pre>${escapeHtml(JSON.stringify(report.settings, null, 1))}</pre>`,
    ...sections,
    `<h2>Issue targets (informational)</h2><ul>${checkRows(report.targetChecks)}</ul>`,
    report.floor === undefined ? '' : `<h2>Durable-commit floor</h2><pre>${escapeHtml(floorLines(report.floor).join('\n'))}</pre>`,
    `<h2>CI thresholds</h2><ul>${checkRows(report.thresholdChecks)}</ul>`,
    `<h2>Notes</h2><ul>${report.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`,
    '</body></html>',
  ].join('\n');
}
