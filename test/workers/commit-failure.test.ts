/**
 * A commit that fails (here: the shard's file cannot grow, as on a full disk) answers its batch
 * SHARD_UNAVAILABLE (retryable: nothing of it was committed), and the writer stops so the pool
 * reopens the shard from what is durable instead of refusing every write until a manual restart.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { tempDir } from '../helpers/tmp.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./commit-failure-child.ts', import.meta.url));

for (const engine of ['pool', 'inline'] as const) {
  test(`${engine}: a failed commit is SHARD_UNAVAILABLE, the shard is opened again, and nothing acknowledged is lost`, async (t) => {
    const dataDir = tempDir(t);
    // 4 MiB of file at most; SIGXFSZ ignored so the write fails with EFBIG instead of killing the process.
    const script = `trap '' XFSZ; ulimit -f 8192; exec "${process.execPath}" --import tsx "${child}" "${dataDir}" ${engine}`;
    const run = spawn('bash', ['-c', script], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    // The report is the last line on stdout; LMDB's own write errors go to stderr at any moment.
    let output = '';
    let stdout = '';
    run.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => run.on('exit', resolve));
    t.is(code, 0, output);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      acknowledged: number; firstFailure?: { code: string; message: string }; restarts: number; after: { ok: boolean; code?: string }; verify: boolean; sellable: number;
    };
    t.true(report.acknowledged > 0);
    t.is(report.firstFailure?.code, 'SHARD_UNAVAILABLE', output);
    t.regex(report.firstFailure?.message ?? '', /commit failed: .*retry with the same idempotency id/);
    // The pool restarts the writer; the inline engine reopens the ledger: either way a small sale
    // fits again (pages the failed commit did not keep are reused) without a restart of the process.
    if (engine === 'pool') t.true(report.restarts >= 1, output);
    t.true(report.after.ok, output);
    t.true(report.verify);
    t.is(report.sellable, 1_000_000 - report.acknowledged - 1);
  });
}
