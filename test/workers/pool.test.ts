import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { ShardPool, InlineSink, shardOf, hashStoreId, openLayout, LayoutError, poolDefaults } from '../../src/workers/index.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { formatVersion, manifestName } from '../../src/workers/layout.js';
import { batchBound } from '../../src/workers/pool.js';
import { Ledger } from '../../src/ledger/index.js';
import type { Outcome, AuthorizeResult } from '../../src/ledger/index.js';
import { breakShard, submitUntilApplied } from '../helpers/shards.js';
import { tempDir } from '../helpers/tmp.js';
import { envelope, sale, setupCommands } from '../helpers/commands.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

async function submitAll(pool: { submit: ShardPool['submit'] }, commands: Parameters<typeof envelope>[0][]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const command of commands) outcomes.push(await pool.submit(envelope(command)));
  return outcomes;
}

test('routing is stable across calls and spreads 10,000 stores within 10% of even over 2, 4 and 8 shards', (t) => {
  t.is(shardOf('store-0042', 4), shardOf('store-0042', 4));
  // Published FNV-1a 32-bit test vectors: a change of hash would move every store off its shard.
  t.is(hashStoreId(''), 0x811c9dc5);
  t.is(hashStoreId('a'), 0xe40c292c);
  t.is(hashStoreId('foobar'), 0xbf9cf968);
  t.is(shardOf('foobar', 7), 0xbf9cf968 % 7);
  for (const count of [2, 4, 8]) {
    const perShard = new Array<number>(count).fill(0);
    for (let i = 0; i < 10_000; i += 1) perShard[shardOf(`store-${i}`, count)] = (perShard[shardOf(`store-${i}`, count)] ?? 0) + 1;
    const even = 10_000 / count;
    for (const n of perShard) t.true(Math.abs(n - even) / even < 0.1, `shard load ${n} vs even ${even} over ${count} shards`);
  }
});

test('a data directory keeps the shard count it was created with and refuses another', (t) => {
  const dir = tempDir(t);
  t.is(openLayout(dir, 3, 2).shardCount, 3);
  t.is(openLayout(dir, undefined, 2).shardCount, 3);
  const error = t.throws(() => openLayout(dir, 4, 2), { instanceOf: LayoutError });
  t.regex(error.message, /created with 3 shards; it cannot be opened with 4/);
});

test('a data directory written in another data format is refused with both versions named', (t) => {
  const dir = tempDir(t);
  openLayout(dir, 2, 2);
  const file = join(dir, manifestName);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { formatVersion: number };
  writeFileSync(file, JSON.stringify({ ...manifest, formatVersion: formatVersion + 1 }));
  const error = t.throws(() => openLayout(dir, undefined, 2), { instanceOf: LayoutError });
  t.regex(error.message, new RegExp(`holds data format ${formatVersion + 1}; this tillgate reads format ${formatVersion} \\(and upgrades 1\\) only`));
});

test('a data directory of format 1 is upgraded on open, so a build of format 1 refuses it from then on', (t) => {
  const dir = tempDir(t);
  openLayout(dir, 2, 2);
  const file = join(dir, manifestName);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { formatVersion: number; shardCount: number };
  writeFileSync(file, JSON.stringify({ ...manifest, formatVersion: 1 }));
  t.like(openLayout(dir, undefined, 4), { formatVersion, shardCount: 2 });
  t.like(JSON.parse(readFileSync(file, 'utf8')), { formatVersion: 2, shardCount: 2 });
});

test('commands route to their store\'s shard and reads come from read-only handles', async (t) => {
  const pool = await ShardPool.start({ dataDir: tempDir(t), shardCount: 2, expirySweepIntervalMs: 50 });
  t.teardown(() => pool.close());
  const stores = ['north', 'south', 'east', 'west'];
  const setup = await submitAll(pool, setupCommands(stores, ['SKU1'], 50));
  t.true(setup.every((outcome) => outcome.ok));
  for (const storeId of stores) {
    const outcome = await pool.submit(envelope(sale(storeId, `R-${storeId}`, 'SKU1', 3)));
    t.true(outcome.ok);
    t.is(pool.reader(storeId).getPosition(storeId, 'SKU1')?.sellable, 47);
    // The store's data lives only on its own shard.
    const other = pool.readers()[1 - pool.shardFor(storeId)];
    t.is(other?.getReceipt(storeId, `R-${storeId}`), undefined);
  }
  for (const reader of pool.readers()) t.true(reader.verify().ok);
});

