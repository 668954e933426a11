import test from 'ava';
import { readFileSync } from 'node:fs';
import { getDialect } from '../../src/tcp-gateway/codec/index.js';
import { encodeLineItems } from '../../src/tcp-gateway/codec/index.js';
import { RegisterClient } from '../../src/tcp-gateway/client.js';
import { seed, startTestNode } from '../helpers/node.js';

test('a node started with a TCP port serves legacy registers over TLS with its certificate, into the same ledger as gRPC', async (t) => {
  const { node, client } = await startTestNode(t, { 'tcp.port': 0, 'tcp.host': '127.0.0.1', 'tcp.dialect': 'iso87-ascii' });
  t.truthy(node.tcpPort);
  await seed(client, ['STORE042'], ['SKU-1'], 10);
  const register = await RegisterClient.connect({
    host: '127.0.0.1', port: node.tcpPort ?? 0, dialect: getDialect('iso87-ascii'), responseMsMax: 10_000,
    tls: { ca: readFileSync(node.caFile ?? ''), servername: 'localhost' },
  });
  t.teardown(() => register.destroy());
  const send = async (mti: string, fields: Record<number, string>) => {
    const response = await register.sendIso({ mti, fields: new Map(Object.entries(fields).map(([k, v]) => [Number(k), v])) });
    return Object.fromEntries([...response.fields].map(([k, v]) => [k, typeof v === 'string' ? v : Buffer.from(v).toString('hex')]));
  };
  t.is((await send('0800', { 7: '1128000001', 11: '000001', 41: 'TERM0001', 70: '001' }))[39], '00');
  const lines = encodeLineItems([{ lineNo: 1, sku: 'SKU-1', quantity: 2, unitPrice: 1999, disposition: 'S', originalLineNo: 0 }]);
  const sale = await send('0200', { 3: '000000', 4: '000000003998', 7: '1128000002', 11: '000002', 37: 'RCPT-TCP-1', 41: 'TERM0001', 42: 'STORE042', 48: lines, 49: '840' });
  t.is(sale[39], '00');
  // The same ledger answers the gRPC client.
  t.like((await client.getStock({ storeId: 'STORE042', sku: 'SKU-1' })).position, { sellable: 8 });
  t.is((await client.getReceipt({ storeId: 'STORE042', receiptId: 'RCPT-TCP-1' })).receipt?.lines[0]?.quantity, 2);
  t.is(node.status().registerConnections, 1);
});
