import test from 'ava';
import type { ExecutionContext } from 'ava';
import { open } from 'lmdb';
import type { DatabaseOptions } from 'lmdb';
import { Ledger } from '../../src/ledger/index.js';
import { envelope, sale, setupCommands } from '../helpers/commands.js';
import { tempDir } from '../helpers/tmp.js';

/** Plain msgpack maps, as the ledger stores them (useRecords is read by lmdb-js, missing from its types). */
const recordsOptions: DatabaseOptions & { name: string; useRecords: boolean } = { name: 'idempotency', cache: false, compression: false, useRecords: false };

/** A closed ledger directory holding a store, a SKU and one sale under id 'sale-1', with a clock the test moves. */
async function ledgerWithOneSale(t: ExecutionContext): Promise<{ path: string; clock: () => number; retentionMs: number; passTime: (ms: number) => void }> {
  const path = tempDir(t);
  let nowMs = 1_000_000;
  const clock = () => nowMs;
  const retentionMs = 10_000;
  const first = Ledger.open({ path, clock, idempotencyRetentionMs: retentionMs });
  const setup = await first.execute(setupCommands(['S1'], ['A'], 10).map((command) => envelope(command)));
  t.true(setup.every((outcome) => outcome.ok));
  const [sold] = await first.execute([envelope(sale('S1', 'R-1', 'A', 3), 'T1', 'sale-1')]);
  t.true(sold?.ok);
  await first.close();
  return { path, clock, retentionMs, passTime: (ms) => { nowMs += ms; } };
}

// Until this build, ledger records were written with lmdb-js record structures (each value carries
// its own definition); they are now plain msgpack maps. A data directory written before must still
// read, update and verify.
test('records written with lmdb-js record structures still read, update and verify', async (t) => {
  const path = tempDir(t);
  const first = Ledger.open({ path });
  const setup = await first.execute(setupCommands(['S1'], ['A'], 10).map((command) => envelope(command)));
  t.true(setup.every((outcome) => outcome.ok));
  await first.close();

  // Rewrite the position the way the earlier build stored it: lmdb-js defaults, records on.
  const root = open({ path, maxDbs: 16, cache: false, compression: false });
  const positions = root.openDB({ name: 'positions', cache: false, compression: false });
  await positions.put(['S1', 'A'], { storeId: 'S1', sku: 'A', sellable: 10, damaged: 0, quarantine: 0, reserved: 0 });
  const stored = positions.getBinary(['S1', 'A']);
  t.deepEqual([...(stored ?? Buffer.alloc(0)).subarray(0, 2)], [0xd4, 0x72], 'stored as a msgpack record with its definition');
  await root.close();

  const ledger = Ledger.open({ path });
  t.teardown(() => ledger.close());
  t.like(ledger.getPosition('S1', 'A'), { sellable: 10 });
  const [sold] = await ledger.execute([envelope(sale('S1', 'R-1', 'A', 3))]);
  t.true(sold?.ok);
  t.like(ledger.getPosition('S1', 'A'), { sellable: 7 });
  t.true(ledger.verify().ok);
});

