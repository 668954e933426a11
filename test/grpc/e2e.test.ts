// Serial: each test starts a node with its writer threads and TLS; twelve at once on a 2-core
// machine beside other test files starved the handshakes past the SDK deadline.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { ServiceError } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { TillgateError, pb } from '../../src/client/index.js';
import { openReader } from '../../src/ledger/index.js';
import { shardPath } from '../../src/workers/index.js';
import { seed, startTestNode } from '../helpers/node.js';

const card = { tenderType: pb.TenderType.TENDER_TYPE_CARD, cardMasked: '411111******1111' };

async function rejection(t: ExecutionContext, promise: Promise<unknown>): Promise<TillgateError> {
  const error = await t.throwsAsync(promise);
  if (!(error instanceof TillgateError)) throw new Error(`expected a TillgateError, got ${String(error)}`);
  return error;
}

test.serial('every RPC works over TLS through the SDK: admin, stock, sale, import, receipt, returns, exchange', async (t) => {
  const { client } = await startTestNode(t);
  await seed(client, ['S1'], ['A', 'B'], 20);
  const store = await client.getStore({ storeId: 'S1' });
  t.is(store.store?.currency, 'USD');
  t.is(store.effectivePolicy?.returnWindowDays, 30);
  t.deepEqual((await client.getSku({ sku: 'A' })).sku, { sku: 'A', description: 'item A', returnable: true, returnWindowDays: 0 });
  t.like((await client.adjustStock({ storeId: 'S1', sku: 'A', bucket: 1, delta: -2, reason: 'shrink' })).position, { sellable: 18 });
  t.is((await client.countStock({ storeId: 'S1', sku: 'A', bucket: 1, countedQuantity: 19 })).varianceQuantity, 1);
  t.like((await client.transferStock({ storeId: 'S1', sku: 'A', fromBucket: 1, toBucket: 3, quantity: 1 })).position, { sellable: 18, quarantine: 1 });

  const sale = await client.recordSale({ storeId: 'S1', receiptId: 'R1', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 3, unitPriceMinor: 1000 }], tenders: [{ ...card, amountMinor: 3000 }] });
  t.is(sale.decision, pb.Decision.DECISION_APPROVED);
  t.is(sale.totalMinor, 3000);
  await client.importReceipt({ storeId: 'S1', receiptId: 'WEB-1', channel: 2, currency: 'USD', soldAtMs: Date.now() - 86_400_000, lines: [{ lineNo: 1, sku: 'B', quantity: 1, unitPriceMinor: 500 }], tenders: [{ ...card, amountMinor: 500 }] });

  const authorized = await client.authorizeReturn({ storeId: 'S1', returnId: 'RET-1', receiptId: 'R1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 2, disposition: pb.Bucket.BUCKET_DAMAGED }] });
  t.is(authorized.authorization?.decision, pb.Decision.DECISION_APPROVED);
  t.is(authorized.authorization?.refundMinor, 2000);
  t.like((await client.getReceipt({ storeId: 'S1', receiptId: 'R1' })).receipt?.lines[0], { quantity: 3, heldQuantity: 2, returnableQuantity: 1 });
  const completed = await client.completeReturn({ storeId: 'S1', returnId: 'RET-1', lines: [{ lineNo: 1, quantity: 1 }] });
  t.is(completed.completion?.refundMinor, 1000);
  t.is(completed.completion?.event, pb.ReturnEvent.RETURN_EVENT_RETURN_PARTIAL);
  t.is((await client.getReturn({ storeId: 'S1', returnId: 'RET-1' })).returnRecord?.status, pb.ReturnStatus.RETURN_STATUS_COMPLETED);

  await client.authorizeReturn({ storeId: 'S1', returnId: 'RET-2', receiptId: 'WEB-1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'B', quantity: 1, disposition: 1 }] });
  t.is((await client.voidReturn({ storeId: 'S1', returnId: 'RET-2', reason: 'customer kept it' })).returnId, 'RET-2');

  const exchange = await client.exchange({ storeId: 'S1', returnId: 'EX-1', receiptId: 'R1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 1 }], replacement: { receiptId: 'R1-X', lines: [{ lineNo: 1, sku: 'B', quantity: 1, unitPriceMinor: 1500 }] } });
  t.is(exchange.completion?.differenceMinor, -500);
  // 2 of the 3 units sold on R1 are back now: still a partial return.
  t.is(exchange.completion?.event, pb.ReturnEvent.RETURN_EVENT_RETURN_PARTIAL);

  const stock = await client.batchGetStock({ keys: [{ storeId: 'S1', sku: 'A' }, { storeId: 'S1', sku: 'B' }, { storeId: 'S1', sku: 'NOPE' }] });
  t.deepEqual(stock.lookups.map((l) => [l.found, l.position?.sellable, l.position?.damaged]), [[true, 16, 1], [true, 19, 0], [false, undefined, undefined]]);
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 16, damaged: 1, quarantine: 1, reserved: 0 });
});

test.serial('business declines are OK answers with a decision and a reason per line', async (t) => {
  const { client } = await startTestNode(t);
  await seed(client, ['S1'], ['A'], 1);
  const sale = await client.recordSale({ storeId: 'S1', receiptId: 'R1', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 5, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 500 }] });
  t.is(sale.decision, pb.Decision.DECISION_DECLINED);
  t.deepEqual(sale.lines[0], { lineNo: 1, decision: pb.LineDecision.LINE_DECISION_DECLINED, reason: pb.DeclineReason.DECLINE_REASON_INSUFFICIENT_STOCK, availableQuantity: 1 });
  const missing = await client.authorizeReturn({ storeId: 'S1', returnId: 'RET-9', receiptId: 'NOPE', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 1 }] });
  t.is(missing.authorization?.lines[0]?.reason, pb.DeclineReason.DECLINE_REASON_RECEIPT_NOT_FOUND);
});

