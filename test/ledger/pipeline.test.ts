import test from 'ava';
import { Ledger } from '../../src/ledger/index.js';
import type { AuthorizeResult, Command, Outcome } from '../../src/ledger/index.js';
import { envelope, sale, setupCommands } from '../helpers/commands.js';
import { tempDir } from '../helpers/tmp.js';

function authorize(returnId: string, receiptId: string): Command {
  return { type: 'AuthorizeReturn', storeId: 'S1', returnId, receiptId, lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 'SELLABLE' }] };
}

test('batches submitted without waiting are decided on the state of the batches before them, and all become durable', async (t) => {
  const path = tempDir(t);
  const ledger = Ledger.open({ path });
  t.true((await ledger.execute(setupCommands(['S1'], ['A'], 100).map((c) => envelope(c)))).every((o) => o.ok));
  // Five batches in flight at once: each depends on the one before (sale → authorize → complete).
  const replayed = envelope(sale('S1', 'R1', 'A', 2), 'T1', 'sale-R1');
  const batches = [
    [replayed],
    [envelope(authorize('RET-1', 'R1'))],
    [envelope({ type: 'CompleteReturn', storeId: 'S1', returnId: 'RET-1' })],
    [envelope(authorize('RET-2', 'R1')), envelope(authorize('RET-3', 'R1'))],
    [replayed], // writes nothing: a replay of a command that may still be committing
  ].map((batch) => ledger.execute(batch));
  const results: Outcome[][] = await Promise.all(batches);
  t.true(results.every((batch) => batch.every((outcome) => outcome.ok)), JSON.stringify(results));
  const [second, third] = results[3] ?? [];
  const decisions = [second, third].map((o) => (o?.ok === true ? (o.result as AuthorizeResult).decision : 'error'));
  // Two units sold, one returned: exactly one more unit may be held.
  t.deepEqual(decisions, ['APPROVED', 'DECLINED']);
  t.true(results[4]?.[0]?.ok === true && results[4][0].replay);
  t.like(ledger.getReceipt('S1', 'R1')?.lines[0], { quantity: 2, returnedQuantity: 1, heldQuantity: 1 });
  await ledger.close();
  // Everything acknowledged is on disk.
  const reopened = Ledger.open({ path });
  t.teardown(() => reopened.close());
  t.like(reopened.getReceipt('S1', 'R1')?.lines[0], { returnedQuantity: 1, heldQuantity: 1 });
  t.like(reopened.getPosition('S1', 'A'), { sellable: 99 });
  t.deepEqual(reopened.verify().problems, []);
});

// Journal entries of a batch are cut from memory the ledger reuses batch after batch; a batch that
// needs several chunks of it, and the batches after it, must still store every entry intact.
test('batches whose journal entries span several reused memory chunks store every entry intact', async (t) => {
  const path = tempDir(t);
  const ledger = Ledger.open({ path });
  t.teardown(() => ledger.close());
  t.true((await ledger.execute(setupCommands(['S1'], ['A'], 1_000_000).map((c) => envelope(c)))).every((o) => o.ok));
  const before = ledger.head().seq;
  // About 450 bytes an entry: 2,000 entries need several 256 KiB chunks; the later, smaller
  // batches reuse (and overwrite) the first chunk's memory.
  for (const size of [2000, 300, 700]) {
    const batch = Array.from({ length: size }, (_, index) => envelope(sale('S1', `R-${size}-${index}`, 'A', 1), 'T1', `sale-${size}-${index}`));
    const outcomes = await ledger.execute(batch);
    t.true(outcomes.every((outcome) => outcome.ok));
  }
  const entries = ledger.readJournal(before + 1);
  t.is(entries.length, 3000);
  t.deepEqual(entries.slice(0, 2).map((entry) => entry.ref), [{ receiptId: 'R-2000-0' }, { receiptId: 'R-2000-1' }]);
  t.deepEqual(entries.at(-1)?.ref, { receiptId: 'R-700-699' });
  const report = ledger.verify();
  t.deepEqual(report.problems, []);
});