// Until this build, every idempotency id also had a key in a time index (idempotencyTime), which
// pruning walked; pruning now walks the journal. A directory with such keys must open with the
// index emptied, and its ids must still be remembered, then forgotten after the retention.
test('an idempotency time index left by an earlier build is emptied on open; its ids are still replayed, then forgotten', async (t) => {
  const { path, clock, retentionMs, passTime } = await ledgerWithOneSale(t);

  // As the earlier build left it: every remembered id in the time index, the oldest already
  // forgotten (record and key gone), and a key whose record is gone.
  const root = open({ path, maxDbs: 16, cache: false, compression: false });
  const index = root.openDB({ name: 'idempotencyTime', cache: false, compression: false });
  const records = root.openDB(recordsOptions);
  const remembered = [...records.getRange()].map(({ key, value }) => ({ id: key as string, ...(value as { atMs: number; outcome: { seq: number } }) }));
  remembered.sort((a, b) => a.outcome.seq - b.outcome.seq);
  const [forgotten, ...kept] = remembered;
  if (forgotten === undefined || kept[0] === undefined) return t.fail('setup left too few ids');
  await records.remove(forgotten.id);
  for (const record of kept) await index.put([record.atMs, record.id], true);
  await index.put([clock() - 1, 'never-existed'], true);
  t.is(index.getKeysCount(), kept.length + 1);
  await root.close();

  const ledger = Ledger.open({ path, clock, idempotencyRetentionMs: retentionMs });
  t.teardown(() => ledger.close());
  const check = open({ path, maxDbs: 16, readOnly: true });
  t.teardown(() => check.close());
  t.is(check.openDB({ name: 'idempotencyTime' }).getKeysCount(), 0, 'the old index is emptied');
  t.is(check.openDB({ name: 'meta' }).get('idempotencyPrunedSeq'), kept[0].outcome.seq - 1, 'pruning resumes at the oldest id the index held');

  const [replayed] = await ledger.execute([envelope(sale('S1', 'R-1', 'A', 3), 'T1', 'sale-1')]);
  t.true(replayed?.ok && replayed.replay, 'the id is still remembered');
  passTime(retentionMs + 1);
  await ledger.expireDue();
  const [again] = await ledger.execute([envelope(sale('S1', 'R-1b', 'A', 1), 'T1', 'sale-1')]);
  t.true(again?.ok && !again.replay, 'past the retention the id is forgotten and runs as a new command');
  t.like(ledger.getPosition('S1', 'A'), { sellable: 6 });
  t.true(ledger.verify().ok);
});

// Until this build, an idempotency record was keyed by the bare id; it is now keyed by store and
// id. Records of a directory written before must still replay (a retry spanning the upgrade) and
// conflict, and be forgotten after the retention like any other.
test('idempotency records keyed by the bare id by an earlier build still replay and conflict, then are forgotten', async (t) => {
  const { path, clock, retentionMs, passTime } = await ledgerWithOneSale(t);

  // As the earlier build left it: every record under its bare id, and no record of where scoped keys begin.
  const root = open({ path, maxDbs: 16, cache: false, compression: false });
  const records = root.openDB(recordsOptions);
  for (const { key, value } of [...records.getRange()]) {
    const bare = (key as string).slice((key as string).indexOf('\u0000') + 1);
    t.true(bare.length < (key as string).length, 'this build keyed the record by store and id');
    await records.remove(key);
    await records.put(bare, value);
  }
  await root.openDB({ name: 'meta' }).remove('idempotencyScopedFromSeq');
  await root.close();

  const ledger = Ledger.open({ path, clock, idempotencyRetentionMs: retentionMs });
  t.teardown(() => ledger.close());
  const [replayed] = await ledger.execute([envelope(sale('S1', 'R-1', 'A', 3), 'T1', 'sale-1')]);
  t.true(replayed?.ok && replayed.replay, 'a retry across the upgrade replays');
  const [conflict] = await ledger.execute([envelope(sale('S1', 'R-2', 'A', 1), 'T1', 'sale-1')]);
  t.is(conflict?.ok === false ? conflict.error.code : 'ok', 'IDEMPOTENCY_CONFLICT');
  t.like(ledger.getPosition('S1', 'A'), { sellable: 7 });
  passTime(retentionMs + 1);
  await ledger.expireDue();
  const check = open({ path, maxDbs: 16, readOnly: true });
  t.teardown(() => check.close());
  t.is(check.openDB(recordsOptions).get('sale-1'), undefined, 'the bare record is pruned');
  const [again] = await ledger.execute([envelope(sale('S1', 'R-1b', 'A', 1), 'T1', 'sale-1')]);
  t.true(again?.ok && !again.replay, 'past the retention the id is forgotten and runs as a new command');
  t.like(ledger.getPosition('S1', 'A'), { sellable: 6 });
});
