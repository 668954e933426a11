// fixed-v1 registers: the same commands through the fixed record codec, CR LF lines or
// length-prefixed messages, against a real node.
import { connect } from 'node:net';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as codec from '../../src/tcp-gateway/codec/index.js';
import type { fixed } from '../../src/tcp-gateway/codec/index.js';
import type { RegisterClient } from '../../src/tcp-gateway/index.js';
import { connectRegister, oversizedCompletions, skus, startNode, stockStart, storeId, verifyAll } from './gateway-helpers.js';
import type { Node } from './gateway-helpers.js';

const terminal = 'TERM0009';

function header(stan: number, operation: fixed.FixedOperation, ids: { receiptId?: string; originalReceiptId?: string; returnId?: string } = {}): fixed.FixedHeader {
  return {
    recordType: 'H', version: '01', terminalId: terminal, storeId, stan, transmissionTime: `20251128${String(stan).padStart(6, '0')}`,
    operation, receiptId: ids.receiptId ?? '', originalReceiptId: ids.originalReceiptId ?? '', returnId: ids.returnId ?? '', currency: 'EUR',
  };
}

function item(lineNo: number, sku: string, quantity: number, unitPrice: number, originalLineNo = 0): fixed.FixedItem {
  return { recordType: 'I', lineNo, sku, quantity, unitPrice, disposition: 'S', originalLineNo };
}

async function runFixedScript(t: ExecutionContext, node: Node, register: RegisterClient): Promise<void> {
  const reader = node.pool.reader(storeId);
  const sale: fixed.FixedRequest = {
    header: header(1, 'SA', { receiptId: 'FX-1' }),
    items: [item(1, skus[0], 4, 1000)],
    tenders: [{ recordType: 'T', tenderType: 'CA', amount: 4000 }],
  };
  t.is((await register.sendFixed(sale)).response.responseCode, '58');
  t.is((await register.sendFixed({ header: header(2, 'SO'), items: [], tenders: [] })).response.responseCode, '00');
  const sold = await register.sendFixed({ ...sale, header: header(3, 'SA', { receiptId: 'FX-1' }) });
  t.deepEqual(sold.response, { recordType: 'R', stan: 3, responseCode: '00', returnId: '', decisionCount: 1, message: 'approved' });
  t.deepEqual(sold.decisions, [{ recordType: 'D', lineNo: 1, decision: 'A', reason: '00', approvedQuantity: 4 }]);
  t.is(reader.getPosition(storeId, skus[0])?.sellable, stockStart - 4);

  const authorize: fixed.FixedRequest = { header: header(4, 'RA', { originalReceiptId: 'FX-1' }), items: [item(1, skus[0], 1, 0, 1)], tenders: [] };
  const authorized = await register.sendFixed(authorize);
  t.is(authorized.response.responseCode, '00');
  t.is(authorized.response.returnId, 'TERM0009251128000004');
  // A duplicate (same terminal, STAN, transmission time) is answered the same, with no second hold.
  t.deepEqual(await register.sendFixed(authorize), authorized);
  t.is(reader.getReceipt(storeId, 'FX-1')?.lines[0]?.heldQuantity, 1);

  const completed = await register.sendFixed({ header: header(5, 'RC', { returnId: authorized.response.returnId }), items: [], tenders: [] });
  t.is(completed.response.responseCode, '00');
  t.deepEqual(completed.decisions, [{ recordType: 'D', lineNo: 1, decision: 'A', reason: '00', approvedQuantity: 1 }]);
  t.is(reader.getPosition(storeId, skus[0])?.sellable, stockStart - 3);

  const voidUnknown = await register.sendFixed({ header: header(6, 'VD', { returnId: 'NO-SUCH-RETURN' }), items: [], tenders: [] });
  t.is(voidUnknown.response.responseCode, '25');
  t.is((await register.sendFixed({ header: header(7, 'EC'), items: [], tenders: [] })).response.responseCode, '00');
  t.true(verifyAll(node).ok);
}

test('fixed-v1 over CR LF lines: sign-on gate, sale, return authorize (id assigned) / duplicate / complete, void of unknown return', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1' });
  await runFixedScript(t, node, await connectRegister(t, node, 'fixed-v1'));
});

test('fixed-v1 in length-prefixed frames (binary2): the same script', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1', framing: 'binary2' });
  await runFixedScript(t, node, await connectRegister(t, node, 'fixed-v1', { framing: 'binary2' }));
});

