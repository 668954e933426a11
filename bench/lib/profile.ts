/**
 * Self time by function from V8 .cpuprofile files (node --cpu-prof writes one per thread: the main
 * thread, and each worker thread). Self time of a node is the sum of the sample intervals that
 * landed in it; nodes of the same function (same name, file and line) are added together.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  share: number;
}

function frameName(node: ProfileNode): string {
  const frame = node.callFrame;
  const where = frame.url === '' ? '' : ` ${frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/(src|dist|bench)\//, '$1/')}:${frame.lineNumber + 1}`;
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`;
}

export function selfTimes(profile: CpuProfile): { totalMs: number; rows: SelfTime[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byName = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    // V8 stores each sample's interval since the previous one; the first delta belongs to sample 0.
    const deltaUs = Math.max(0, profile.timeDeltas[index] ?? 0);
    const node = byId.get(id);
    if (node === undefined) return;
    const name = frameName(node);
    byName.set(name, (byName.get(name) ?? 0) + deltaUs);
    totalUs += deltaUs;
  });
  const rows = [...byName].map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs === 0 ? 0 : us / totalUs })).sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: totalUs / 1000, rows };
}

function profileFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? profileFiles(path) : entry.name.endsWith('.cpuprofile') ? [path] : [];
  });
}

/** A text table per profile file (per thread), the top `count` functions by self time. */
export function summarizeProfiles(dir: string, count: number): string {
  const files = profileFiles(dir);
  if (files.length === 0) return `no .cpuprofile files under ${dir} (did the server exit cleanly?)`;
  const out: string[] = [];
  for (const file of files) {
    const { totalMs, rows } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    // File names are CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
    const threadId = basename(file).split('.')[4];
    out.push(`${relative(dir, file)} (${threadId === '0' ? 'main thread' : `worker thread ${threadId ?? '?'}`}), ${totalMs.toFixed(0)} ms sampled:`);
    for (const row of rows.slice(0, count)) out.push(`  ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.selfMs.toFixed(0).padStart(7)} ms  ${row.name}`);
  }
  return out.join('\n');
}