test('a read right after an acknowledged write sees it, even while other reads keep the handle busy', async (t) => {
  const pool = await ShardPool.start({ dataDir: tempDir(t), shardCount: 2 });
  t.teardown(() => pool.close());
  const setup = await submitAll(pool, setupCommands(['north'], ['SKU1'], 1000));
  t.true(setup.every((outcome) => outcome.ok));
  // Reads between writes, as a busy gRPC server makes them, hold lmdb-js's read snapshot open.
  const busy = setInterval(() => pool.reader('north').getPosition('north', 'SKU1'), 0);
  t.teardown(() => clearInterval(busy));
  const seen: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    pool.reader('north').getPosition('north', 'SKU1');
    const outcome = await pool.submit(envelope(sale('north', `R-ryw-${i}`, 'SKU1', 1)));
    t.true(outcome.ok);
    seen.push(pool.reader('north').getPosition('north', 'SKU1')?.sellable ?? -1);
  }
  t.deepEqual(seen, Array.from({ length: 200 }, (_, i) => 1000 - i - 1));
});

test('a saturated shard refuses new work at once with OVERLOADED instead of queuing it', async (t) => {
  const pool = await ShardPool.start({ dataDir: tempDir(t), shardCount: 1, queueCommandsMax: 16 });
  t.teardown(() => pool.close());
  await submitAll(pool, setupCommands(['s1'], ['A'], 1000));
  const pending = Array.from({ length: 64 }, (_, i) => pool.submit(envelope(sale('s1', `r${i}`, 'A', 1))));
  const outcomes = await Promise.all(pending);
  const refused = outcomes.filter((outcome) => !outcome.ok && outcome.error.code === 'OVERLOADED');
  const accepted = outcomes.filter((outcome) => outcome.ok);
  t.is(accepted.length, 16);
  t.is(refused.length, 48);
  t.is(pool.reader('s1').getPosition('s1', 'A')?.sellable, 1000 - 16);
});

for (const engine of ['pool', 'inline'] as const) {
  test(`${engine}: a burst larger than batchCommandsMax is committed in batches of at most batchCommandsMax, all of it`, async (t) => {
    const batchCommandsMax = 16;
    const committed: number[] = [];
    const dataDir = tempDir(t);
    const sink = engine === 'pool'
      ? await ShardPool.start({ dataDir, shardCount: 1, batchCommandsMax, onCommitted: (_shard, commands) => committed.push(commands) })
      : InlineSink.open({ dataDir, shardCount: 1, batchCommandsMax });
    t.teardown(() => sink.close());
    t.true((await submitAll(sink, setupCommands(['burst'], ['SKU1'], 1000))).every((outcome) => outcome.ok));
    const before = sink.stats()[0];
    // One event-loop turn of submissions: the whole burst is queued before any of it is sent.
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, index) => sink.submit(envelope(sale('burst', `R-${index}`, 'SKU1', 1)))));
    t.true(outcomes.every((outcome) => outcome.ok));
    const after = sink.stats()[0];
    t.is((after?.committedCommands ?? 0) - (before?.committedCommands ?? 0), 100);
    // 100 commands in batches of at most 16 take at least 7 commits.
    t.true((after?.committedBatches ?? 0) - (before?.committedBatches ?? 0) >= Math.ceil(100 / batchCommandsMax));
    if (engine === 'pool') t.true(committed.length > 0 && committed.every((commands) => commands <= batchCommandsMax), `batch sizes ${committed.join(',')}`);
    t.is(sink.reader('burst').getPosition('burst', 'SKU1')?.sellable, 900);
  });
}

