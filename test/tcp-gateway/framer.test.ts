// Framers give the same frames for any chunking, report keep-alives, and bound their memory.
import test from 'ava';
import { FramerError, LengthFramer, LineFramer } from '../../src/tcp-gateway/codec/index.js';
import type { FrameEvent, LengthFramerOptions } from '../../src/tcp-gateway/codec/index.js';
import { ascii, fromHex, seededRandom, toHex } from './helpers.js';

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function describe(events: readonly FrameEvent[]): string[] {
  return events.map((event) => {
    if (event.kind === 'frame') return `frame ${toHex(event.payload)}`;
    if (event.kind === 'keep-alive') return 'keep-alive';
    return `error ${event.error.code}@${event.error.streamOffset}`;
  });
}

function feed(framer: { push(chunk: Uint8Array): FrameEvent[] }, stream: Uint8Array, sizes: () => number): FrameEvent[] {
  const events: FrameEvent[] = [];
  for (let at = 0; at < stream.length;) {
    const size = Math.max(1, Math.min(stream.length - at, sizes()));
    events.push(...framer.push(stream.subarray(at, at + size)));
    at += size;
  }
  return events;
}

const payloads = [fromHex('0800822000000000000004000000'), fromHex('00'), new Uint8Array(300).fill(0x41)];
const variants: { options: LengthFramerOptions; headers: string[] }[] = [
  { options: { header: 'binary2', headerCountsItself: false, frameBytesMax: 1024 }, headers: ['000E', '0001', '012C'] },
  { options: { header: 'binary2', headerCountsItself: true, frameBytesMax: 1024 }, headers: ['0010', '0003', '012E'] },
  { options: { header: 'bcd2', headerCountsItself: false, frameBytesMax: 1024 }, headers: ['0014', '0001', '0300'] },
  { options: { header: 'ascii4', headerCountsItself: false, frameBytesMax: 1024 }, headers: ['30303134', '30303031', '30333030'] },
  { options: { header: 'ascii4', headerCountsItself: true, frameBytesMax: 1024 }, headers: ['30303138', '30303035', '30333034'] },
];

for (const { options, headers } of variants) {
  const name = `${options.header}${options.headerCountsItself ? ' counting itself' : ''}`;

  test(`${name}: frame() writes the hand-computed header`, (t) => {
    const framer = new LengthFramer(options);
    t.deepEqual(payloads.map((p) => toHex(framer.frame(p).subarray(0, headers[0]!.length / 2))), headers);
  });

  test(`${name}: whole, byte-by-byte and random chunks give the same frames`, (t) => {
    const framer = new LengthFramer(options);
    const stream = concat(payloads.map((p) => framer.frame(p)));
    const expected = payloads.map((p) => `frame ${toHex(p)}`);
    t.deepEqual(describe(new LengthFramer(options).push(stream)), expected);
    t.deepEqual(describe(feed(new LengthFramer(options), stream, () => 1)), expected);
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed);
      t.deepEqual(describe(feed(new LengthFramer(options), stream, () => 1 + Math.floor(random() * 40))), expected, `seed ${seed}`);
    }
  });
}

test('zero-length frames are keep-alives, in stream order', (t) => {
  const framer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 64 });
  t.deepEqual(describe(framer.push(fromHex('0000' + '0001AA' + '0000'))), ['keep-alive', 'frame AA', 'keep-alive']);
  t.is(toHex(framer.frame(new Uint8Array())), '0000');
  const counting = new LengthFramer({ header: 'ascii4', headerCountsItself: true, frameBytesMax: 64 });
  t.deepEqual(describe(counting.push(ascii('0004' + '0000'))), ['keep-alive', 'keep-alive']);
});

test('a frame over frameBytesMax is rejected from its header, without buffering it', (t) => {
  const framer = new LengthFramer({ header: 'binary2', headerCountsItself: false, frameBytesMax: 100 });
  const events = framer.push(fromHex('0001AA' + '0065' + 'BB'.repeat(50)));
  t.deepEqual(describe(events), ['frame AA', 'error FRAME_TOO_LARGE@3']);
  t.true(framer.bufferedBytes <= 102);
  const again = framer.push(fromHex('0001AA'));
  t.deepEqual(describe(again), ['error FRAMER_FAILED@5']);
  t.throws(() => framer.frame(new Uint8Array(101)), { instanceOf: FramerError, message: /FRAME_TOO_LARGE/ });
});

test('bad length headers are typed errors', (t) => {
  t.deepEqual(describe(new LengthFramer({ header: 'ascii4', headerCountsItself: false, frameBytesMax: 100 }).push(ascii('00a1'))), ['error BAD_LENGTH_HEADER@0']);
  t.deepEqual(describe(new LengthFramer({ header: 'bcd2', headerCountsItself: false, frameBytesMax: 100 }).push(fromHex('001A'))), ['error BAD_LENGTH_HEADER@0']);
  t.deepEqual(describe(new LengthFramer({ header: 'binary2', headerCountsItself: true, frameBytesMax: 100 }).push(fromHex('0001'))), ['error BAD_LENGTH_HEADER@0']);
  t.throws(() => new LengthFramer({ header: 'bcd2', headerCountsItself: false, frameBytesMax: 10000 }), { instanceOf: RangeError });
});

test('line framer: CR LF lines for any chunking, bare LF accepted, empty lines are keep-alives', (t) => {
  const stream = ascii('H01ABC\r\nI001\r\n\r\nZ000\n');
  const expected = [`frame ${toHex(ascii('H01ABC'))}`, `frame ${toHex(ascii('I001'))}`, 'keep-alive', `frame ${toHex(ascii('Z000'))}`];
  t.deepEqual(describe(new LineFramer({ lineBytesMax: 16 }).push(stream)), expected);
  t.deepEqual(describe(feed(new LineFramer({ lineBytesMax: 16 }), stream, () => 1)), expected);
  const random = seededRandom(7);
  t.deepEqual(describe(feed(new LineFramer({ lineBytesMax: 16 }), stream, () => 1 + Math.floor(random() * 5))), expected);
});

test('line framer: a line over lineBytesMax is rejected even before its line end arrives', (t) => {
  const framer = new LineFramer({ lineBytesMax: 4 });
  t.deepEqual(describe(framer.push(ascii('ABCD\r\n'))), [`frame ${toHex(ascii('ABCD'))}`]);
  t.deepEqual(describe(framer.push(ascii('ABCDEF'))), ['error LINE_TOO_LONG@6']);
  t.true(framer.bufferedBytes <= 5);
  t.deepEqual(describe(framer.push(ascii('\r\n'))), ['error FRAMER_FAILED@6']);
  const framerCr = new LineFramer({ lineBytesMax: 4 });
  t.deepEqual(describe(framerCr.push(ascii('ABCDE\n'))), ['error LINE_TOO_LONG@0']);
});

test('line framer: frame() appends CR LF and refuses embedded line ends', (t) => {
  const framer = new LineFramer({ lineBytesMax: 8 });
  t.is(toHex(framer.frame(ascii('Z000'))), '5A3030300D0A');
  t.throws(() => framer.frame(ascii('A\nB')), { instanceOf: FramerError, message: /BAD_LINE/ });
  t.throws(() => framer.frame(ascii('123456789')), { instanceOf: FramerError, message: /LINE_TOO_LONG/ });
});