test('fixed-v1: a malformed record is answered with an R record carrying 30 and the connection keeps working', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1' });
  const register = await connectRegister(t, node, 'fixed-v1');
  register.writeRaw(Buffer.from('HXX-not-a-header\r\n', 'latin1'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(register.unmatched.length, 1);
  t.is((register.unmatched[0] as fixed.FixedReply).response.responseCode, '30');
  t.is((await register.sendFixed({ header: header(2, 'SO'), items: [], tenders: [] })).response.responseCode, '00');
});

test('fixed-v1: an assigned return id carries the year, so a terminal\'s STAN on the same day a year later is a new return; another layout version is refused', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1' });
  const register = await connectRegister(t, node, 'fixed-v1');
  t.is((await register.sendFixed({ header: header(1, 'SO'), items: [], tenders: [] })).response.responseCode, '00');
  t.is((await register.sendFixed({ header: header(2, 'SA', { receiptId: 'FX-Y' }), items: [item(1, skus[0], 2, 1000)], tenders: [{ recordType: 'T', tenderType: 'CA', amount: 2000 }] })).response.responseCode, '00');
  const authorizeAt = (transmissionTime: string) =>
    register.sendFixed({ header: { ...header(7, 'RA', { originalReceiptId: 'FX-Y' }), transmissionTime }, items: [item(1, skus[0], 1, 0, 1)], tenders: [] });
  const thisYear = await authorizeAt('20251128101530');
  const nextYear = await authorizeAt('20261128093000');
  t.deepEqual([thisYear.response.responseCode, thisYear.response.returnId], ['00', 'TERM0009251128000007']);
  t.deepEqual([nextYear.response.responseCode, nextYear.response.returnId], ['00', 'TERM0009261128000007']);
  t.is(node.pool.reader(storeId).getReceipt(storeId, 'FX-Y')?.lines[0]?.heldQuantity, 2);
  const otherVersion = await register.sendFixed({ header: { ...header(8, 'SA', { receiptId: 'FX-V' }), version: '99' }, items: [item(1, skus[0], 1, 1000)], tenders: [{ recordType: 'T', tenderType: 'CA', amount: 1000 }] });
  t.is(otherVersion.response.responseCode, '30');
  t.is(node.pool.reader(storeId).getReceipt(storeId, 'FX-V'), undefined);
  t.true(verifyAll(node).ok);
});

/** A raw CR LF connection to the fixed-v1 listener: what it sends, and every reply line it gets back. */
async function rawLines(t: ExecutionContext, node: Node): Promise<{ send: (records: (fixed.FixedRecord | string)[]) => void; replies: () => string[] }> {
  const socket = connect({ host: '127.0.0.1', port: node.port });
  await new Promise((resolve) => socket.once('connect', resolve));
  t.teardown(() => socket.destroy());
  let received = '';
  socket.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
  return {
    send: (records) => socket.write(records.map((record) => `${typeof record === 'string' ? record : codec.fixed.encodeRecord(record)}\r\n`).join('')),
    replies: () => received.split('\r\n').filter((line) => line.length > 0),
  };
}

const trailer = (itemCount: number, tenderCount: number, tenderTotal: number): fixed.FixedRecord => ({ recordType: 'Z', itemCount, tenderCount, tenderTotal });
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

test('fixed-v1 lines: a bad record mid-message gets one 30 with the message\'s STAN, and the rest of that message no second reply', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1' });
  const register = await rawLines(t, node);
  register.send([header(1, 'SO'), trailer(0, 0, 0)]);
  const good = codec.fixed.encodeRecord(item(1, skus[0], 1, 100));
  // The quantity column holds letters: the record does not decode.
  const bad = `${good.slice(0, 24)}ABCDE${good.slice(29)}`;
  register.send([header(777, 'SA', { receiptId: 'FX-BAD' }), bad, item(2, skus[0], 1, 100), { recordType: 'T', tenderType: 'CA', amount: 200 }, trailer(2, 1, 200)]);
  register.send([header(778, 'EC'), trailer(0, 0, 0)]);
  await settle();
  t.deepEqual(register.replies().map((line) => line.slice(0, 9)), ['R00000100', 'R00077730', 'R00077800']);
  t.is(node.pool.reader(storeId).getReceipt(storeId, 'FX-BAD'), undefined);
});

test('fixed-v1 lines: a trailer that disagrees with the message is answered 30 with the STAN of its header', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1' });
  const register = await rawLines(t, node);
  register.send([header(1, 'SO'), trailer(0, 0, 0)]);
  register.send([header(123456, 'SA', { receiptId: 'FX-Z' }), item(1, skus[0], 1, 100), trailer(2, 0, 0)]);
  await settle();
  t.deepEqual(register.replies().map((line) => line.slice(0, 9)), ['R00000100', 'R12345630']);
});

test('fixed-v1: a reply whose values do not fit its columns is answered 96 after the commit, and the connection keeps working', async (t) => {
  // A completion of 150,000 units: the D record's 5-digit quantity cannot carry it.
  const node = await startNode(t, { dialect: 'fixed-v1' }, {}, 2, oversizedCompletions);
  const register = await rawLines(t, node);
  register.send([header(1, 'SO'), trailer(0, 0, 0)]);
  register.send([header(2, 'RC', { returnId: 'WEIGHED-1' }), trailer(0, 0, 0)]);
  await settle();
  register.send([header(3, 'EC'), trailer(0, 0, 0)]);
  await settle();
  const replies = register.replies();
  t.deepEqual(replies.map((line) => line.slice(0, 9)), ['R00000100', 'R00000296', 'R00000300']);
  t.true(replies[1]?.includes('WEIGHED-1'), replies[1]);
  t.deepEqual(node.gateway.stats().refused, {});
});
