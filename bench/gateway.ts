// Gateway benchmark, each figure beside its baseline measured in the same run, as a ratio:
//  (a) authorizations per second through the whole path (register frames -> gateway -> shard pool
//      -> durable LMDB commit -> reply) vs the same commands sent straight to Ledger.execute in
//      batches (ledger-only durable rate); target ratio >= 0.5.
//  (b) the gateway's CPU per frame (0800 echo: framing, decode, translate, encode) vs a raw
//      length-framed echo server's CPU per frame, at the same pipelining depth.
// Load generators run as child processes, so the parent's process.cpuUsage is the server's alone.
// Usage: npm run bench:gateway [-- --auths N --echoes N --connections C --depth D]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Ledger } from '../src/ledger/index.js';
import type { Command, Envelope } from '../src/ledger/index.js';
import { createLogger } from '../src/observability/logger.js';
import { decode, encode, encodeLineItems, getIsoDialect, LengthFramer } from '../src/tcp-gateway/codec/index.js';
import type { FieldValue } from '../src/tcp-gateway/codec/index.js';
import { startGateway } from '../src/tcp-gateway/index.js';
import { ShardPool } from '../src/workers/index.js';

const dialect = getIsoDialect('iso87-binary')!;
const storeId = 'BENCH001';
const sku = 'SKU-BENCH';
const frameBytesMax = 8192;

function frameOf(mti: string, fields: Record<number, FieldValue>): Buffer {
  const framer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax });
  return Buffer.from(framer.frame(encode({ mti, fields: new Map(Object.entries(fields).map(([k, v]) => [Number(k), v])) }, dialect)));
}

function saleFields(connection: number, index: number): Record<number, FieldValue> {
  const stan = String(index + 1).padStart(6, '0');
  return {
    3: '000000', 4: '000000000250', 7: '1128101530', 11: stan, 37: `B${connection}-${index}`, 41: `BNCH${String(connection).padStart(4, '0')}`,
    42: storeId, 49: '978', 48: encodeLineItems([{ lineNo: 1, sku, quantity: 1, unitPrice: 250, disposition: 'S', originalLineNo: 0 }]),
  };
}

// ---- child: load generator ------------------------------------------------------------------

interface LoadSpec { port: number; mode: 'auth' | 'echo'; connections: number; depth: number; framesPerConnection: number }
interface LoadResult { elapsedMs: number; answered: number; codes: Record<string, number> }

async function runConnection(spec: LoadSpec, connection: number, codes: Record<string, number>, ready: () => void, go: Promise<void>): Promise<number> {
  const frames = Array.from({ length: spec.framesPerConnection }, (_, i) => spec.mode === 'auth'
    ? frameOf('0100', saleFields(connection, i))
    : frameOf('0800', { 7: '1128101530', 11: String((i % 999_999) + 1).padStart(6, '0'), 41: 'BNCHECHO', 70: '301' }));
  const socket = connect({ host: '127.0.0.1', port: spec.port, noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  const reader = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax });
  let answered = 0;
  let sent = 0;
  let signOnDone: () => void = () => undefined;
  let finished: () => void = () => undefined;
  const signedOn = new Promise<void>((resolve) => { signOnDone = resolve; });
  const done = new Promise<void>((resolve) => { finished = resolve; });
  let signingOn = spec.mode === 'auth';
  socket.on('data', (chunk: Buffer) => {
    for (const event of reader.push(chunk)) {
      if (event.kind !== 'frame') continue;
      if (signingOn) {
        signingOn = false;
        signOnDone();
        continue;
      }
      answered += 1;
      if (spec.mode === 'auth') {
        const code = String(decode(event.payload, dialect).fields.get(39));
        codes[code] = (codes[code] ?? 0) + 1;
      }
      if (sent < frames.length) socket.write(frames[sent++]!);
      if (answered === frames.length) finished();
    }
  });
  if (spec.mode === 'auth') {
    socket.write(frameOf('0800', { 7: '1128101530', 11: '999999', 41: `BNCH${String(connection).padStart(4, '0')}`, 70: '001' }));
    await signedOn;
  }
  ready();
  await go;
  while (sent < Math.min(spec.depth, frames.length)) socket.write(frames[sent++]!);
  await done;
  socket.destroy();
  return answered;
}

