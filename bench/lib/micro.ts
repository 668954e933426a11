/**
 * Shared by the in-process benchmarks (bench:ledger, bench:ledger-pool, bench:commit-floor): timing with the process's
 * own CPU accounting, scratch directories, medians, the printed table and the results file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './processes.js';

export interface Timed<T> {
  value: T;
  wallUs: number;
  /** Process CPU, user + system, all threads. */
  cpuUs: number;
  systemUs: number;
}

export async function timed<T>(run: () => T | Promise<T>): Promise<Timed<T>> {
  const startedCpu = process.cpuUsage();
  const startedNs = process.hrtime.bigint();
  const value = await run();
  const wallUs = Number(process.hrtime.bigint() - startedNs) / 1e3;
  const cpu = process.cpuUsage(startedCpu);
  return { value, wallUs, cpuUs: cpu.user + cpu.system, systemUs: cpu.system };
}

/** A timed run of `count` commands as a rate and process CPU per command. */
export function perCommand(run: { wallUs: number; cpuUs: number }, count: number): { perSecond: number; cpuUsPerCommand: number } {
  return { perSecond: count / (run.wallUs / 1e6), cpuUsPerCommand: run.cpuUs / count };
}

/** An integer knob from the environment, from 1 to `max`; anything else is refused by name. */
export function positiveInteger(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}, not ${process.env[name]}`);
  return value;
}

/** Runs `use` on a fresh directory under the system temp dir, removed afterwards. */
export async function withTempDir<T>(prefix: string, use: (path: string) => Promise<T> | T): Promise<T> {
  const path = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await use(path);
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * Runs the sides of a comparison one after another, each round starting one side later (with two
 * sides: the first goes first in even rounds), so none always inherits a warm (or busy) disk.
 */
export async function interleave(round: number, ...sides: (() => Promise<unknown>)[]): Promise<void> {
  for (let turn = 0; turn < sides.length; turn += 1) await sides[(round + turn) % sides.length]?.();
}

/** Prints a table whose cells are right-aligned to their header's width. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  console.log(headers.join('  '));
  for (const row of rows) console.log(row.map((cell, index) => cell.padStart(headers[index]?.length ?? 0)).join('  '));
}

/** Writes bench/results/<name>.json (from dist/ too) with the machine's description first. */
export function writeResults(name: string, fields: Record<string, unknown>): void {
  const dir = join(repoRoot, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const report = { bench: name, at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', ...fields };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
}
