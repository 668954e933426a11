// End to end: a scripted register over real sockets (TCP and TLS) against a real node (ShardPool,
// LMDB in a temp dir): sign-on, refusal before sign-on, sale, return authorize / complete, partial
// return, reversal (known and unknown original), duplicate frame, echo, sign-off.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { IsoMessage } from '../../src/tcp-gateway/codec/index.js';
import { decodeLineDecisions } from '../../src/tcp-gateway/codec/index.js';
import type { RegisterClient } from '../../src/tcp-gateway/index.js';
import { plainFields, toHex } from './helpers.js';
import { envelope, setupCommands } from '../helpers/commands.js';
import { connectRegister, iso, items, metricValue, skus, startNode, stockStart, storeId, verifyAll } from './gateway-helpers.js';
import type { Node } from './gateway-helpers.js';

const terminal = 'TERM0001';
const pan = '4761739001010010';

interface Script {
  node: Node;
  register: RegisterClient;
  header?: Uint8Array;
}

let stanCounter = 0;
function nextStan(): string {
  stanCounter += 1;
  return String(stanCounter).padStart(6, '0');
}
const time = (stan: string) => `1128${stan}`.slice(0, 10);

async function send(s: Script, mti: string, fields: Record<number, string>): Promise<{ request: IsoMessage; response: IsoMessage; f: Record<string, string> }> {
  const request = iso(mti, fields, s.header);
  const response = await s.register.sendIso(request);
  return { request, response, f: plainFields(response) };
}

function base(stan: string, processing: string): Record<number, string> {
  return { 3: processing, 7: time(stan), 11: stan, 41: terminal, 42: storeId, 49: '978' };
}

async function runScript(t: ExecutionContext, s: Script): Promise<void> {
  const reader = s.node.pool.reader(storeId);
  const receiptId = `R${nextStan()}`;
  const saleLines = items({ lineNo: 1, sku: skus[0], quantity: 3, unitPrice: 1999 }, { lineNo: 2, sku: skus[1], quantity: 1, unitPrice: 250 });

  // Financial traffic before sign-on: 58, nothing reaches the ledger.
  const early = await send(s, '0200', { ...base(nextStan(), '000000'), 4: '000000006247', 37: receiptId, 48: saleLines });
  t.is(early.response.mti, '0210');
  t.is(early.f['39'], '58');
  t.is(reader.getReceipt(storeId, receiptId), undefined);

  const signOnStan = nextStan();
  const signOn = await send(s, '0800', { 7: time(signOnStan), 11: signOnStan, 41: terminal, 70: '001' });
  t.is(signOn.response.mti, '0810');
  t.deepEqual(signOn.f, { 7: time(signOnStan), 11: signOnStan, 39: '00', 41: terminal, 70: '001' });
  if (s.header !== undefined) t.is(toHex(signOn.response.header!), toHex(Uint8Array.of(s.header[0]!, s.header[3]!, s.header[4]!, s.header[1]!, s.header[2]!)));

  const echoStan = nextStan();
  t.is((await send(s, '0800', { 7: time(echoStan), 11: echoStan, 41: terminal, 70: '301' })).f['39'], '00');

  // Sale with a card: approved, stock moves, the PAN is stored masked.
  const saleStan = nextStan();
  const saleFields = { ...base(saleStan, '000000'), 2: pan, 4: '000000006247', 37: receiptId, 48: saleLines };
  const sale = await send(s, '0200', saleFields);
  t.is(sale.response.mti, '0210');
  t.is(sale.f['39'], '00');
  t.is(sale.f['48'], 'LR102001A0000003002A0000001');
  t.is(sale.f['2'], undefined);
  t.is(reader.getPosition(storeId, skus[0])?.sellable, stockStart - 3);
  t.is(reader.getReceipt(storeId, receiptId)?.tenders[0]?.cardMasked, '476173******0010');

  // The same frame again (terminal, STAN, field 7): the same answer, stock moved once.
  const again = await send(s, '0200', saleFields);
  t.deepEqual(again.f, sale.f);
  t.is(reader.getPosition(storeId, skus[0])?.sellable, stockStart - 3);

  // Return authorization of 2 of line 1, then completion: damaged stock +2, refund 2 x 19.99.
  const authStan = nextStan();
  const auth = await send(s, '0100', { ...base(authStan, '200000'), 37: receiptId, 48: items({ lineNo: 1, sku: skus[0], quantity: 2, unitPrice: 0, disposition: 'D', originalLineNo: 1 }) });
  t.is(auth.response.mti, '0110');
  t.is(auth.f['39'], '00');
  t.is(auth.f['38'], authStan);
  t.is(auth.f['4'], '000000003998');
  t.deepEqual(decodeLineDecisions(auth.f['48']!), [{ lineNo: 1, decision: 'A', reason: '00', approvedQuantity: 2 }]);
  const completion = await send(s, '0200', { ...base(nextStan(), '200000'), 90: `0100${authStan}${time(authStan)}`.padEnd(42, '0') });
  t.is(completion.f['39'], '00');
  t.is(completion.f['4'], '000000003998');
  t.is(reader.getPosition(storeId, skus[0])?.damaged, 2);
  t.is(reader.getReceipt(storeId, receiptId)?.lines[0]?.returnedQuantity, 2);

  // Partial: 3 more asked, 1 remains returnable -> 10, line P/61 with 1 approved; then reversed.
  const partialStan = nextStan();
  const partial = await send(s, '0100', { ...base(partialStan, '200000'), 37: receiptId, 48: items({ lineNo: 1, sku: skus[0], quantity: 3, unitPrice: 0, originalLineNo: 1 }) });
  t.is(partial.f['39'], '10');
  t.is(partial.f['4'], '000000001999');
  t.is(partial.f['48'], 'LR101001P6100001');
  t.is(reader.getReceipt(storeId, receiptId)?.lines[0]?.heldQuantity, 1);
  const reversal = await send(s, '0400', { ...base(nextStan(), '200000'), 90: `0100${partialStan}${time(partialStan)}`.padEnd(42, '0') });
  t.is(reversal.response.mti, '0410');
  t.is(reversal.f['39'], '00');
  t.is(reader.getReceipt(storeId, receiptId)?.lines[0]?.heldQuantity, 0);
  t.is(reader.getReturn(storeId, `${terminal}-${partialStan}-${time(partialStan)}`)?.status, 'VOIDED');

  // Reversal advice of an original that never was: 25, no crash, nothing written.
  const unknown = await send(s, '0420', { ...base(nextStan(), '200000'), 90: '0100999999112899999900000000000000000000000' .slice(0, 42) });
  t.is(unknown.response.mti, '0430');
  t.is(unknown.f['39'], '25');

  // Sign-off: financial traffic is refused again.
  const offStan = nextStan();
  t.is((await send(s, '0800', { 7: time(offStan), 11: offStan, 41: terminal, 70: '002' })).f['39'], '00');
  t.is((await send(s, '0100', { ...base(nextStan(), '200000'), 37: receiptId, 48: items({ lineNo: 1, sku: skus[0], quantity: 1, unitPrice: 0, originalLineNo: 1 }) })).f['39'], '58');

  t.true(verifyAll(s.node).ok);
  t.is(await metricValue(s.node, 'tillgate_commands_total', { type: 'RecordSale', interface: 'tcp', code: 'OK' }), 2);
  t.is(await metricValue(s.node, 'tillgate_return_authorizations_total', { decision: 'PARTIALLY_APPROVED', reason: 'QUANTITY_EXCEEDS_RETURNABLE' }), 1);
}