test.serial('errors carry a gRPC status, a stable reason and the offending field', async (t) => {
  const { client } = await startTestNode(t);
  await seed(client, ['S1'], ['A'], 10);
  const cases: [Promise<unknown>, status, string, string | undefined][] = [
    [client.recordSale({ storeId: 'S1', receiptId: 'R0', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 0, unitPriceMinor: 1 }], tenders: [{ ...card, amountMinor: 0 }] }), status.INVALID_ARGUMENT, 'QUANTITY_INVALID', 'lines[0].quantity'],
    [client.recordSale({ storeId: 'S1', receiptId: 'R0', channel: 0, currency: 'USD', lines: [], tenders: [] }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', 'channel'],
    [client.recordSale({ storeId: 'S1', receiptId: 'R0', channel: 1, currency: 'XXX', lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 1 }], tenders: [{ ...card, amountMinor: 1 }] }), status.INVALID_ARGUMENT, 'CURRENCY_UNKNOWN', 'currency'],
    [client.receiveStock({ storeId: 'NOWHERE', sku: 'A', bucket: 1, quantity: 1, reference: 'x' }), status.NOT_FOUND, 'STORE_NOT_FOUND', 'storeId'],
    [client.getReceipt({ storeId: 'S1', receiptId: 'NOPE' }), status.NOT_FOUND, 'RECEIPT_NOT_FOUND', 'receiptId'],
    [client.completeReturn({ storeId: 'S1', returnId: 'NOPE' }), status.NOT_FOUND, 'RETURN_NOT_FOUND', 'returnId'],
    [client.adjustStock({ storeId: 'S1', sku: 'A', bucket: 2, delta: -1, reason: 'x' }), status.FAILED_PRECONDITION, 'STOCK_WOULD_GO_NEGATIVE', 'quantity'],
    [client.batchGetStock({ keys: Array.from({ length: 501 }, () => ({ storeId: 'S1', sku: 'A' })) }), status.INVALID_ARGUMENT, 'BATCH_TOO_LARGE', 'keys'],
    [client.exchange({ storeId: 'S1', returnId: 'EX-0', receiptId: 'R0', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 1 }] }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', 'replacement'],
  ];
  for (const [promise, code, reason, field] of cases) {
    const error = await rejection(t, promise);
    t.deepEqual([error.code, error.reason, error.field], [code, reason, field], error.message);
  }
  // Nothing of the refused calls was written.
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 10, damaged: 0 });
});

