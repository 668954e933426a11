/**
 * The gRPC server's resource bounds, against a real server on port 0 (plaintext on loopback, an
 * inline ledger in a temporary directory): message size, streams and session memory per
 * connection, and lists longer than the ledger takes refused before they are mapped or submitted.
 */
import { connect } from 'node:http2';
import type { Settings } from 'node:http2';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Metadata, Server, ServerCredentials, credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { pb } from '../../src/client/index.js';
import { loadConfig } from '../../src/config/index.js';
import { LedgerError, limits } from '../../src/ledger/index.js';
import type { Command, Envelope } from '../../src/ledger/index.js';
import { validateEnvelope } from '../../src/ledger/validate.js';
import { grpcServerOptions, startGrpcServer } from '../../src/grpc/server.js';
import type { GrpcLimits } from '../../src/grpc/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { InlineSink } from '../../src/workers/index.js';
import { tempDir } from '../helpers/tmp.js';

interface Served {
  port: number;
  /** Every envelope that reached the ledger. */
  submitted: Envelope[];
  sales: pb.SalesServiceClient;
  returns: pb.ReturnsServiceClient;
}

async function serve(t: ExecutionContext, overrides: Partial<GrpcLimits> = {}): Promise<Served> {
  // The limits a node starts with when nothing is configured, with this test's changes.
  const grpcLimits: GrpcLimits = { ...loadConfig({}).grpc, ...overrides };
  const sink = InlineSink.open({ dataDir: tempDir(t), shardCount: 1 });
  const submitted: Envelope[] = [];
  const submit = sink.submit.bind(sink);
  sink.submit = (envelope) => {
    submitted.push(envelope);
    return submit(envelope);
  };
  const server = await startGrpcServer({
    sink, logger: createLogger('silent'), metrics: new Metrics(), host: '127.0.0.1', port: 0, credentials: ServerCredentials.createInsecure(), limits: grpcLimits,
  });
  const address = `127.0.0.1:${server.port}`;
  const sales = new pb.SalesServiceClient(address, credentials.createInsecure());
  const returns = new pb.ReturnsServiceClient(address, credentials.createInsecure());
  t.teardown(async () => {
    sales.close();
    returns.close();
    await server.drain(0, 1000);
    await sink.close();
  });
  return { port: server.port, submitted, sales, returns };
}

const callOptions = () => ({ deadline: Date.now() + 30_000 });

/** The error a call ends with; a call that succeeds fails the test. */
function refusal(call: (done: (error: ServiceError | null) => void) => unknown): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    call((error) => (error === null ? reject(new Error('accepted')) : resolve(error)));
  });
}

const context = { idempotencyId: 'bounds-1', terminalId: 'T1' };
const card = { tenderType: pb.TenderType.TENDER_TYPE_CARD, cardMasked: '411111******1111' };

test('a message over messageBytesMax is RESOURCE_EXHAUSTED before any handler runs; the default bound is 1 MiB', async (t) => {
  const small = await serve(t, { messageBytesMax: 4096 });
  const sale = (storeId: string) => pb.RecordSaleRequest.fromPartial({ context, storeId, receiptId: 'R1', channel: 1, currency: 'USD' });
  const tooLarge = await refusal((done) => small.sales.recordSale(sale('S'.repeat(8192)), new Metadata(), callOptions(), done));
  t.is(tooLarge.code, status.RESOURCE_EXHAUSTED, tooLarge.details);
  // Under the bound the request reaches the handler (and the ledger, which names what is wrong).
  const fits = await refusal((done) => small.sales.recordSale(sale('S'.repeat(2048)), new Metadata(), callOptions(), done));
  t.is(fits.code, status.INVALID_ARGUMENT, fits.details);
  t.is(fits.metadata.get('tillgate-reason')[0], 'STRING_TOO_LONG');

  const byDefault = await serve(t);
  const overDefault = await refusal((done) => byDefault.sales.recordSale(sale('S'.repeat(1536 * 1024)), new Metadata(), callOptions(), done));
  t.is(overDefault.code, status.RESOURCE_EXHAUSTED, overDefault.details);
  t.deepEqual([small.submitted.length, byDefault.submitted.length], [1, 0]);
});

test('the server advertises concurrentStreamsMax streams per connection and hands grpc-js a bounded session memory', async (t) => {
  const advertised = async (port: number) => {
    const session = connect(`http://127.0.0.1:${port}`);
    t.teardown(() => session.destroy());
    return new Promise<number | undefined>((resolve) => session.once('remoteSettings', (settings: Settings) => resolve(settings.maxConcurrentStreams)));
  };
  t.is(await advertised((await serve(t)).port), 100);
  t.is(await advertised((await serve(t, { concurrentStreamsMax: 7 })).port), 7);
  // Never more streams than calls the node takes at all.
  t.is(await advertised((await serve(t, { concurrentCallsMax: 3 })).port), 3);

  // grpc-js 1.14 keeps what it passes to http2.createServer in a private field; an option name it
  // did not know would leave session memory unlimited (Number.MAX_SAFE_INTEGER).
  const options = grpcServerOptions({ ...loadConfig({}).grpc, sessionMemoryMbMax: 48 });
  t.is(options['grpc-node.max_session_memory'], 48);
  const server = new Server(options);
  const common = (server as unknown as { commonServerOptions: { maxSessionMemory?: number; settings?: { maxConcurrentStreams?: number } } }).commonServerOptions;
  t.is(common.maxSessionMemory, 48);
  t.is(common.settings?.maxConcurrentStreams, 100);
});

