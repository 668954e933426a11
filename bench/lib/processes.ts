/**
 * Child processes of the benchmark: the server under test (a tillgate node or the echo server) and
 * the load generators, each started with `node` directly so its pid is the process whose CPU is
 * read from /proc. Every wait has a bound; every child is stopped by its own pid.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuTicksFromStat } from './analysis.js';
import type { LoadCommand, LoadReply } from './protocol.js';

/** The repository root: the nearest folder above this file with a package.json (this file also runs from dist/). */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const serverStartMsMax = 60_000;
const serverStopMsMax = 20_000;
const stderrTailBytesMax = 16 * 1024;

export type Runtime = 'dist' | 'tsx';

function findRepoRoot(start: string): string {
  let dir = start;
  for (let depth = 0; depth < 8; depth += 1) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`no package.json above ${start}`);
}

function newestMtimeMs(dir: string, suffix: string, depthMax = 8): number {
  if (depthMax === 0 || !existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'results') newest = Math.max(newest, newestMtimeMs(path, suffix, depthMax - 1));
    else if (entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Built code when dist/ is at least as new as every source file (src and bench), else tsx: other
 * people edit src while the benchmark runs, and a stale dist would measure yesterday's server.
 */
export function chooseRuntime(forced: string | undefined): { runtime: Runtime; why: string } {
  if (forced === 'dist' || forced === 'tsx') return { runtime: forced, why: 'BENCH_RUNTIME' };
  const built = [join(repoRoot, 'dist/src/cli/index.js'), join(repoRoot, 'dist/bench/echo-server.js'), join(repoRoot, 'dist/bench/load.js')];
  if (!built.every((file) => existsSync(file))) return { runtime: 'tsx', why: 'dist/ lacks the built server or bench files' };
  const builtMs = Math.min(...built.map((file) => statSync(file).mtimeMs));
  const sourceMs = Math.max(newestMtimeMs(join(repoRoot, 'src'), '.ts'), newestMtimeMs(join(repoRoot, 'bench'), '.ts'));
  return builtMs >= sourceMs ? { runtime: 'dist', why: 'dist/ is newer than every source file' } : { runtime: 'tsx', why: 'dist/ is older than a source file (run npm run build to use it)' };
}

/** node arguments to run a TypeScript entry (path relative to the repository) in the chosen runtime. */
export function entryArgs(runtime: Runtime, entry: string): string[] {
  if (runtime === 'dist') return entry === 'src/cli/index.ts' ? [join(repoRoot, 'bin/tillgate.js')] : [join(repoRoot, 'dist', entry.replace(/\.ts$/, '.js'))];
  return ['--import', 'tsx', join(repoRoot, entry)];
}

export function clockTicksPerSecond(): number {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return Number.isSafeInteger(ticks) && ticks > 0 ? ticks : 100;
}

export function cpuTicks(pid: number): number {
  return cpuTicksFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of a process's main thread alone (its task whose id is the pid). */
export function mainThreadCpuTicks(pid: number): number {
  return threadCpuTicks(pid, pid);
}

/** utime + stime of one thread of a process; 0 once the thread is gone (a restarted writer). */
export function threadCpuTicks(pid: number, tid: number): number {
  try {
    return cpuTicksFromStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** Busy and total clock ticks of the whole machine, from the first line of /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the 4th and 5th counters.
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

export interface RunningServer {
  pid: number;
  address: string;
  caFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, serverStopMsMax))) {
    child.kill('SIGKILL');
    await waitForExit(child, serverStopMsMax);
  }
}

/** Starts a server and waits for its "serving gRPC on HOST:PORT" and "clients trust CA" lines. */
export async function startServer(label: string, nodeArgs: readonly string[]): Promise<RunningServer> {
  const child = spawn(process.execPath, nodeArgs, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  let caFile: string | undefined;
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: not serving after ${serverStartMsMax} ms:\n${tail}`)), serverStartMsMax);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      tail = `${tail}${line}\n`.slice(-stderrTailBytesMax);
      caFile ??= /clients (?:must )?trust (\S+?\.pem)/.exec(line)?.[1];
      const serving = /serving gRPC on (\S+):(\d+)/.exec(line);
      if (serving !== null) {
        clearTimeout(timer);
        resolve(`${serving[1] === '0.0.0.0' ? '127.0.0.1' : serving[1]}:${serving[2]}`);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label}: exited (${code ?? signal}) before serving:\n${tail}`));
    });
  });
  try {
    const address = await listening;
    if (child.pid === undefined || caFile === undefined) throw new Error(`${label}: no pid or no CA file line:\n${tail}`);
    return { pid: child.pid, address, caFile, child, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** One load-generator child: a command in, the next reply out, each within a bound. */
export class LoadGenerator {
  private readonly replies: LoadReply[] = [];
  private waiter: (() => void) | undefined;
  private tail = '';

  private constructor(readonly index: number, private readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.replies.push(JSON.parse(line) as LoadReply);
      this.waiter?.();
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      this.tail = `${this.tail}${line}\n`.slice(-stderrTailBytesMax);
    });
    child.once('exit', () => this.waiter?.());
  }

  static start(index: number, runtime: Runtime, server: RunningServer): LoadGenerator {
    const args = [...entryArgs(runtime, 'bench/load.ts'), '--address', server.address, '--ca-file', server.caFile, '--index', String(index)];
    return new LoadGenerator(index, spawn(process.execPath, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  async request(command: LoadCommand, timeoutMs: number): Promise<LoadReply> {
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
    const deadlineMs = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.child.exitCode !== null) throw new Error(`load generator ${this.index} exited (${this.child.exitCode}):\n${this.tail}`);
      const leftMs = deadlineMs - Date.now();
      if (leftMs <= 0) throw new Error(`load generator ${this.index}: no reply to ${command.op} within ${timeoutMs} ms:\n${this.tail}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, leftMs);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    const reply = this.replies.shift() as LoadReply;
    if (reply.type === 'error') throw new Error(`load generator ${this.index} failed ${command.op}: ${reply.message}`);
    return reply;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    if (!(await waitForExit(this.child, 5000))) await stopChild(this.child);
  }
}