test.serial('an error quotes no card number and no huge value, and never breaks the calls beside it on the connection', async (t) => {
  const { client } = await startTestNode(t);
  await seed(client, ['S1'], ['A'], 100);
  const saleOf = (receiptId: string, currency: string, cardMasked = card.cardMasked) =>
    client.recordSale({ storeId: 'S1', receiptId, channel: 1, currency, lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, cardMasked, amountMinor: 100 }] });
  // A 70,000-character value echoed whole made ~70 KB of trailers, past HTTP/2's header limit,
  // which failed every call on the connection; the sales sent beside it must all succeed.
  const beside = Array.from({ length: 10 }, (_, index) => saleOf(`OK-${index}`, 'USD'));
  const huge = await rejection(t, saleOf('BIG', 'U'.repeat(70_000)));
  t.deepEqual([huge.code, huge.reason, huge.field], [status.INVALID_ARGUMENT, 'CURRENCY_UNKNOWN', 'currency']);
  t.true(huge.message.length < 1000, huge.message.slice(0, 200));
  t.deepEqual((await Promise.all(beside)).map((sale) => sale.decision), Array.from({ length: 10 }, () => pb.Decision.DECISION_APPROVED));
  const pan = await rejection(t, saleOf('PAN', '4111111111111111'));
  t.is(pan.reason, 'CURRENCY_UNKNOWN');
  t.false(/\d{12}/.test(pan.message), pan.message);
  // Card numbers hidden by separators or full-width digits are refused, never stored or returned.
  for (const [index, hidden] of ['4111_1111_1111_1111', '4111/1111/1111/1111', '\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11'].entries()) {
    const refused = await rejection(t, saleOf(`HIDDEN-${index}`, 'USD', hidden));
    t.deepEqual([refused.reason, refused.field], ['INVALID_ARGUMENT', 'tenders[0].cardMasked']);
  }
  const token = await rejection(t, client.recordSale({ storeId: 'S1', receiptId: 'TOKEN', channel: 1, currency: 'USD', customerToken: '4111 1111 1111 1111', lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }] }));
  t.deepEqual([token.reason, token.field], ['INVALID_ARGUMENT', 'customerToken']);
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 90 });
});

test.serial('a replayed idempotency id returns the original answer marked as a replay; another body is refused', async (t) => {
  const { client } = await startTestNode(t);
  await seed(client, ['S1'], ['A'], 10);
  const request = { idempotencyId: 'pos-7-000123', storeId: 'S1', receiptId: 'R1', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 2, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 200 }] };
  const first = await client.recordSale(request);
  const again = await client.recordSale(request);
  t.false(first.replay);
  t.true(again.replay);
  t.is(again.journalSeq, first.journalSeq);
  const conflict = await rejection(t, client.recordSale({ ...request, lines: [{ lineNo: 1, sku: 'A', quantity: 3, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 300 }] }));
  t.deepEqual([conflict.code, conflict.reason], [status.ALREADY_EXISTS, 'IDEMPOTENCY_CONFLICT']);
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 8 });
});

test.serial('a mutating call without an idempotency id is INVALID_ARGUMENT naming context.idempotencyId', async (t) => {
  const { node } = await startTestNode(t);
  const raw = new pb.SalesServiceClient(`localhost:${node.grpcPort}`, credentials.createSsl(readFileSync(node.caFile ?? '')));
  t.teardown(() => raw.close());
  const error = await new Promise<ServiceError>((resolve) => {
    raw.recordSale(pb.RecordSaleRequest.fromPartial({ storeId: 'S1', receiptId: 'R1' }), new Metadata(), (e) => resolve(e as ServiceError));
  });
  t.is(error.code, status.INVALID_ARGUMENT);
  t.is(error.metadata.get('tillgate-field')[0], 'context.idempotencyId');
});