async function childMain(spec: LoadSpec): Promise<void> {
  const codes: Record<string, number> = {};
  let startedMs = 0;
  let readyCount = 0;
  const go = new Promise<void>((resolve) => process.once('message', () => {
    startedMs = performance.now();
    resolve();
  }));
  const ready = (): void => {
    readyCount += 1;
    if (readyCount === spec.connections) process.send?.({ ready: true });
  };
  const counts = await Promise.all(Array.from({ length: spec.connections }, (_, c) => runConnection(spec, c, codes, ready, go)));
  const result: LoadResult = { elapsedMs: performance.now() - startedMs, answered: counts.reduce((a, b) => a + b, 0), codes };
  process.send?.({ result });
  process.disconnect?.();
}

// ---- parent ---------------------------------------------------------------------------------

async function load(spec: LoadSpec): Promise<{ result: LoadResult; cpuUs: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(spec)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let cpuStart = process.cpuUsage();
  return new Promise((resolve, reject) => {
    child.on('message', (message: { ready?: boolean; result?: LoadResult }) => {
      if (message.ready === true) {
        cpuStart = process.cpuUsage();
        child.send({ go: true });
      } else if (message.result !== undefined) {
        const cpu = process.cpuUsage(cpuStart);
        resolve({ result: message.result, cpuUs: cpu.user + cpu.system });
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`load child exited ${code}`)); });
  });
}

function setupCommands(): Command[] {
  return [
    { type: 'UpsertSku', sku, description: 'bench item', returnable: true, returnWindowDays: 0 },
    { type: 'UpsertStore', storeId, name: 'Bench store', currency: 'EUR' },
    { type: 'ReceiveStock', storeId, sku, bucket: 'SELLABLE', quantity: 1_000_000, reference: 'bench' },
  ];
}

function saleCommand(connection: number, index: number): Command {
  return {
    type: 'RecordSale', storeId, receiptId: `B${connection}-${index}`, channel: 'STORE', currency: 'EUR',
    lines: [{ lineNo: 1, sku, quantity: 1, unitPriceMinor: 250 }], tenders: [{ tenderType: 'CASH', amountMinor: 250 }],
  };
}

async function ledgerOnly(dir: string, connections: number, perConnection: number, batchSize: number): Promise<number> {
  const ledger = Ledger.open({ path: join(dir, 'ledger-only') });
  await ledger.execute(setupCommands().map((command, i): Envelope => ({ idempotencyId: `setup-${i}`, actor: {}, command })));
  const envelopes: Envelope[] = [];
  for (let c = 0; c < connections; c++) {
    for (let i = 0; i < perConnection; i++) envelopes.push({ idempotencyId: `iso:BNCH${c}:${i}:1128101530`, actor: { terminalId: `BNCH${c}` }, command: saleCommand(c, i) });
  }
  const startedMs = performance.now();
  const batches: Promise<unknown>[] = [];
  for (let at = 0; at < envelopes.length; at += batchSize) batches.push(ledger.execute(envelopes.slice(at, at + batchSize)));
  await Promise.all(batches);
  const rate = envelopes.length / ((performance.now() - startedMs) / 1000);
  await ledger.close();
  return rate;
}

function rawEchoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer({ noDelay: true }, (socket) => {
    const framer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax });
    socket.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) if (event.kind === 'frame') socket.write(framer.frame(event.payload));
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

