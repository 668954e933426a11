import test from 'ava';
import { open } from 'lmdb';
import { Ledger } from '../../src/ledger/index.js';
import { envelope, sale, setupCommands } from '../helpers/commands.js';
import { tempDir } from '../helpers/tmp.js';

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
