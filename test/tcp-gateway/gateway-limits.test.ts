// Every transport bound on a real socket: each one closes or refuses with its typed reason,
// counted in stats and in metrics.refused.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import test from 'ava';
import { items, metricValue, oversizedCompletions, skus, startNode, stockStart, storeId } from './gateway-helpers.js';
import type { Node } from './gateway-helpers.js';
import type { CommandSink, ShardPool } from '../../src/workers/index.js';
import { iso } from './gateway-helpers.js';
import { decode, encode, getIsoDialect, LengthFramer } from '../../src/tcp-gateway/codec/index.js';
import type { IsoMessage } from '../../src/tcp-gateway/codec/index.js';
import { resolveLimits } from '../../src/tcp-gateway/limits.js';
import { Transport } from '../../src/tcp-gateway/transport.js';
import { createLogger } from '../../src/observability/logger.js';

function open(node: Node): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: node.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function closedWithin(socket: Socket, msMax: number): Promise<number> {
  const startedMs = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${msMax} ms`)), msMax);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - startedMs);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

const framer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 8192 });
const ascii = getIsoDialect('iso87-ascii')!;
const echo = framer.frame(encode(iso('0800', { 7: '1128101530', 11: '000001', 70: '301' }), ascii));
/** A sign-on, framed for the iso87-ascii listener. */
const signOn = framer.frame(encode(iso('0800', { 7: '1128101530', 11: '999999', 70: '001' }), ascii));

test('a frame announcing more than frameBytesMax closes the connection unread (frame_bytes_max)', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { frameBytesMax: 512 }, 1);
  const socket = await open(node);
  socket.write(Uint8Array.of(0x03, 0xe8, 0x30, 0x38)); // 1000 bytes announced
  await closedWithin(socket, 2000);
  t.is(node.gateway.stats().refused.frame_bytes_max, 1);
  t.is(await metricValue(node, 'tillgate_refused_total', { reason: 'frame_bytes_max' }), 1);
});

test('connections beyond connectionsMax are refused at accept; the first ones keep working', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { connectionsMax: 3 }, 1);
  const kept = await Promise.all([open(node), open(node), open(node)]);
  t.teardown(() => kept.forEach((socket) => socket.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const extra = await open(node);
  await closedWithin(extra, 2000);
  t.is(node.gateway.stats().refused.connections_max, 1);
  t.is(node.gateway.stats().connectionsOpen, 3);
  const answered = new Promise<number>((resolve) => kept[0].once('data', (chunk: Buffer) => resolve(chunk.length)));
  kept[0].write(echo);
  t.true((await answered) > 2);
});

test('connections from one source beyond connectionsPerSourceMax are refused (connections_per_source_max)', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { connectionsPerSourceMax: 2 }, 1);
  const kept = await Promise.all([open(node), open(node)]);
  t.teardown(() => kept.forEach((socket) => socket.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await closedWithin(await open(node), 2000);
  t.is(node.gateway.stats().refused.connections_per_source_max, 1);
});

test('a connection silent for idleMsMax after its last answer is closed (idle_ms_max)', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { idleMsMax: 300, firstFrameMsMax: 5000 }, 1);
  const socket = await open(node);
  socket.write(echo);
  const elapsedMs = await closedWithin(socket, 3000);
  t.true(elapsedMs >= 250, `closed after ${elapsedMs} ms`);
  t.is(node.gateway.stats().refused.idle_ms_max, 1);
});

test('a connection that sends no frame within firstFrameMsMax is closed (first_frame_ms_max)', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { firstFrameMsMax: 300 }, 1);
  const socket = await open(node);
  const elapsedMs = await closedWithin(socket, 3000);
  t.true(elapsedMs >= 250, `closed after ${elapsedMs} ms`);
  t.is(node.gateway.stats().refused.first_frame_ms_max, 1);
});

test('a sender dripping a frame below readBytesPerSecondMin is closed (read_bytes_per_second_min)', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { readBytesPerSecondMin: 100, readWindowMs: 400, firstFrameMsMax: 10_000 }, 1);
  const socket = await open(node);
  let at = 0;
  const drip = setInterval(() => {
    if (!socket.destroyed && at < echo.length) socket.write(echo.subarray(at, ++at));
  }, 100);
  t.teardown(() => clearInterval(drip));
  await closedWithin(socket, 4000);
  t.true(at < echo.length);
  t.is(node.gateway.stats().refused.read_bytes_per_second_min, 1);
});

test('a sender that stops right after a length header is a slow sender too, not an idle one', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { readBytesPerSecondMin: 100, readWindowMs: 300, firstFrameMsMax: 10_000, idleMsMax: 60_000 }, 1);
  const socket = await open(node);
  socket.write(signOn);
  await new Promise((resolve) => setTimeout(resolve, 200));
  // 8,000 bytes announced, none sent.
  socket.write(Buffer.from([0x1f, 0x40]));
  const closedAfterMs = await closedWithin(socket, 5000);
  t.true(closedAfterMs < 5000);
  t.is(node.gateway.stats().refused.read_bytes_per_second_min, 1);
  t.is(node.gateway.stats().refused.idle_ms_max ?? 0, 0);
});

test('limits that could not work are refused: a frame bound too small for replies, a write buffer below the socket\'s own', (t) => {
  t.throws(() => resolveLimits({ frameBytesMax: 64 }), { message: /frameBytesMax 64 is below 512/ });
  t.throws(() => resolveLimits({ writeBufferBytesMax: 1024 }), { message: /writeBufferBytesMax 1024 is below 16384/ });
  t.like(resolveLimits({ frameBytesMax: 512, writeBufferBytesMax: 16384 }), { frameBytesMax: 512, writeBufferBytesMax: 16384 });
});

test('a TLS client that never completes its handshake is cut at handshakeMsMax (handshake_ms_max)', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii', tls: true }, { handshakeMsMax: 300 }, 1);
  const socket = await open(node);
  await closedWithin(socket, 3000);
  t.is(node.gateway.stats().refused.handshake_ms_max, 1);
});

test('graceful close answers every request already read, queued or in flight, then closes the connection', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { inflightPerConnectionMax: 8 }, 1);
  const socket = await open(node);
  const count = 40;
  let answers = 0;
  const reader = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 8192 });
  socket.on('data', (chunk: Buffer) => {
    answers += reader.push(chunk).filter((event) => event.kind === 'frame').length;
  });
  // Sales go through the pool (asynchronously), so frames past the in-flight bound wait, read but
  // not yet submitted, when the close begins.
  const frames = Array.from({ length: count }, (_, i) => saleFrame(i + 1, `GC${i}`));
  socket.write(Buffer.concat([signOn, ...frames]));
  while (node.gateway.stats().framesIn < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  const closed = closedWithin(socket, 5000);
  await node.gateway.close(3000);
  await closed;
  // Every frame read before the close is answered, including those still waiting behind the
  // in-flight bound (8 here); none is answered twice; the socket then closes.
  const read = node.gateway.stats().framesIn;
  t.true(read > 9, `${read} frames read before the close`);
  t.is(answers, read);
  t.is(node.gateway.stats().framesOut, answers);
  // Each answered sale (every answer but the sign-on's) moved stock once; nothing unanswered was done.
  t.is(node.pool.reader(storeId).getPosition(storeId, skus[1])?.sellable, stockStart - (answers - 1));
});

/** The pool, with every command answered `delayMs` later than the pool answers it. */
function slowSink(delayMs: number): (pool: ShardPool) => CommandSink {
  return (pool) => ({
    submit: async (command) => {
      const outcome = await pool.submit(command);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return outcome;
    },
    shardCount: pool.shardCount, reader: (id) => pool.reader(id), readers: () => pool.readers(), stats: () => pool.stats(), close: () => pool.close(),
  });
}

/** A one-unit sale of the second SKU, framed for the iso87-ascii listener. */
function saleFrame(stan: number, receiptId: string): Uint8Array {
  return framer.frame(encode(iso('0200', {
    3: '000000', 4: '000000000250', 7: '1128101530', 11: String(stan).padStart(6, '0'), 37: receiptId, 41: 'TERM0001', 42: storeId, 49: '978',
    48: items({ lineNo: 1, sku: skus[1], quantity: 1, unitPrice: 250 }),
  }), ascii));
}

function signedOnSale(i: number): Buffer {
  return Buffer.concat([signOn, saleFrame(i, `SLOW${i}`)]);
}

test('a connection draining for a graceful stop is not cut as a slow sender while its answer is pending', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { readWindowMs: 200 }, 1, slowSink(1200));
  const socket = await open(node);
  let answers = 0;
  const reader = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 8192 });
  socket.on('data', (chunk: Buffer) => {
    answers += reader.push(chunk).filter((event) => event.kind === 'frame').length;
  });
  // A sign-on and a sale, then the first bytes of another frame: the sender is mid-frame.
  socket.write(Buffer.concat([signedOnSale(1), Buffer.from([0x00, 0x40, 0x30])]));
  while (node.gateway.stats().framesIn < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  const closed = closedWithin(socket, 8000);
  await node.gateway.close(6000);
  await closed;
  t.is(answers, 2, 'the sign-on and the sale are both answered');
  t.falsy(node.gateway.stats().refused.read_bytes_per_second_min);
  t.like(node.pool.reader(storeId).getPosition(storeId, skus[1]), { sellable: stockStart - 1 });
});

test('a draining connection whose register sends more after the stop began still closes once answered, not at the grace deadline', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, {}, 1, slowSink(300));
  const socket = await open(node);
  socket.write(signedOnSale(1));
  while (node.gateway.stats().framesIn < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  const graceMs = 15_000;
  const startedMs = Date.now();
  const stopping = node.gateway.close(graceMs);
  // Sent after reading stopped: never read, never answered, but it must not hold the socket open.
  setTimeout(() => socket.write(signedOnSale(2)), 20);
  await closedWithin(socket, graceMs);
  await stopping;
  t.true(Date.now() - startedMs < graceMs / 2, `the stop took ${Date.now() - startedMs} ms of a ${graceMs} ms grace`);
});

/** Every iso87-ascii reply the socket receives, decoded, in order. */
function collectReplies(socket: Socket): IsoMessage[] {
  const replies: IsoMessage[] = [];
  const replyFramer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 8192 });
  socket.on('data', (chunk: Buffer) => {
    for (const event of replyFramer.push(chunk)) if (event.kind === 'frame') replies.push(decode(event.payload, ascii));
  });
  return replies;
}

/** A reply as its MTI and response code, e.g. 0210/00. */
const answerOf = (reply: IsoMessage): string => `${reply.mti}/${String(reply.fields.get(39))}`;

test('a register that half-closes after its request still gets the answer to a command the ledger applied', async (t) => {
  // The answer comes 150 ms after the commit, so the register's FIN arrives well before it.
  const node = await startNode(t, { dialect: 'iso87-ascii' }, {}, 1, slowSink(150));
  const socket = connect({ host: '127.0.0.1', port: node.port, allowHalfOpen: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  const replies = collectReplies(socket);
  socket.end(Buffer.concat([signOn, saleFrame(2, 'HALF-1')]));
  await closedWithin(socket, 5000);
  t.deepEqual(replies.map(answerOf), ['0810/00', '0210/00']);
  t.is(node.pool.reader(storeId).getPosition(storeId, skus[1])?.sellable, stockStart - 1);
  t.deepEqual(node.gateway.stats().refused, {});
});

test('the slow-sender rule measures a frame from when it began: a pause between frames, then a frame sent in two parts, is not slow', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { readBytesPerSecondMin: 64, readWindowMs: 1000, firstFrameMsMax: 10_000, idleMsMax: 60_000 }, 1);
  const socket = await open(node);
  const replies: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => replies.push(chunk));
  socket.write(signOn);
  // Quiet for most of a window, then the echo's length header, and its body 400 ms later: over
  // the window the register sent few bytes, but the frame itself arrived in 400 ms.
  await new Promise((resolve) => setTimeout(resolve, 850));
  socket.write(echo.subarray(0, 2));
  await new Promise((resolve) => setTimeout(resolve, 400));
  socket.write(echo.subarray(2));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.false(socket.destroyed);
  t.is(node.gateway.stats().refused.read_bytes_per_second_min ?? 0, 0);
  t.is(node.gateway.stats().framesOut, 2);
  socket.destroy();
});

test('a slow sender with a request in flight gets its answer before the connection closes', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { readBytesPerSecondMin: 100, readWindowMs: 300, firstFrameMsMax: 10_000, idleMsMax: 60_000 }, 1, slowSink(700));
  const socket = await open(node);
  const replies = collectReplies(socket);
  // The sale goes to the (slow) ledger; then a length header and nothing more: a slow sender.
  socket.write(Buffer.concat([signOn, saleFrame(3, 'SLOW-1'), Buffer.from([0x1f, 0x40])]));
  await closedWithin(socket, 5000);
  t.is(node.gateway.stats().refused.read_bytes_per_second_min, 1);
  t.deepEqual(replies.map(answerOf), ['0810/00', '0210/00']);
  t.is(node.pool.reader(storeId).getPosition(storeId, skus[1])?.sellable, stockStart - 1);
});

test('iso: a reply whose line decisions cannot be built is answered 96 after the commit, and the connection keeps working', async (t) => {
  // A completion of 150,000 units: field 48's quantity columns cannot carry it.
  const node = await startNode(t, { dialect: 'iso87-ascii' }, {}, 1, oversizedCompletions);
  const socket = await open(node);
  const replies = collectReplies(socket);
  const completion = framer.frame(encode(iso('0200', {
    3: '200000', 7: '1128101533', 11: '000004', 41: 'TERM0001', 42: storeId, 49: '978', 90: '01000000031128000003'.padEnd(42, '0'),
  }), ascii));
  const repliesReach = async (count: number) => {
    for (let waitedMs = 0; replies.length < count && waitedMs < 5000; waitedMs += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  socket.write(Buffer.concat([signOn, completion]));
  await repliesReach(2);
  socket.write(echo);
  await repliesReach(3);
  t.deepEqual(replies.map(answerOf), ['0810/00', '0210/96', '0810/00']);
  t.false(socket.destroyed);
  socket.destroy();
});

test('a slow sender that never closes its side is cut once its answers are out: it does not hold a connection slot until idleMsMax', async (t) => {
  const node = await startNode(t, { dialect: 'iso87-ascii' }, { readBytesPerSecondMin: 100, readWindowMs: 300, firstFrameMsMax: 10_000, idleMsMax: 60_000 }, 1);
  // A half-open client: it keeps its side open after our FIN, as an attacker would.
  const socket = connect({ host: '127.0.0.1', port: node.port, allowHalfOpen: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  const replies = collectReplies(socket);
  t.teardown(() => socket.destroy());
  socket.write(Buffer.concat([signOn, Buffer.from([0x1f, 0x40])]));
  // The client never ends its side, so it sees no close: the gateway's own count of open connections says when it let go.
  const startedMs = Date.now();
  while (node.gateway.stats().connectionsOpen > 0 && Date.now() - startedMs < 9000) await new Promise((resolve) => setTimeout(resolve, 20));
  // The slow-sender rule after readWindowMs, then at most 5 s for the peer to close its side.
  t.is(node.gateway.stats().connectionsOpen, 0, `still open after ${Date.now() - startedMs} ms`);
  t.deepEqual(replies.map(answerOf), ['0810/00']);
  t.is(node.gateway.stats().refused.read_bytes_per_second_min, 1);
  t.is(node.gateway.stats().refused.idle_ms_max ?? 0, 0);
});

test('a register that half-closes and reads its answers late still gets all of them: the close linger starts once they are flushed', async (t) => {
  // 100 answers of 60 KB: more than the socket buffers hold, so most wait in the gateway until the register reads.
  const replyBytes = 60_000;
  const frames = 100;
  const transport = new Transport(resolveLimits({ frameBytesMax: 65_000, inflightPerConnectionMax: frames }), createLogger('silent'), () => undefined);
  t.teardown(() => transport.close(100));
  const reply = new Uint8Array(replyBytes).fill(0x41);
  const port = await transport.listen({
    host: '127.0.0.1', port: 0, framing: 'binary2', headerCountsItself: false, name: 'linger',
    // Answered a little later, as the ledger does: each answer is written as it comes, whether or not the register reads.
    newSession: () => ({ handle: () => new Promise((resolve) => setTimeout(() => resolve({ reply }), 20)) }),
  });
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.end(Buffer.concat(Array.from({ length: frames }, () => Buffer.from([0, 1, 0x42]))));
  socket.pause();
  let received = 0;
  socket.on('data', (chunk: Buffer) => { received += chunk.length; });
  // The register reads nothing for longer than the 5 s linger.
  setTimeout(() => socket.resume(), 6500);
  await new Promise<void>((resolve) => { socket.once('close', () => resolve()); socket.once('error', () => resolve()); });
  t.is(received, frames * (replyBytes + 2));
});