test.serial('a call whose deadline has passed is refused with DEADLINE_EXCEEDED and its retry with the same id applies once', async (t) => {
  const { client, connect } = await startTestNode(t);
  await seed(client, ['S1'], ['A'], 10);
  const hurried = connect({ deadlineMs: 1, attemptsMax: 1 });
  const request = { idempotencyId: 'deadline-1', storeId: 'S1', receiptId: 'R-D', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }] };
  const error = await rejection(t, hurried.recordSale(request));
  t.is(error.code, status.DEADLINE_EXCEEDED);
  const retried = await client.recordSale(request);
  t.is(retried.decision, pb.Decision.DECISION_APPROVED);
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 9 });
});

test.serial('overload is RESOURCE_EXHAUSTED with reason OVERLOADED, and refused calls change nothing', async (t) => {
  const { client } = await startTestNode(t, { 'pool.queueCommandsMax': 2, shards: 1 });
  await seed(client, ['S1'], ['A'], 1000);
  const calls = Array.from({ length: 60 }, (_, i) => client.recordSale({ storeId: 'S1', receiptId: `R${i}`, channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }] }));
  const settled = await Promise.allSettled(calls);
  const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s).reason as TillgateError);
  const accepted = settled.filter((s) => s.status === 'fulfilled').length;
  t.true(refused.length > 0, 'some calls were refused');
  t.true(refused.every((e) => e.code === status.RESOURCE_EXHAUSTED && e.reason === 'OVERLOADED'));
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 1000 - accepted });
});

test.serial('health is SERVING, then NOT_SERVING while the node drains', async (t) => {
  const { node } = await startTestNode(t, { shutdownNotServingMs: 400 });
  const { service: healthService } = await import('grpc-health-check');
  const { makeClientConstructor } = grpc;
  const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
  const health = new Health(`localhost:${node.grpcPort}`, credentials.createSsl(readFileSync(node.caFile ?? ''))) as unknown as { check: (r: object, cb: (e: Error | null, v: { status: string }) => void) => void; close(): void };
  t.teardown(() => health.close());
  const check = () => new Promise<string>((resolve, reject) => health.check({ service: '' }, (e, v) => (e === null ? resolve(v.status) : reject(e))));
  t.is(await check(), 'SERVING');
  const stopping = node.stop('test drain');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(await check(), 'NOT_SERVING');
  await stopping;
});

test.serial('shutdown with calls in flight loses no acknowledged call and half-applies none', async (t) => {
  const first = await startTestNode(t, { shards: 2 });
  await seed(first.client, ['S1', 'S2'], ['A'], 10_000);
  const requests = Array.from({ length: 300 }, (_, i) => ({
    idempotencyId: `inflight-${i}`, storeId: i % 2 === 0 ? 'S1' : 'S2', receiptId: `R${i}`, channel: 1, currency: 'USD',
    lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }],
  }));
  const calls = requests.map((request) => first.client.recordSale(request));
  await new Promise((resolve) => setImmediate(resolve));
  await first.node.stop('test shutdown');
  const settled = await Promise.allSettled(calls);
  const acknowledged = requests.filter((_, i) => settled[i]?.status === 'fulfilled');
  t.log(`${acknowledged.length} of ${requests.length} acknowledged before shutdown`);
  // Reopen the same data directory: every acknowledged sale is there, and the ledger verifies.
  for (const shard of [0, 1]) {
    const reader = openReader(shardPath(first.dataDir, shard));
    t.true(reader.verify().ok);
    await reader.close();
  }
  const second = await startTestNode(t, { shards: 2 }, first.dataDir);
  for (const request of acknowledged) t.truthy((await second.client.getReceipt({ storeId: request.storeId, receiptId: request.receiptId })).receipt);
  // Retrying everything with the same ids applies each sale exactly once.
  const retried = await Promise.all(requests.map((request) => second.client.recordSale(request)));
  t.true(retried.every((response) => response.decision === pb.Decision.DECISION_APPROVED));
  const sold = (await second.client.getStock({ storeId: 'S1', sku: 'A' })).position?.sellable ?? 0;
  const soldS2 = (await second.client.getStock({ storeId: 'S2', sku: 'A' })).position?.sellable ?? 0;
  t.is(20_000 - sold - soldS2, requests.length);
});

