/** The /metrics endpoint of a real node: scrapes work, other methods do not, and no client keeps the node from stopping. */
import { connect } from 'node:net';
import test from 'ava';
import { pb } from '../../src/client/index.js';
import type { AuthorizeResult, Envelope, Outcome } from '../../src/ledger/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { execute } from '../../src/tcp-gateway/session.js';
import type { CommandSink } from '../../src/workers/index.js';
import { seed, startTestNode } from '../helpers/node.js';

test('/metrics answers GET and HEAD, refuses other methods, and a half-sent request does not hold the node open at stop', async (t) => {
  const { node } = await startTestNode(t, { 'metrics.port': 0, 'metrics.host': '127.0.0.1' });
  const base = `http://127.0.0.1:${node.metricsPort ?? 0}`;
  const scrape = await fetch(`${base}/metrics`);
  t.is(scrape.status, 200);
  t.regex(await scrape.text(), /tillgate_commands_total/);
  t.is((await fetch(`${base}/metrics`, { method: 'HEAD' })).status, 200);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const refused = await fetch(`${base}/metrics`, method === 'DELETE' ? { method } : { method, body: 'x' });
    t.is(refused.status, 405, method);
    t.is(refused.headers.get('allow'), 'GET, HEAD');
  }
  t.is((await fetch(`${base}/other`)).status, 404);
  // A client that starts a request and never finishes it.
  const stalled = connect({ host: '127.0.0.1', port: node.metricsPort ?? 0 });
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
  stalled.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
  const startedMs = Date.now();
  await node.stop('test');
  await closed;
  t.true(Date.now() - startedMs < 5000, `stop took ${Date.now() - startedMs} ms`);
});

/** The values of one metric in the registry, by labels, as "label=value,…" → value; for a histogram, its counts. */
async function valuesOf(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const values: Record<string, number> = {};
  for (const value of (await metric.get()).values) {
    const metricName = (value as { metricName?: string }).metricName;
    if (metricName !== undefined && metricName !== `${name}_count`) continue;
    values[Object.entries(value.labels).map(([label, labelValue]) => `${label}=${String(labelValue)}`).join(',')] = value.value;
  }
  return values;
}

test('over gRPC, return authorizations count each decision once (replays not again) and errors by code; commit latency observes only committed commands', async (t) => {
  const { node, client } = await startTestNode(t);
  const metrics = node.grpc.gate.metrics;
  await seed(client, ['S1'], ['A', 'B'], 20);
  await client.recordSale({ storeId: 'S1', receiptId: 'R1', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 3, unitPriceMinor: 1000 }], tenders: [{ tenderType: pb.TenderType.TENDER_TYPE_CASH, amountMinor: 3000 }] });
  const authorize = { storeId: 'S1', returnId: 'RET-1', receiptId: 'R1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: pb.Bucket.BUCKET_SELLABLE }], idempotencyId: 'authorize-1' };
  await client.authorizeReturn(authorize);
  t.true((await client.authorizeReturn(authorize)).replay);
  const exchange = { storeId: 'S1', returnId: 'EX-1', receiptId: 'R1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: pb.Bucket.BUCKET_SELLABLE }], replacement: { receiptId: 'R1-X', lines: [{ lineNo: 1, sku: 'B', quantity: 1, unitPriceMinor: 1000 }] }, idempotencyId: 'exchange-1' };
  await client.exchange(exchange);
  t.true((await client.exchange(exchange)).replay);
  // Errors: the ledger's (a store it does not know), and a request's (a line with no disposition).
  await t.throwsAsync(client.authorizeReturn({ ...authorize, storeId: 'NOWHERE', idempotencyId: 'authorize-2' }));
  await t.throwsAsync(client.exchange({ ...exchange, storeId: 'NOWHERE', idempotencyId: 'exchange-2' }));
  await t.throwsAsync(client.authorizeReturn({ ...authorize, lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 0 }], idempotencyId: 'authorize-3' }));
  t.deepEqual(await valuesOf(metrics, 'tillgate_return_authorizations_total'), {
    'decision=APPROVED,reason=NONE': 2,
    'decision=ERROR,reason=STORE_NOT_FOUND': 2,
    'decision=ERROR,reason=INVALID_ARGUMENT': 1,
  });
  // Reads and refusals are not commits: no latency is observed for them.
  await client.getStore({ storeId: 'S1' });
  await t.throwsAsync(client.getReceipt({ storeId: 'S1', receiptId: 'NOPE' }));
  const latencyCounts = await valuesOf(metrics, 'tillgate_sync_latency_seconds');
  t.deepEqual(latencyCounts, {
    'interface=grpc,type=UpsertSku': 2, 'interface=grpc,type=UpsertStore': 1, 'interface=grpc,type=ReceiveStock': 2,
    'interface=grpc,type=RecordSale': 1, 'interface=grpc,type=AuthorizeReturn': 2, 'interface=grpc,type=Exchange': 2,
  });
});

