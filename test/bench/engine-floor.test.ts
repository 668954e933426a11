/**
 * The benchmark's engine floors run tillgate's real engine (pool or inline) in front of a minimal
 * ledger. These check that the engines really run the ledger they are given, that the minimal
 * ledger commits durably what it claims (one journal entry per new command, none for a replay),
 * and that the hop-only variant commits nothing: a floor that skipped its commit would make the
 * bench's figures lie.
 */
import test from 'ava';
import { open } from 'lmdb';
import { openReader } from '../../src/ledger/index.js';
import type { Outcome } from '../../src/ledger/index.js';
import { InlineSink, ShardPool, shardPath } from '../../src/workers/index.js';
import type { CommandSink } from '../../src/workers/index.js';
import { MinimalLedger, minimalLedgerModuleUrl } from '../../bench/lib/minimal-ledger.js';
import type { MinimalLedgerOptions } from '../../bench/lib/minimal-ledger.js';
import { tempDir } from '../helpers/tmp.js';

const stores = ['north', 'south', 'east', 'west'];
const submit = (sink: CommandSink, id: string, storeId: string, quantity = 1): Promise<Outcome> =>
  sink.submit({ idempotencyId: id, actor: {}, command: { type: 'AuthorizeReturn', storeId, request: { quantity } } as never });

/** Journal entries committed per shard, read from the shard's files after the engine closed. */
async function journalHeads(dataDir: string, shardCount: number): Promise<number[]> {
  return (await perShard(dataDir, shardCount)).map((shard) => shard.seq);
}

/** Each shard's journal head and LMDB's count of write transactions so far. */
async function perShard(dataDir: string, shardCount: number): Promise<{ seq: number; transactions: number }[]> {
  const shards: { seq: number; transactions: number }[] = [];
  for (let shard = 0; shard < shardCount; shard += 1) {
    const reader = openReader(shardPath(dataDir, shard));
    const environment = open({ path: shardPath(dataDir, shard), readOnly: true });
    shards.push({ seq: reader.head().seq, transactions: (environment.getStats() as { lastTxnId: number }).lastTxnId });
    await Promise.all([reader.close(), environment.close()]);
  }
  return shards;
}

const engines = {
  pool: (dataDir: string, commit: MinimalLedgerOptions['commit']) => ShardPool.start({ dataDir, shardCount: 2, ledgerModule: { url: minimalLedgerModuleUrl, options: { commit } } }),
  inline: (dataDir: string, commit: MinimalLedgerOptions['commit']) => Promise.resolve(InlineSink.open({ dataDir, shardCount: 2, openLedger: (path) => new MinimalLedger(path, { commit }) })),
};

for (const [name, start] of Object.entries(engines)) {
  test(`the ${name} engine commits what the minimal ledger writes: one journal entry per new command, a repeat replays`, async (t) => {
    const dataDir = tempDir(t);
    const sink = await start(dataDir, 'durable');
    const before = await perShard(dataDir, 2);
    const first = await Promise.all(stores.map((storeId, index) => submit(sink, `id-${index}`, storeId)));
    // One LMDB write transaction per batch: puts committed one by one would count one per record.
    const batches = sink.stats().map((shard) => shard.committedBatches);
    const written = await perShard(dataDir, 2);
    t.deepEqual(written.map((shard, index) => shard.transactions - (before[index]?.transactions ?? 0)), batches);
    const repeat = await submit(sink, 'id-0', 'north');
    const conflict = await submit(sink, 'id-1', 'south', 2);
    await sink.close();
    t.true(first.every((outcome) => outcome.ok && !outcome.replay));
    t.like(repeat, { ok: true, replay: true, seq: first[0]?.ok === true ? first[0].seq : -1 });
    t.like(conflict, { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    const heads = await journalHeads(dataDir, 2);
    t.is(heads.reduce((sum, seq) => sum + seq, 0), stores.length);
  });

  // The hop writes nothing; the journal-only floor one journal entry per command.
  for (const [commit, entriesPerCommand] of [['none', 0], ['journal', 1]] as const) {
    test(`the ${name} engine's ${commit === 'none' ? 'hop-only' : 'journal-only'} floor answers every command and commits ${entriesPerCommand} journal entr${entriesPerCommand === 1 ? 'y' : 'ies'} per command`, async (t) => {
      const dataDir = tempDir(t);
      const sink = await start(dataDir, commit);
      const outcomes = await Promise.all(stores.map((storeId, index) => submit(sink, `id-${index}`, storeId)));
      await sink.close();
      t.true(outcomes.every((outcome) => outcome.ok));
      t.is((await journalHeads(dataDir, 2)).reduce((sum, seq) => sum + seq, 0), stores.length * entriesPerCommand);
    });
  }
}