test.serial('a call that arrives without a deadline gets the default one; its retry with the same id applies once', async (t) => {
  const { node, client } = await startTestNode(t, { 'grpc.defaultDeadlineMs': 1, shards: 1 });
  await seed(client, ['S1'], ['A'], 10);
  // A raw generated client sends no deadline at all (the SDK always sends one).
  const raw = new pb.SalesServiceClient(`localhost:${node.grpcPort}`, credentials.createSsl(readFileSync(node.caFile ?? '')));
  t.teardown(() => raw.close());
  const request = pb.RecordSaleRequest.fromPartial({
    context: { idempotencyId: 'no-deadline-1' }, storeId: 'S1', receiptId: 'R-ND', channel: 1, currency: 'USD',
    lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }],
  });
  const error = await new Promise<ServiceError>((resolve) => {
    raw.recordSale(request, new Metadata(), (e) => resolve(e as ServiceError));
  });
  t.is(error.code, status.DEADLINE_EXCEEDED);
  t.is(error.metadata.get('tillgate-reason')[0], 'DEADLINE_EXCEEDED');
  const retried = await client.recordSale({ idempotencyId: 'no-deadline-1', storeId: 'S1', receiptId: 'R-ND', channel: 1, currency: 'USD', lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }] });
  t.is(retried.decision, pb.Decision.DECISION_APPROVED);
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 9 });
});

test.serial('a request that does not decode, or carries a string that is not UTF-8, is INVALID_ARGUMENT and changes nothing', async (t) => {
  const { node, client } = await startTestNode(t, { shards: 1 });
  await seed(client, ['S1'], ['A'], 10);
  const raw = new grpc.Client(`localhost:${node.grpcPort}`, credentials.createSsl(readFileSync(node.caFile ?? '')));
  t.teardown(() => raw.close());
  const send = (bytes: Buffer) =>
    new Promise<ServiceError>((resolve, reject) => {
      raw.makeUnaryRequest('/tillgate.v1.SalesService/RecordSale', (value: Buffer) => value, (value: Buffer) => value, bytes, new Metadata(), { deadline: Date.now() + 10_000 }, (error, answer) => {
        if (error === null) reject(new Error(`accepted: ${String(answer?.length)} bytes`));
        else resolve(error);
      });
    });
  const sale = (idempotencyId: string, receiptId: string) => Buffer.from(pb.RecordSaleRequest.encode(pb.RecordSaleRequest.fromPartial({
    context: { idempotencyId }, storeId: 'S1', receiptId, channel: 1, currency: 'USD',
    lines: [{ lineNo: 1, sku: 'A', quantity: 1, unitPriceMinor: 100 }], tenders: [{ ...card, amountMinor: 100 }],
  })).finish());
  /** The encoded sale with the first byte of `marker` replaced by `byte` (an invalid UTF-8 lead byte). */
  const corrupted = (bytes: Buffer, marker: string, byte: number) => {
    const at = bytes.indexOf(marker);
    if (at < 0) throw new Error(`no ${marker} in the request`);
    const copy = Buffer.from(bytes);
    copy[at] = byte;
    return copy;
  };
  const cases: [string, Buffer][] = [
    ['garbage bytes', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['a request cut inside its last field', sale('cut-1', 'R-CUT').subarray(0, -3)],
    ['an idempotency id that is not UTF-8', corrupted(sale('Xbad-utf8-1', 'R-U1'), 'Xbad', 0xff)],
    ['a receipt id that is not UTF-8', corrupted(sale('bad-utf8-2', 'XR-U2'), 'XR-U2', 0xfe)],
  ];
  for (const [what, bytes] of cases) {
    const error = await send(bytes);
    t.deepEqual([error.code, error.metadata.get('tillgate-reason')[0]], [status.INVALID_ARGUMENT, 'INVALID_ARGUMENT'], what);
    t.regex(error.details, /does not decode as a RecordSale request/, what);
  }
  // The well-formed sale with the same bytes otherwise goes through, once: nothing above was applied.
  const error = await send(sale('Xgood', 'R-GOOD')).catch((accepted: Error) => accepted);
  t.regex(error.message, /^accepted/);
  t.like((await client.getStock({ storeId: 'S1', sku: 'A' })).position, { sellable: 9 });
});
