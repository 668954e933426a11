/** The command line refuses bad arguments by name, with exit code 1, before anything is sent. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { runOpenLoop } from '../src/simulate/index.js';
import { tempDir } from './helpers/tmp.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('numbers on the command line are whole numbers in range, refused by name otherwise', async (t) => {
  const cases: [string[], RegExp][] = [
    [['return', 'complete', '--store', 'S', '--return-id', 'R', '--line', '1:abc'], /--line 1:abc: quantity must be a whole number from 1 to 1000000, got "abc"/],
    [['return', 'authorize', '--store', 'S', '--return-id', 'R', '--receipt', 'R1', '--line', 'x:A:1'], /receipt line must be a whole number/],
    [['stock', 'S', 'A', '--deadline-ms', '-5'], /--deadline-ms must be a whole number from 1/],
    [['simulate', '--rate', '100000000000', '--duration', '1'], /--rate must be a whole number from 1 to 1000000/],
  ];
  for (const [args, message] of cases) {
    const { code, output } = await cli(args);
    t.is(code, 1, output);
    t.regex(output, message);
  }
});

test('status fails with exit code 1 and a clear message when no node answers, wherever the socket is configured', async (t) => {
  const socket = join(tempDir(t), 'nobody.sock');
  const { code, output } = await cli(['status'], { TILLGATE_CONTROL_SOCKET: socket });
  t.is(code, 1);
  t.regex(output, /no tillgate node answers on .*nobody\.sock \(ENOENT\)/);
});

test('an open loop at an absurd rate with no room in flight ends at its deadline, counting the dropped operations at once', async (t) => {
  const startedMs = Date.now();
  const dropped = await runOpenLoop({
    startedMs, deadlineMs: startedMs + 200, ratePerSecond: 1e10, inflightMax: 1,
    start: () => new Promise<void>((resolve) => setTimeout(resolve, 300)),
  });
  t.true(Date.now() - startedMs < 1500, `took ${Date.now() - startedMs} ms`);
  t.true(dropped > 1e8, `${dropped} dropped`);
});