test('the batch and queue bounds are checked: the config refuses what the engines cannot honour, the engines fall back on a bound that is not a positive integer', (t) => {
  const dataDir = tempDir(t);
  t.throws(() => loadConfig({ flags: { dataDir, 'pool.batchCommandsMax': 0 } }), { instanceOf: ConfigError, message: /pool.batchCommandsMax must be from 1 to 4096/ });
  t.throws(() => loadConfig({ flags: { dataDir, 'pool.batchCommandsMax': 4097 } }), { instanceOf: ConfigError, message: /pool.batchCommandsMax must be from 1 to 4096/ });
  t.throws(() => loadConfig({ flags: { dataDir, 'pool.queueCommandsMax': 0 } }), { instanceOf: ConfigError, message: /pool.queueCommandsMax must be at least 1/ });
  t.is(loadConfig({ flags: { dataDir, 'pool.batchCommandsMax': 4096 } }).pool.batchCommandsMax, 4096);
  t.is(batchBound(16), 16);
  t.is(batchBound(100_000), 4096);
  for (const bad of [0, -1, Number.NaN, 1.5, undefined]) t.is(batchBound(bad), poolDefaults.batchCommandsMax, String(bad));
});

test('a node started with V8 and process-wide flags (perf map, heap size, V8 thread pool) still starts its writers, which keep its per-thread flags', async (t) => {
  const dataDir = tempDir(t);
  const flags = ['--perf-basic-prof', '--max-old-space-size=512', '--v8-pool-size=2', '--trace-warnings'];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', fileURLToPath(new URL('./flags-child.ts', import.meta.url)), dataDir], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  // --perf-basic-prof leaves a perf map behind for the child's pid.
  t.teardown(() => {
    child.kill('SIGKILL');
    rmSync(join(tmpdir(), `perf-${child.pid ?? 0}.map`), { force: true });
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const giveUp = setTimeout(() => reject(new Error(`the child did not finish within 60 s: ${stderr}`)), 60_000);
    child.once('error', reject);
    // 'close', not 'exit': stdout is complete only once its stream has closed.
    child.once('close', (exitCode) => {
      clearTimeout(giveUp);
      resolve(exitCode);
    });
  });
  t.is(code, 0, stderr);
  const report = JSON.parse(stdout) as { outcome: Outcome; workerExecArgv: string[] };
  t.true(report.outcome.ok, JSON.stringify(report.outcome));
  t.true(report.workerExecArgv.includes('--trace-warnings'), `worker flags: ${report.workerExecArgv.join(' ')}`);
});

for (const engine of ['pool', 'inline'] as const) {
  test(`${engine}: close() commits and answers every command accepted before it, and refuses later ones`, async (t) => {
    const dataDir = tempDir(t);
    const open = async () => (engine === 'pool' ? ShardPool.start({ dataDir, shardCount: 1, batchCommandsMax: 8 }) : InlineSink.open({ dataDir, shardCount: 1, batchCommandsMax: 8 }));
    const sink = await open();
    t.true((await submitAll(sink, setupCommands(['closing'], ['SKU1'], 1000))).every((outcome) => outcome.ok));
    const accepted = Array.from({ length: 40 }, (_, index) => sink.submit(envelope(sale('closing', `R-${index}`, 'SKU1', 1))));
    const closed = sink.close();
    const late = await sink.submit(envelope(sale('closing', 'R-late', 'SKU1', 1)));
    await closed;
    const outcomes = await Promise.all(accepted);
    t.deepEqual(outcomes.filter((outcome) => !outcome.ok), []);
    t.false(late.ok);
    if (!late.ok) t.is(late.error.code, 'SHUTTING_DOWN');
    const reopened = await open();
    t.teardown(() => reopened.close());
    t.is(reopened.reader('closing').getPosition('closing', 'SKU1')?.sellable, 1000 - 40);
  });
}