async function parentMain(): Promise<void> {
  const { values } = parseArgs({ options: { auths: { type: 'string', default: '24000' }, echoes: { type: 'string', default: '120000' }, connections: { type: 'string', default: '16' }, depth: { type: 'string', default: '64' } } });
  const connections = Number(values.connections);
  const depth = Number(values.depth);
  const authsPerConnection = Math.ceil(Number(values.auths) / connections);
  const echoesPerConnection = Math.ceil(Number(values.echoes) / connections);
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-gw-'));
  try {
    const ledgerRate = await ledgerOnly(dir, connections, authsPerConnection, 512);
    const pool = await ShardPool.start({ dataDir: join(dir, 'pool'), shardCount: 1 });
    for (const [i, command] of setupCommands().entries()) await pool.submit({ idempotencyId: `setup-${i}`, actor: {}, command });
    const gateway = await startGateway({ sink: pool, logger: createLogger('silent'), listeners: [{ host: '127.0.0.1', port: 0, dialect: 'iso87-binary' }], limits: { inflightPerConnectionMax: depth } });
    const auth = await load({ port: gateway.ports[0]!, mode: 'auth', connections, depth, framesPerConnection: authsPerConnection });
    const gatewayRate = auth.result.answered / (auth.result.elapsedMs / 1000);
    const echo = await load({ port: gateway.ports[0]!, mode: 'echo', connections, depth, framesPerConnection: echoesPerConnection });
    await gateway.close(2000);
    await pool.close();
    const raw = await rawEchoServer();
    const rawEcho = await load({ port: raw.port, mode: 'echo', connections, depth, framesPerConnection: echoesPerConnection });
    raw.server.close();
    const gatewayCpuUsPerFrame = echo.cpuUs / echo.result.answered;
    const rawCpuUsPerFrame = rawEcho.cpuUs / rawEcho.result.answered;
    const results = {
      at: new Date().toISOString(), node: process.version, connections, depth,
      authorizations: { frames: auth.result.answered, codes: auth.result.codes, gatewayPerSecond: Math.round(gatewayRate), ledgerOnlyPerSecond: Math.round(ledgerRate), ratio: Number((gatewayRate / ledgerRate).toFixed(3)), target: 0.5 },
      cpuPerFrame: { frames: echo.result.answered, gatewayUs: Number(gatewayCpuUsPerFrame.toFixed(2)), rawEchoUs: Number(rawCpuUsPerFrame.toFixed(2)), ratio: Number((gatewayCpuUsPerFrame / rawCpuUsPerFrame).toFixed(2)), gatewayEchoesPerSecond: Math.round(echo.result.answered / (echo.result.elapsedMs / 1000)), rawEchoesPerSecond: Math.round(rawEcho.result.answered / (rawEcho.result.elapsedMs / 1000)) },
    };
    const rows = [
      ['measure', 'gateway', 'baseline', 'ratio'],
      ['(a) authorizations/s, durable (vs Ledger.execute batches)', String(results.authorizations.gatewayPerSecond), String(results.authorizations.ledgerOnlyPerSecond), `${results.authorizations.ratio} (target >= 0.5)`],
      ['(b) CPU us per frame (vs raw frame echo)', String(results.cpuPerFrame.gatewayUs), String(results.cpuPerFrame.rawEchoUs), `${results.cpuPerFrame.ratio}x`],
      ['    echo frames/s (same depth)', String(results.cpuPerFrame.gatewayEchoesPerSecond), String(results.cpuPerFrame.rawEchoesPerSecond), ''],
    ];
    process.stdout.write(`gateway bench: ${connections} connections x depth ${depth}, iso87-binary, 1 shard\n`);
    for (const row of rows) process.stdout.write(`${row[0]!.padEnd(60)} ${row[1]!.padStart(10)} ${row[2]!.padStart(10)}  ${row[3]}\n`);
    process.stdout.write(`response codes: ${JSON.stringify(auth.result.codes)}\n`);
    const out = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'gateway.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) await childMain(JSON.parse(process.argv[childIndex + 1]!) as LoadSpec);
else await parentMain();
