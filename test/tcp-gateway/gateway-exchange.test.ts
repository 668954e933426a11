// An exchange from a legacy register: 0100 return authorization with the replacement's lines in
// field 63 (reserved with the hold), then the 0200 completion posts the return and sells the
// replacement as receipt `<return id>-X`.
import test from 'ava';
import { decodeLineDecisions } from '../../src/tcp-gateway/codec/index.js';
import type { fixed } from '../../src/tcp-gateway/codec/index.js';
import { plainFields } from './helpers.js';
import { connectRegister, iso, items, skus, startNode, stockStart, storeId, verifyAll } from './gateway-helpers.js';

const terminal = 'TERMX001';
const time = (stan: string) => `1128${stan}`.slice(0, 10);
const base = (stan: string, processing: string) => ({ 3: processing, 7: time(stan), 11: stan, 41: terminal, 42: storeId, 49: '978' });

test('iso87-ascii exchange: the replacement in field 63 is reserved at authorization and sold at completion', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' });
  const register = await connectRegister(t, node, 'iso87-ascii');
  const send = async (mti: string, fields: Record<number, string>) => plainFields(await register.sendIso(iso(mti, fields)));
  const reader = node.pool.reader(storeId);
  t.is((await send('0800', { 7: time('000001'), 11: '000001', 41: terminal, 70: '001' }))['39'], '00');
  const sale = await send('0200', { ...base('000002', '000000'), 4: '000000003998', 37: 'RX-1', 48: items({ lineNo: 1, sku: skus[0], quantity: 2, unitPrice: 1999 }) });
  t.is(sale['39'], '00');

  // Return 1 of line 1 (19.99) for 1 of SKU-2 at 25.00: the customer owes 5.01.
  const authStan = '000003';
  const replacement = items({ lineNo: 1, sku: skus[1], quantity: 1, unitPrice: 2500 });
  const auth = await send('0100', { ...base(authStan, '200000'), 37: 'RX-1', 48: items({ lineNo: 1, sku: skus[0], quantity: 1, unitPrice: 0, originalLineNo: 1 }), 63: replacement });
  t.is(auth['39'], '00');
  t.deepEqual(decodeLineDecisions(auth['48'] ?? ''), [{ lineNo: 1, decision: 'A', reason: '00', approvedQuantity: 1 }]);
  const returnId = `${terminal}-${authStan}-${time(authStan)}`;
  t.like(reader.getPosition(storeId, skus[1]), { sellable: stockStart, reserved: 1 });

  const completion = await send('0200', { ...base('000004', '200000'), 90: `0100${authStan}${time(authStan)}`.padEnd(42, '0') });
  t.is(completion['39'], '00');
  t.like(reader.getPosition(storeId, skus[1]), { sellable: stockStart - 1, reserved: 0 });
  t.like(reader.getReceipt(storeId, `${returnId}-X`), { origin: 'EXCHANGE', lines: [{ sku: skus[1], quantity: 1, unitPriceMinor: 2500 }] });
  t.like(reader.getReceipt(storeId, 'RX-1')?.lines[0], { returnedQuantity: 1, heldQuantity: 0 });
  t.true(verifyAll(node).ok);
});

test('an exchange whose replacement is out of stock is declined whole, and holds nothing', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' });
  const register = await connectRegister(t, node, 'iso87-ascii');
  const send = async (mti: string, fields: Record<number, string>) => plainFields(await register.sendIso(iso(mti, fields)));
  const reader = node.pool.reader(storeId);
  await send('0800', { 7: time('000001'), 11: '000001', 41: terminal, 70: '001' });
  await send('0200', { ...base('000002', '000000'), 4: '000000001999', 37: 'RX-2', 48: items({ lineNo: 1, sku: skus[0], quantity: 1, unitPrice: 1999 }) });
  const auth = await send('0100', {
    ...base('000003', '200000'), 37: 'RX-2', 48: items({ lineNo: 1, sku: skus[0], quantity: 1, unitPrice: 0, originalLineNo: 1 }),
    63: items({ lineNo: 1, sku: skus[1], quantity: stockStart + 1, unitPrice: 100 }),
  });
  t.not(auth['39'], '00');
  t.deepEqual(decodeLineDecisions(auth['48'] ?? '').map((line) => [line.decision, line.approvedQuantity]), [['D', 0]]);
  t.like(reader.getPosition(storeId, skus[1]), { reserved: 0 });
  t.like(reader.getReceipt(storeId, 'RX-2')?.lines[0], { heldQuantity: 0 });
});

test('fixed-v1 exchange: an R item on a return authorization is the replacement, reserved then sold at completion', async (t) => {
  const node = await startNode(t, { dialect: 'fixed-v1' });
  const register = await connectRegister(t, node, 'fixed-v1');
  const reader = node.pool.reader(storeId);
  const header = (stan: number, operation: fixed.FixedOperation, ids: { receiptId?: string; originalReceiptId?: string; returnId?: string } = {}): fixed.FixedHeader => ({
    recordType: 'H', version: '01', terminalId: 'TERMX009', storeId, stan, transmissionTime: `20251128${String(stan).padStart(6, '0')}`,
    operation, receiptId: ids.receiptId ?? '', originalReceiptId: ids.originalReceiptId ?? '', returnId: ids.returnId ?? '', currency: 'EUR',
  });
  const item = (lineNo: number, sku: string, quantity: number, unitPrice: number, disposition: fixed.FixedDisposition, originalLineNo = 0): fixed.FixedItem =>
    ({ recordType: 'I', lineNo, sku, quantity, unitPrice, disposition, originalLineNo });
  t.is((await register.sendFixed({ header: header(1, 'SO'), items: [], tenders: [] })).response.responseCode, '00');
  const sold = await register.sendFixed({ header: header(2, 'SA', { receiptId: 'FXX-1' }), items: [item(1, skus[0], 2, 1000, 'S')], tenders: [{ recordType: 'T', tenderType: 'CA', amount: 2000 }] });
  t.is(sold.response.responseCode, '00');
  const authorized = await register.sendFixed({
    header: header(3, 'RA', { originalReceiptId: 'FXX-1' }),
    items: [item(1, skus[0], 1, 0, 'D', 1), item(2, skus[1], 1, 1500, 'R')], tenders: [],
  });
  t.is(authorized.response.responseCode, '00');
  t.like(reader.getPosition(storeId, skus[1]), { sellable: stockStart, reserved: 1 });
  const completed = await register.sendFixed({ header: header(4, 'RC', { returnId: authorized.response.returnId }), items: [], tenders: [] });
  t.is(completed.response.responseCode, '00');
  t.like(reader.getPosition(storeId, skus[1]), { sellable: stockStart - 1, reserved: 0 });
  t.like(reader.getPosition(storeId, skus[0]), { damaged: 1 });
  t.like(reader.getReceipt(storeId, `${authorized.response.returnId}-X`), { origin: 'EXCHANGE', lines: [{ sku: skus[1], quantity: 1, unitPriceMinor: 1500 }] });
  t.true(verifyAll(node).ok);
});
