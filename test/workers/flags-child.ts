/**
 * Child process of pool.test.ts: started with V8 and process-wide node flags (which worker
 * threads refuse when given them explicitly), it starts a one-shard pool in the directory it is
 * given, commits one command through the writer thread and prints the outcome as JSON.
 * Usage: node <flags> --import tsx flags-child.ts <dataDir>
 */
import { ShardPool } from '../../src/workers/index.js';

const [dataDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: flags-child.ts <dataDir>');
const pool = await ShardPool.start({ dataDir, shardCount: 1 });
const outcome = await pool.submit({ idempotencyId: 'flags-1', actor: {}, command: { type: 'UpsertStore', storeId: 'S1', name: 'Flags', currency: 'USD' } });
await pool.close();
process.stdout.write(`${JSON.stringify({ outcome, execArgv: process.execArgv })}\n`);