/** What the ledger answers for a command: its error code, message and field. */
function ledgerAnswer(command: Command): { reason: string; details: string; field: string | undefined } {
  try {
    validateEnvelope({ idempotencyId: context.idempotencyId, actor: { terminalId: 'T1' }, command });
  } catch (error) {
    if (error instanceof LedgerError) return { reason: error.code, details: error.message, field: error.field };
    throw error;
  }
  throw new Error('the ledger accepted the command');
}

function answerOf(error: ServiceError): { reason: string; details: string; field: string | undefined } {
  return { reason: String(error.metadata.get('tillgate-reason')[0]), details: error.details, field: error.metadata.get('tillgate-field')[0]?.toString() };
}

test('lines and tenders past the ledger bounds are refused as the ledger would (same code, message and field), before anything reaches it', async (t) => {
  const served = await serve(t, { messageBytesMax: 4 * 1024 * 1024 });
  // Many more lines than the bound, each well formed, so nothing else stops the mapping early.
  const lineCount = 50_000;
  const saleLines = Array.from({ length: lineCount }, (_, index) => ({ lineNo: index + 1, sku: 'A', quantity: 1, unitPriceMinor: 1 }));
  const returnLines = Array.from({ length: lineCount }, (_, index) => ({ lineNo: index + 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: pb.Bucket.BUCKET_SELLABLE }));
  const ledgerSaleLines = saleLines.map((line) => ({ ...line }));
  const ledgerReturnLines = returnLines.map((line) => ({ ...line, disposition: 'SELLABLE' as const }));
  const tooManyTenders = Array.from({ length: limits.tendersMax + 1 }, () => ({ ...card, amountMinor: 0 }));
  const sale = { storeId: 'S1', receiptId: 'R1', currency: 'USD' };
  const authorize = { storeId: 'S1', returnId: 'RET-1', receiptId: 'R1' };
  const cases: [string, Promise<ServiceError>, Command][] = [
    ['RecordSale lines', refusal((done) => served.sales.recordSale(pb.RecordSaleRequest.fromPartial({ context, ...sale, channel: 1, lines: saleLines, tenders: [{ ...card, amountMinor: lineCount }] }), new Metadata(), callOptions(), done)),
      { type: 'RecordSale', ...sale, channel: 'STORE', lines: ledgerSaleLines, tenders: [{ tenderType: 'CARD', amountMinor: lineCount, cardMasked: card.cardMasked }] }],
    ['RecordSale tenders', refusal((done) => served.sales.recordSale(pb.RecordSaleRequest.fromPartial({ context, ...sale, channel: 1, lines: saleLines.slice(0, 1), tenders: tooManyTenders }), new Metadata(), callOptions(), done)),
      { type: 'RecordSale', ...sale, channel: 'STORE', lines: ledgerSaleLines.slice(0, 1), tenders: tooManyTenders.map(() => ({ tenderType: 'CARD', amountMinor: 0, cardMasked: card.cardMasked })) }],
    ['ImportReceipt lines', refusal((done) => served.sales.importReceipt(pb.ImportReceiptRequest.fromPartial({ context, ...sale, channel: 2, soldAtMs: 1, lines: saleLines, tenders: [{ ...card, amountMinor: lineCount }] }), new Metadata(), callOptions(), done)),
      { type: 'ImportReceipt', ...sale, channel: 'ONLINE', soldAtMs: 1, lines: ledgerSaleLines, tenders: [{ tenderType: 'CARD', amountMinor: lineCount, cardMasked: card.cardMasked }] }],
    ['AuthorizeReturn lines', refusal((done) => served.returns.authorizeReturn(pb.AuthorizeReturnRequest.fromPartial({ context, ...authorize, lines: returnLines }), new Metadata(), callOptions(), done)),
      { type: 'AuthorizeReturn', ...authorize, lines: ledgerReturnLines }],
    ['Exchange replacement.lines', refusal((done) => served.returns.exchange(pb.ExchangeRequest.fromPartial({ context, ...authorize, lines: returnLines.slice(0, 1), replacement: { receiptId: 'R1-X', lines: saleLines } }), new Metadata(), callOptions(), done)),
      { type: 'Exchange', ...authorize, lines: ledgerReturnLines.slice(0, 1), replacement: { receiptId: 'R1-X', lines: ledgerSaleLines } }],
    ['CompleteReturn lines', refusal((done) => served.returns.completeReturn(pb.CompleteReturnRequest.fromPartial({ context, storeId: 'S1', returnId: 'RET-1', lines: saleLines.map(({ lineNo }) => ({ lineNo, quantity: 1 })) }), new Metadata(), callOptions(), done)),
      { type: 'CompleteReturn', storeId: 'S1', returnId: 'RET-1', lines: ledgerSaleLines.map(({ lineNo }) => ({ lineNo, quantity: 1 })) }],
  ];
  for (const [name, call, command] of cases) {
    const error = await call;
    t.is(error.code, status.INVALID_ARGUMENT, name);
    t.deepEqual(answerOf(error), ledgerAnswer(command), name);
    t.is(answerOf(error).reason, 'TOO_MANY_LINES', name);
  }
  t.is(served.submitted.length, 0, 'no over-long list reached the ledger');
});
