/**
 * The engine when things go wrong: a start that fails leaves nothing running; a shard without a
 * writer refuses at once; a replicated command is admitted by every shard or none; a command that
 * cannot be encoded for a writer is refused without harm to its neighbours; the inline engine
 * releases expired holds on an idle shard.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Ledger } from '../../src/ledger/index.js';
import type { Command, Outcome } from '../../src/ledger/index.js';
import { InlineSink, ShardPool, openLayout, shardOf, shardPath } from '../../src/workers/index.js';
import { lockName } from '../../src/workers/layout.js';
import { envelope, sale, setupCommands } from '../helpers/commands.js';
import { breakShard, submitUntilApplied } from '../helpers/shards.js';
import { tempDir } from '../helpers/tmp.js';
import { faultyLedgerModuleUrl } from './faulty-ledger.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store id that routes to `shard` of `count`. */
function storeOn(shard: number, count: number): string {
  for (let index = 0; ; index += 1) if (shardOf(`st-${index}`, count) === shard) return `st-${index}`;
}

async function submitAll(pool: { submit: ShardPool['submit'] }, commands: Command[]): Promise<void> {
  for (const command of commands) {
    const outcome = await pool.submit(envelope(command));
    if (!outcome.ok) throw new Error(`setup: ${outcome.error.code} ${outcome.error.message}`);
  }
}

test('a start that fails stops every writer it started, restarts none, and gives the directory back', async (t) => {
  const dataDir = tempDir(t);
  openLayout(dataDir, 2, 2);
  // Shard 1 cannot open: its directory is a file.
  rmSync(shardPath(dataDir, 1), { recursive: true });
  writeFileSync(shardPath(dataDir, 1), 'not a directory');
  const exits: string[] = [];
  await t.throwsAsync(ShardPool.start({ dataDir, restartDelayMsMax: 100, onWriterExit: (_shard, reason) => exits.push(reason) }));
  t.false(existsSync(join(dataDir, lockName)));
  const after = exits.length;
  await sleep(1000);
  t.is(exits.length, after, `writers restarted after the failed start: ${exits.slice(after).join('; ')}`);
  // The directory mended, a new pool starts and shard 0 holds one unbroken journal.
  rmSync(shardPath(dataDir, 1));
  renameSync(tempDir(t), shardPath(dataDir, 1));
  const pool = await ShardPool.start({ dataDir });
  t.teardown(() => pool.close());
  const store = storeOn(0, 2);
  await submitAll(pool, setupCommands([store], ['A'], 10));
  t.true(pool.readers().every((reader) => reader.verify().ok));
});

test('a shard whose writer is down refuses at once with SHARD_UNAVAILABLE, and a retry after the restart applies once', async (t) => {
  const dataDir = tempDir(t);
  const pool = await ShardPool.start({ dataDir, shardCount: 1, restartDelayMsMax: 200 });
  t.teardown(() => pool.close());
  await submitAll(pool, setupCommands(['s1'], ['A'], 10));
  // Every restart fails while the shard's directory is away.
  const mend = breakShard(dataDir, 0);
  await pool.killShard(0);
  const command = envelope(sale('s1', 'R-down', 'A', 1));
  const refused = await Promise.race([pool.submit(command), sleep(5000).then((): Outcome => ({ ok: false, error: { code: 'STILL_WAITING', message: '' } }))]);
  t.is(refused.ok ? 'ok' : refused.error.code, 'SHARD_UNAVAILABLE');
  mend();
  t.true((await submitUntilApplied(pool, command, 200, 50))?.ok);
  t.like(pool.reader('s1').getPosition('s1', 'A'), { sellable: 9 });
});

test('UpsertSku is admitted by every shard or by none: with one shard full it is refused and recorded nowhere', async (t) => {
  const dataDir = tempDir(t);
  const pool = await ShardPool.start({ dataDir, shardCount: 2, queueCommandsMax: 4 });
  t.teardown(() => pool.close());
  const busy = storeOn(1, 2);
  await submitAll(pool, setupCommands([busy], ['A'], 1000));
  // Fill shard 1's queue in one turn, then ask for a new SKU in the same turn.
  const filling = Array.from({ length: 20 }, (_, index) => pool.submit(envelope(sale(busy, `F-${index}`, 'A', 1))));
  const upsert = await pool.submit(envelope({ type: 'UpsertSku', sku: 'NEW', description: 'new item', returnable: true, returnWindowDays: 0 }));
  await Promise.all(filling);
  t.is(upsert.ok ? 'ok' : upsert.error.code, 'OVERLOADED');
  t.deepEqual(pool.readers().map((reader) => reader.getSku('NEW')), [undefined, undefined]);
});

