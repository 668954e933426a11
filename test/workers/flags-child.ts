/**
 * Child process of pool.test.ts: started with V8 and process-wide node flags (which worker
 * threads refuse when handed them explicitly) and a per-thread one, it starts a one-shard pool in
 * the directory it is given and commits one command through the writer thread, then starts a probe
 * worker the way the pool starts its writers, and prints the outcome and the flags the probe saw.
 * Usage: node <flags> --import tsx flags-child.ts <dataDir>
 */
import { ShardPool } from '../../src/workers/index.js';
import { startWorker } from '../../src/workers/pool.js';

const [dataDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: flags-child.ts <dataDir>');
const pool = await ShardPool.start({ dataDir, shardCount: 1 });
const outcome = await pool.submit({ idempotencyId: 'flags-1', actor: {}, command: { type: 'UpsertStore', storeId: 'S1', name: 'Flags', currency: 'USD' } });
await pool.close();
const probe = startWorker(new URL('./flags-probe.ts', import.meta.url), {}, 'flags-probe');
const workerExecArgv = await new Promise<string[]>((resolve, reject) => {
  probe.once('message', (message: string[]) => resolve(message));
  probe.once('error', reject);
});
await probe.terminate();
process.stdout.write(`${JSON.stringify({ outcome, workerExecArgv })}\n`);