test('inline: a batch that throws answers its callers with an error, is reported as a fault, and the shard goes on and closes', async (t) => {
  const faults: string[] = [];
  const sink = InlineSink.open({ dataDir: tempDir(t), shardCount: 1, onWriterFault: (shard, message) => faults.push(`${shard}: ${message}`) });
  t.teardown(() => sink.close());
  t.true((await submitAll(sink, setupCommands(['boom'], ['SKU1'], 10))).every((outcome) => outcome.ok));
  const ledger = sink.reader('boom') as unknown as { execute: (envelopes: unknown[]) => Promise<Outcome[]> };
  const execute = ledger.execute.bind(ledger);
  ledger.execute = () => {
    ledger.execute = execute;
    return Promise.reject(new Error('damaged record'));
  };
  const failed = await sink.submit(envelope(sale('boom', 'R-1', 'SKU1', 1)));
  t.false(failed.ok);
  if (!failed.ok) t.regex(failed.error.message, /nothing of it was committed: damaged record/);
  t.deepEqual(faults, ['0: the batch failed and nothing of it was committed: damaged record']);
  t.true((await sink.submit(envelope(sale('boom', 'R-2', 'SKU1', 1)))).ok);
  t.is(sink.reader('boom').getPosition('boom', 'SKU1')?.sellable, 9);
  // Two closes wait for the same one.
  await Promise.all([sink.close(), sink.close()]);
  t.false((await sink.submit(envelope(sale('boom', 'R-3', 'SKU1', 1)))).ok);
});

test('a killed writer is restarted; acknowledged commands survive and unacknowledged ones can be retried', async (t) => {
  const pool = await ShardPool.start({ dataDir: tempDir(t), shardCount: 1, onWriterExit: (shard, reason) => t.log(`writer ${shard} exit: ${reason}`) });
  t.teardown(() => pool.close());
  await submitAll(pool, setupCommands(['s1'], ['A'], 10_000));
  const acknowledged = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.submit(envelope(sale('s1', `before-${i}`, 'A', 1)))));
  t.true(acknowledged.every((outcome) => outcome.ok));
  const inFlight = Array.from({ length: 500 }, (_, i) => envelope(sale('s1', `during-${i}`, 'A', 1)));
  const racing = inFlight.map((item) => pool.submit(item));
  await pool.killShard(0);
  const raced = await Promise.all(racing);
  for (const outcome of raced) t.true(outcome.ok || outcome.error.code === 'SHARD_UNAVAILABLE');
  // Retry everything with the same idempotency ids until the restarted writer answers.
  let retried: Outcome[] = [];
  for (let attempt = 0; attempt < 100; attempt += 1) {
    retried = await Promise.all(inFlight.map((item) => pool.submit(item)));
    if (retried.every((outcome) => outcome.ok)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.true(retried.every((outcome) => outcome.ok));
  t.is(pool.stats()[0]?.restarts, 1);
  const reader = pool.reader('s1');
  for (let i = 0; i < 200; i += 1) t.truthy(reader.getReceipt('s1', `before-${i}`));
  t.is(reader.getPosition('s1', 'A')?.sellable, 10_000 - 700);
  t.true(reader.verify().ok);
});

