import test from 'ava';
import { bodyDigest, canonicalJson } from '../../src/ledger/journal.js';

// Idempotency records on disk hold this digest of their request: a retry is a replay only when its
// digest is the same, so the digest of a request may never change between builds.

test('a request digest is the one earlier builds stored for the same request', (t) => {
  const command = {
    type: 'AuthorizeReturn', storeId: 'S-01', returnId: 'RET-7', receiptId: 'R-1', customerToken: 'tok-é😀',
    lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 2, disposition: 'SELLABLE', unitRefundMinor: undefined }],
    override: { operatorId: 'OP-9', reasonCode: 'MANAGER' },
  };
  // Computed by the build before keys were sorted by insertion (c0e8cb2), which sorted with Array.prototype.sort.
  t.is(bodyDigest(command), '38Sswi5ZQptSVlwquO0-Ezup-Nj5np8b');
  // Key order, nesting and undefined members do not change it.
  const reordered = {
    override: { reasonCode: 'MANAGER', operatorId: 'OP-9' }, lines: [{ sku: 'A', disposition: 'SELLABLE', quantity: 2, receiptLineNo: 1, lineNo: 1 }],
    customerToken: 'tok-é😀', receiptId: 'R-1', returnId: 'RET-7', storeId: 'S-01', type: 'AuthorizeReturn', replacement: undefined,
  };
  t.is(bodyDigest(reordered), bodyDigest(command));
});

/** A deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('object keys are written in the order Array.prototype.sort gives them, at every size and for any characters', (t) => {
  // Digits (integer-like keys keep a numeric order of their own in objects), case, punctuation,
  // non-ASCII and astral characters (two UTF-16 code units each, compared unit by unit).
  const alphabet = ['0', '1', '9', '10', 'a', 'B', 'b', '_', '-', 'é', 'Z', '😀', '\uffff', ' '];
  const random = generator(20261128);
  for (let round = 0; round < 2000; round += 1) {
    const size = Math.floor(random() * 40);
    const keys = new Set<string>();
    while (keys.size < size) {
      let key = '';
      const length = Math.floor(random() * 4);
      for (let i = 0; i < length; i += 1) key += alphabet[Math.floor(random() * alphabet.length)] ?? '';
      keys.add(key);
    }
    const object: Record<string, number> = {};
    let value = 0;
    for (const key of keys) object[key] = value++;
    const expected = `{${Object.keys(object).sort().map((key) => `${JSON.stringify(key)}:${object[key] ?? ''}`).join(',')}}`;
    const written = canonicalJson(object);
    if (written !== expected) {
      t.fail(`round ${round}: ${written} is not ${expected}`);
      return;
    }
  }
  t.pass();
});