test('inventory accuracy is the share of a bucket\'s cycle counts that found the recorded quantity; replays are not counted again', async (t) => {
  const { node, client } = await startTestNode(t);
  const metrics = node.grpc.gate.metrics;
  t.deepEqual(await valuesOf(metrics, 'tillgate_inventory_accuracy_ratio'), {}, 'no value before the first count');
  await seed(client, ['S1'], ['A', 'B'], 10);
  await client.countStock({ storeId: 'S1', sku: 'A', bucket: pb.Bucket.BUCKET_SELLABLE, countedQuantity: 10 });
  t.deepEqual(await valuesOf(metrics, 'tillgate_inventory_accuracy_ratio'), { 'bucket=SELLABLE': 1 });
  const short = { storeId: 'S1', sku: 'B', bucket: pb.Bucket.BUCKET_SELLABLE, countedQuantity: 9, idempotencyId: 'count-b' };
  t.is((await client.countStock(short)).varianceQuantity, -1);
  t.true((await client.countStock(short)).replay);
  await client.countStock({ storeId: 'S1', sku: 'A', bucket: pb.Bucket.BUCKET_DAMAGED, countedQuantity: 0 });
  t.deepEqual(await valuesOf(metrics, 'tillgate_inventory_accuracy_ratio'), { 'bucket=SELLABLE': 0.5, 'bucket=DAMAGED': 1 });
});

test('the register gateway counts an authorization once: a replayed outcome is not a new decision; errors count by code', async (t) => {
  const metrics = new Metrics({ defaultMetrics: false });
  const authorized: AuthorizeResult = { type: 'ReturnAuthorized', returnId: 'RET-1', decision: 'APPROVED', lines: [], refundMinor: 100, refunds: [], differenceMinor: 100, expiresAtMs: 0, overrideApplied: false };
  const outcomes: Outcome[] = [
    { ok: true, result: authorized, replay: false, seq: 1 },
    { ok: true, result: authorized, replay: true, seq: 1 },
    { ok: false, error: { code: 'STORE_NOT_FOUND', message: 'no store' } },
  ];
  const sink = { submit: () => Promise.resolve(outcomes.shift()) } as unknown as CommandSink;
  const context = { sink, logger: createLogger('silent'), metrics, refuse: () => undefined };
  const envelope: Envelope = { idempotencyId: 'stan-1', actor: {}, command: { type: 'AuthorizeReturn', storeId: 'S1', returnId: 'RET-1', lines: [] } };
  for (let call = 0; call < 3; call += 1) await execute(context, envelope);
  t.deepEqual(await valuesOf(metrics, 'tillgate_return_authorizations_total'), { 'decision=APPROVED,reason=NONE': 1, 'decision=ERROR,reason=STORE_NOT_FOUND': 1 });
  t.deepEqual(await valuesOf(metrics, 'tillgate_sync_latency_seconds'), { 'interface=tcp,type=AuthorizeReturn': 2 });
});