test('a writer that cannot start is retried with one backoff timer, and the shard recovers with one writer', async (t) => {
  const dataDir = tempDir(t);
  const attempts: string[] = [];
  const pool = await ShardPool.start({ dataDir, shardCount: 1, restartDelayMsMax: 400, onWriterExit: (_shard, reason) => attempts.push(reason) });
  t.teardown(() => pool.close());
  await submitAll(pool, setupCommands(['s1'], ['A'], 100));
  // Put a file where the shard's directory was: every restart fails while it is there.
  const mend = breakShard(dataDir, 0);
  await pool.killShard(0);
  const failedStarts = () => attempts.filter((reason) => reason.startsWith('restart failed')).length;
  // However slow the machine, wait for three failed starts (bounded).
  for (let waited = 0; failedStarts() < 3 && waited < 60_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  const failed = failedStarts();
  const restarts = pool.stats()[0]?.restarts ?? 0;
  t.true(failed >= 3, `${failed} failed starts`);
  // One restart for the kill, then one per failed start (one more at most, when a failed writer's
  // exit comes after its retry was due). Two timers per failure (the start's error and its exit
  // each scheduling one) would double them, and start two writers for one shard.
  t.true(restarts <= failed + 2, `${restarts} restarts for ${failed} failed starts`);
  mend();
  t.true((await submitUntilApplied(pool, envelope(sale('s1', 'R-after', 'A', 1)), 300, 100))?.ok);
  // One writer: the journal is one unbroken chain and the stock moved once.
  t.like(pool.reader('s1').getPosition('s1', 'A'), { sellable: 99 });
  t.true(pool.reader('s1').verify().ok);
  t.true(attempts.some((reason) => /restart failed|exit/.test(reason)));
});

test('concurrent returns against one receipt from many terminals never exceed what was sold', async (t) => {
  for (const sink of [await ShardPool.start({ dataDir: tempDir(t), shardCount: 2 }), InlineSink.open({ dataDir: tempDir(t), shardCount: 2 })]) {
    t.teardown(() => sink.close());
    await submitAll(sink, setupCommands(['s1'], ['A'], 100));
    t.true((await sink.submit(envelope(sale('s1', 'R1', 'A', 10)))).ok);
    const attempts = Array.from({ length: 40 }, (_, i) => sink.submit(envelope({
      type: 'AuthorizeReturn', storeId: 's1', returnId: `ret-${i}`, receiptId: 'R1',
      lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1 + (i % 3), disposition: 'SELLABLE' }],
    }, `T${i}`)));
    const outcomes = await Promise.all(attempts);
    const approved = outcomes.reduce((sum, outcome) => {
      if (!outcome.ok) return sum;
      const result = outcome.result as AuthorizeResult;
      return sum + (result.lines[0]?.approvedQuantity ?? 0);
    }, 0);
    t.is(approved, 10);
    const receipt = sink.reader('s1').getReceipt('s1', 'R1');
    t.is(receipt?.lines[0]?.heldQuantity, 10);
    t.true(sink.reader('s1').verify().ok);
  }
});

test('an idempotency id names a request of one store: the same id for two stores is two requests whatever the shard count, and another body for the same store is a conflict', async (t) => {
  for (const shardCount of [1, 2]) {
    const pool = await ShardPool.start({ dataDir: tempDir(t), shardCount });
    t.teardown(() => pool.close());
    // Two stores on different shards when there are two.
    let other = 1;
    while (shardCount > 1 && shardOf(`st-${other}`, shardCount) === shardOf('st-0', shardCount)) other += 1;
    const stores = ['st-0', `st-${other}`];
    for (const command of setupCommands(stores, ['A'], 10)) t.true((await pool.submit(envelope(command))).ok);
    const outcomes = await Promise.all(stores.map((storeId) => pool.submit(envelope(sale(storeId, 'R-1', 'A', 2), 'T1', 'shared-id'))));
    t.deepEqual(outcomes.map((outcome) => outcome.ok && !outcome.replay), [true, true], `${shardCount} shard(s)`);
    const conflict = await pool.submit(envelope(sale('st-0', 'R-2', 'A', 1), 'T1', 'shared-id'));
    t.is(conflict.ok ? 'ok' : conflict.error.code, 'IDEMPOTENCY_CONFLICT');
    const replay = await pool.submit(envelope(sale(stores[1] ?? '', 'R-1', 'A', 2), 'T1', 'shared-id'));
    t.true(replay.ok && replay.replay);
    t.deepEqual(stores.map((storeId) => pool.reader(storeId).getPosition(storeId, 'A')?.sellable), [8, 8]);
  }
});

test('inline: a shard opened with the wall clock behind the time it last stored is reported as a clock warning', async (t) => {
  const dataDir = tempDir(t);
  let nowMs = Date.now();
  const open = (onWriterFault?: (shard: number, message: string, clock: boolean) => void) =>
    InlineSink.open({ dataDir, shardCount: 1, openLedger: (path) => Ledger.open({ path, clock: () => nowMs }), ...(onWriterFault === undefined ? {} : { onWriterFault }) });
  const first = open();
  t.true((await submitAll(first, setupCommands(['st'], ['A'], 1))).every((outcome) => outcome.ok));
  await first.close();
  nowMs -= 10 * 60 * 1000;
  const reports: [number, string, boolean][] = [];
  const second = open((shard, message, clock) => reports.push([shard, message, clock]));
  t.teardown(() => second.close());
  t.is(reports.length, 1);
  const [shard, message, clock] = reports[0] ?? [];
  t.deepEqual([shard, clock], [0, true]);
  t.regex(message ?? '', /wall clock is \d+ ms behind/);
});
