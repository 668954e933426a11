/**
 * Child process of commit-failure.test.ts, started under a file size limit (ulimit -f, with SIGXFSZ
 * ignored) so that a shard's LMDB file cannot grow past it: it sells until a commit fails, waits
 * for the pool to restart the writer, sells once more, and prints what it saw.
 * Usage: node --import tsx commit-failure-child.ts <dataDir> [pool|inline]
 */
import { InlineSink, ShardPool } from '../../src/workers/index.js';
import type { CommandSink } from '../../src/workers/index.js';
import { envelope, sale, setupCommands } from '../helpers/commands.js';

const [dataDir, engine = 'pool'] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: commit-failure-child.ts <dataDir> [pool|inline]');
const exits: string[] = [];
const pool: CommandSink = engine === 'inline'
  ? InlineSink.open({ dataDir, shardCount: 1 })
  : await ShardPool.start({ dataDir, shardCount: 1, restartDelayMsMax: 200, onWriterExit: (_shard, reason) => exits.push(reason) });
for (const command of setupCommands(['s1'], ['A'], 1_000_000)) {
  const outcome = await pool.submit(envelope(command));
  if (!outcome.ok) throw new Error(`setup: ${outcome.error.message}`);
}
let acknowledged = 0;
let firstFailure: { code: string; message: string } | undefined;
for (let round = 0; round < 1000 && firstFailure === undefined; round += 1) {
  const outcomes = await Promise.all(Array.from({ length: 100 }, (_, index) => pool.submit(envelope(sale('s1', `R-${round}-${index}`, 'A', 1)))));
  for (const outcome of outcomes) {
    if (outcome.ok) acknowledged += 1;
    else firstFailure ??= outcome.error;
  }
}
// The writer stops after the failed commit and the pool starts another on the same shard.
for (let waited = 0; engine === 'pool' && waited < 10_000 && (pool.stats()[0]?.restarts ?? 0) === 0; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
let after: { ok: boolean; code?: string } = { ok: false, code: 'NOT_TRIED' };
for (let attempt = 0; attempt < 100 && !after.ok; attempt += 1) {
  const outcome = await pool.submit(envelope(sale('s1', 'R-after', 'A', 1), 'T1', 'after-1'));
  after = outcome.ok ? { ok: true } : { ok: false, code: outcome.error.code };
  if (!after.ok) await new Promise((resolve) => setTimeout(resolve, 50));
}
const reader = pool.reader('s1');
const report = { acknowledged, firstFailure, exits: exits.length, restarts: pool.stats()[0]?.restarts, after, verify: reader.verify().ok, sellable: reader.getPosition('s1', 'A')?.sellable };
await pool.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