test('a command msgpack cannot carry is refused INVALID_ARGUMENT; the commands sent with it are served', async (t) => {
  const dataDir = tempDir(t);
  const pool = await ShardPool.start({ dataDir, shardCount: 1 });
  t.teardown(() => pool.close());
  await submitAll(pool, setupCommands(['s1'], ['A'], 10));
  const cyclic: Record<string, unknown> = { type: 'RecordSale', storeId: 's1' };
  cyclic.self = cyclic;
  const huge = { ...sale('s1', 'R-big', 'A', 1), note: 2n ** 80n } as unknown as Command;
  const outcomes = await Promise.all([
    pool.submit(envelope(sale('s1', 'R-1', 'A', 1))),
    pool.submit(envelope(cyclic as unknown as Command)),
    pool.submit(envelope(huge)),
    pool.submit(envelope(sale('s1', 'R-2', 'A', 1))),
  ]);
  t.deepEqual(outcomes.map((outcome) => (outcome.ok ? 'ok' : outcome.error.code)), ['ok', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'ok']);
  t.like(pool.reader('s1').getPosition('s1', 'A'), { sellable: 8 });
});

test('the inline engine releases an expired hold on a shard nothing else reaches', async (t) => {
  const dataDir = tempDir(t);
  const sink = InlineSink.open({ dataDir, shardCount: 1, expirySweepIntervalMs: 50 });
  t.teardown(() => sink.close());
  await submitAll(sink, [
    ...setupCommands(['s1'], ['A'], 10),
    { type: 'UpsertStore', storeId: 's1', name: 'Store s1', currency: 'USD', policy: { holdTtlMs: 1000 } },
    sale('s1', 'R-1', 'A', 2),
    { type: 'AuthorizeReturn', storeId: 's1', returnId: 'RET-1', receiptId: 'R-1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 'SELLABLE' }] },
  ]);
  t.is(sink.reader('s1').getReturn('s1', 'RET-1')?.status, 'HELD');
  let status: string | undefined;
  for (let waited = 0; waited < 10_000 && status !== 'EXPIRED'; waited += 100) {
    await sleep(100);
    status = sink.reader('s1').getReturn('s1', 'RET-1')?.status;
  }
  t.is(status, 'EXPIRED');
  t.is(sink.reader('s1').getReceipt('s1', 'R-1')?.lines[0]?.heldQuantity, 0);
  t.true(sink.reader('s1').verify().ok);
});

test('an UpsertSku that meets an idempotency conflict on one shard after applying on another says so: no retry could mend it', async (t) => {
  const dataDir = tempDir(t);
  // Shard 1 alone already holds the id, for another SKU (written to that shard directly, as a
  // replicated command that reached only it would have).
  await (await ShardPool.start({ dataDir, shardCount: 2 })).close();
  const id = 'reused-id';
  const shardOne = Ledger.open({ path: shardPath(dataDir, 1) });
  const [taken] = await shardOne.execute([envelope({ type: 'UpsertSku', sku: 'OTHER', description: 'other', returnable: true, returnWindowDays: 0 }, 'T1', id)]);
  await shardOne.close();
  t.true(taken?.ok);
  const pool = await ShardPool.start({ dataDir, shardCount: 2 });
  t.teardown(() => pool.close());
  const outcome = await pool.submit(envelope({ type: 'UpsertSku', sku: 'NEW', description: 'new', returnable: true, returnWindowDays: 0 }, 'T1', id));
  t.is(outcome.ok ? 'ok' : outcome.error.code, 'IDEMPOTENCY_CONFLICT');
  t.deepEqual(pool.readers().map((reader) => reader.getSku('NEW')?.sku), ['NEW', undefined]);
});

test('a batch that fails as a whole in the writer is answered INTERNAL at once, and the writer goes on; a failing expiry sweep harms nothing', async (t) => {
  const dataDir = tempDir(t);
  const faults: string[] = [];
  const pool = await ShardPool.start({ dataDir, shardCount: 1, expirySweepIntervalMs: 20, ledgerModule: { url: faultyLedgerModuleUrl }, onWriterFault: (shard, message) => faults.push(`${shard}: ${message}`) });
  t.teardown(() => pool.close());
  const command = { type: 'UpsertStore', storeId: 'st-1', name: 'x', currency: 'EUR' } as Command;
  // Sweeps run (and fail) every 20 ms meanwhile.
  await sleep(200);
  const failed = await pool.submit({ idempotencyId: 'fail-batch', actor: {}, command });
  t.false(failed.ok);
  t.is(failed.ok ? undefined : failed.error.code, 'INTERNAL');
  t.regex(failed.ok ? '' : failed.error.message, /nothing of it was committed: journal entry 7 does not decode/);
  t.true((await pool.submit({ idempotencyId: 'after', actor: {}, command })).ok);
  t.deepEqual(pool.stats().map((shard) => ({ alive: shard.alive, restarts: shard.restarts })), [{ alive: true, restarts: 0 }]);
  // Both kinds of fault are reported (to be logged), not swallowed.
  t.true(faults.includes('0: the batch failed and nothing of it was committed: journal entry 7 does not decode'), faults.join('\n'));
  t.true(faults.some((fault) => fault === '0: the expiry sweep failed: expiry index unreadable'), faults.join('\n'));
});