test('iso87-ascii over TCP: scripted register signs on, sells, returns in two phases, partial return, reversals, duplicate and sign-off', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' });
  await runScript(t, { node, register: await connectRegister(t, node, 'iso87-ascii') });
});

test('iso87-ascii over TLS (dev CA): the same script passes on an encrypted link', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii', tls: true });
  await runScript(t, { node, register: await connectRegister(t, node, 'iso87-ascii') });
});

test('iso87-binary-tpdu over TCP: the same script, and every reply swaps the TPDU addresses', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-binary-tpdu' });
  await runScript(t, { node, register: await connectRegister(t, node, 'iso87-binary-tpdu'), header: Uint8Array.of(0x60, 0x00, 0x01, 0x00, 0x02) });
});

test('iso87-binary over TCP: many pipelined sales on one connection are each answered once, matched by terminal + STAN', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-binary' });
  const register = await connectRegister(t, node, 'iso87-binary');
  const s: Script = { node, register };
  const signOnStan = nextStan();
  t.is((await send(s, '0800', { 7: time(signOnStan), 11: signOnStan, 41: terminal, 70: '001' })).f['39'], '00');
  const count = 90; // within the 100 units in stock: every sale is approved
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => {
    const stan = nextStan();
    return send(s, '0100', { ...base(stan, '000000'), 4: '000000000250', 37: `P${i}`, 48: items({ lineNo: 1, sku: skus[1], quantity: 1, unitPrice: 250 }) });
  }));
  t.is(answers.filter((a) => a.f['39'] === '00' && a.f['11'] === a.request.fields.get(11)).length, count);
  t.is(node.pool.reader(storeId).getPosition(storeId, skus[1])?.sellable, stockStart - count);
  t.deepEqual(register.unmatched, []);
});

test('iso87-ascii: the same terminal id, STAN and time in two stores are two requests, not a duplicate (a terminal id is unique within its store)', async (t) => {
  // One shard: both stores' idempotency records live in the same ledger.
  const node = await startNode(t, { dialect: 'iso87-ascii' }, {}, 1);
  const otherStore = 'STORE043';
  for (const command of setupCommands([otherStore], skus, stockStart)) {
    const outcome = await node.pool.submit(envelope(command.type === 'UpsertStore' ? { ...command, currency: 'EUR' } : command));
    if (!outcome.ok) throw new Error(outcome.error.message);
  }
  const register = await connectRegister(t, node, 'iso87-ascii');
  const s: Script = { node, register };
  const signOnStan = nextStan();
  t.is((await send(s, '0800', { 7: time(signOnStan), 11: signOnStan, 41: terminal, 70: '001' })).f['39'], '00');
  const stan = nextStan();
  const saleIn = (store: string) => send(s, '0200', { ...base(stan, '000000'), 42: store, 4: '000000000250', 37: `TW-${store.slice(-3)}`, 48: items({ lineNo: 1, sku: skus[1], quantity: 1, unitPrice: 250 }) });
  t.is((await saleIn(storeId)).f['39'], '00');
  t.is((await saleIn(otherStore)).f['39'], '00');
  const reader = node.pool.reader(storeId);
  t.deepEqual([reader.getPosition(storeId, skus[1])?.sellable, reader.getPosition(otherStore, skus[1])?.sellable], [stockStart - 1, stockStart - 1]);
  t.true(verifyAll(node).ok);
});

test('iso87-ascii: a network message without field 7 is refused as the protocol document says', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' });
  const register = await connectRegister(t, node, 'iso87-ascii');
  const stan = nextStan();
  const reply = await send({ node, register }, '0800', { 11: stan, 41: terminal, 70: '001' });
  t.is(reply.f['39'], '30');
});
