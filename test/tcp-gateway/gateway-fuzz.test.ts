// Bounded fuzz over real sockets: random, truncated, oversized, slow-drip and bit-flipped frames on
// many connections that never sign on. The gateway stays up, answers 30 where the MTI is readable
// (or the refusal a well-formed but unsigned request earns), closes the connection otherwise, and
// the ledger is untouched: every shard verifies and no journal head moved.
// FUZZ_SECONDS sets the duration (default 15).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import test from 'ava';
import { decode, encode, getIsoDialect, LengthFramer } from '../../src/tcp-gateway/codec/index.js';
import type { IsoDialect } from '../../src/tcp-gateway/codec/index.js';
import { seededRandom } from './helpers.js';
import { connectRegister, iso, items, skus, startNode, storeId, verifyAll } from './gateway-helpers.js';
import type { Node } from './gateway-helpers.js';

const durationMs = Number(process.env.FUZZ_SECONDS ?? '15') * 1000;
const connectionsAtOnce = 16;
const frameBytesMax = 2048;

interface Tally { connections: number; frames: number; answers: number; codes: Record<string, number>; closedByServer: number }

function validSale(dialect: IsoDialect, random: () => number): Uint8Array {
  const stan = String(Math.floor(random() * 999_999)).padStart(6, '0');
  return encode(iso('0200', {
    2: '4761739001010010', 3: '000000', 4: '000000000250', 7: '1128101530', 11: stan, 37: `FZ${stan}`, 41: 'FUZZ0001', 42: storeId, 49: '978',
    48: items({ lineNo: 1, sku: skus[1], quantity: 1, unitPrice: 250 }),
  }, dialect.headerBytes === 5 ? Uint8Array.of(0x60, 0, 1, 0, 2) : undefined), dialect);
}

function mutate(kind: number, valid: Uint8Array, random: () => number): Uint8Array {
  const bytes = Uint8Array.from(valid);
  if (kind === 0) return Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
  if (kind === 1) return bytes.subarray(0, Math.floor(random() * bytes.length));
  const flips = 1 + Math.floor(random() * 4);
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(random() * bytes.length);
    bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
  }
  return bytes;
}

async function fuzzConnection(node: Node, dialect: IsoDialect, random: () => number, tally: Tally): Promise<void> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: node.port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => undefined);
  tally.connections += 1;
  const framer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 65535 });
  const reader = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 65535 });
  socket.on('data', (chunk: Buffer) => {
    for (const event of reader.push(chunk)) {
      if (event.kind !== 'frame') continue;
      tally.answers += 1;
      const code = String(decode(event.payload, dialect).fields.get(39));
      tally.codes[code] = (tally.codes[code] ?? 0) + 1;
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let serverClosed = true;
  const mode = Math.floor(random() * 5);
  const frames = 1 + Math.floor(random() * 20);
  for (let i = 0; i < frames && !socket.destroyed; i++) {
    tally.frames += 1;
    if (mode === 3) {
      socket.write(Uint8Array.of(0xff, 0xff)); // oversized: 65535 announced, frameBytesMax is 2048
    } else if (mode === 4) {
      const bytes = framer.frame(mutate(2, validSale(dialect, random), random));
      for (let at = 0; at < Math.min(bytes.length, 8) && !socket.destroyed; at++) {
        socket.write(bytes.subarray(at, at + 1));
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      break;
    } else {
      socket.write(framer.frame(mutate(mode, validSale(dialect, random), random)));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50 + random() * 200));
  if (!socket.destroyed) {
    serverClosed = false;
    socket.end();
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
  if (serverClosed) tally.closedByServer += 1;
  socket.destroy();
}

for (const dialectName of ['iso87-ascii', 'iso87-binary-tpdu'] as const) {
  test(`fuzz ${dialectName}: garbage on many connections is answered 30 / 58 / 12 or closed, and changes nothing in the ledger`, async (t) => {
    t.timeout(durationMs + 60_000);
    const node = await startNode(t, { dialect: dialectName }, { frameBytesMax, readWindowMs: 500, readBytesPerSecondMin: 50, firstFrameMsMax: 2000, idleMsMax: 2000 }, 1);
    const dialect = getIsoDialect(dialectName)!;
    const before = verifyAll(node);
    const random = seededRandom(dialectName.length * 7919);
    const tally: Tally = { connections: 0, frames: 0, answers: 0, codes: {}, closedByServer: 0 };
    const endMs = Date.now() + durationMs / 2;
    await Promise.all(Array.from({ length: connectionsAtOnce }, async () => {
      while (Date.now() < endMs) await fuzzConnection(node, dialect, random, tally);
    }));
    t.log(JSON.stringify(tally));
    t.true(tally.connections > connectionsAtOnce);
    t.true(tally.answers > 0);
    t.deepEqual(Object.keys(tally.codes).filter((code) => !['30', '58', '12'].includes(code)), []);
    const after = verifyAll(node);
    t.true(after.ok);
    t.deepEqual(after.heads, before.heads);
    // Still serving: a real register signs on and sells.
    const register = await connectRegister(t, node, dialectName);
    const header = dialect.headerBytes === 5 ? Uint8Array.of(0x60, 0, 1, 0, 2) : undefined;
    t.is((await register.sendIso(iso('0800', { 7: '1128101530', 11: '000001', 41: 'TERM0001', 70: '001' }, header))).fields.get(39), '00');
    const sale = iso('0200', { 3: '000000', 4: '000000000250', 7: '1128101531', 11: '000002', 37: 'AFTER-FUZZ', 41: 'TERM0001', 42: storeId, 49: '978', 48: items({ lineNo: 1, sku: skus[1], quantity: 1, unitPrice: 250 }) }, header);
    t.is((await register.sendIso(sale)).fields.get(39), '00');
    t.is(node.gateway.stats().inflight, 0);
  });
}
