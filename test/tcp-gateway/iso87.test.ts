// The shipped ISO 8583:1987 dialects against messages whose bytes were worked out by hand from
// the 1987 field definitions (jPOS ISO87APackager / ISO87BPackager layouts).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { CodecError, decode, encode, iso87Ascii, iso87Binary, iso87BinaryTpdu, peekMti } from '../../src/tcp-gateway/codec/index.js';
import type { CodecErrorCode, IsoDialect } from '../../src/tcp-gateway/codec/index.js';
import { ascii, fromHex, message, plainFields, toHex } from './helpers.js';

function codecError(t: ExecutionContext, run: () => unknown, code: CodecErrorCode, field: number | null, offset: number): void {
  const error = t.throws(run, { instanceOf: CodecError });
  t.is(error?.code, code, error?.message);
  t.is(error?.field, field, error?.message);
  t.is(error?.offset, offset, error?.message);
}

// 0800 sign-on: 7 = 1128101530, 11 = 000001, 70 = 001. Bitmap: bits 1 (secondary), 7, 11 ->
// 82 20 00..; secondary: bit 70 = 6th bit of its first byte -> 04 00 ..
const signOn = message('0800', { 7: '1128101530', 11: '000001', 70: '001' });
const signOnAsciiHex =
  '30383030' + // "0800"
  '38323230303030303030303030303030' + // "8220000000000000"
  '30343030303030303030303030303030' + // "0400000000000000"
  '31313238313031353330' + // 7 "1128101530"
  '303030303031' + // 11 "000001"
  '303031'; // 70 "001"
const signOnBinaryHex =
  '0800' + // MTI, BCD
  '8220000000000000' + '0400000000000000' + // bitmaps, binary
  '1128101530' + // 7, n10 BCD
  '000001' + // 11, n6 BCD
  '0001'; // 70, n3 BCD padded left with a 0 nibble

test('iso87-ascii: 0800 sign-on encodes to the hand-computed bytes and back', (t) => {
  t.is(toHex(encode(signOn, iso87Ascii)), signOnAsciiHex.toUpperCase());
  const decoded = decode(fromHex(signOnAsciiHex), iso87Ascii);
  t.is(decoded.mti, '0800');
  t.deepEqual(plainFields(decoded), { 7: '1128101530', 11: '000001', 70: '001' });
});

test('iso87-binary: 0800 sign-on encodes to the hand-computed bytes and back', (t) => {
  t.is(toHex(encode(signOn, iso87Binary)), signOnBinaryHex.toUpperCase());
  t.deepEqual(plainFields(decode(fromHex(signOnBinaryHex), iso87Binary)), { 7: '1128101530', 11: '000001', 70: '001' });
});

test('iso87-binary-tpdu: the 5-byte TPDU travels in front of the MTI untouched', (t) => {
  const tpdu = fromHex('6000030000');
  const bytes = encode(message('0800', { 7: '1128101530', 11: '000001', 70: '001' }, tpdu), iso87BinaryTpdu);
  t.is(toHex(bytes), ('6000030000' + signOnBinaryHex).toUpperCase());
  const decoded = decode(bytes, iso87BinaryTpdu);
  t.is(toHex(decoded.header ?? new Uint8Array()), '6000030000');
  t.is(decoded.mti, '0800');
  codecError(t, () => encode(signOn, iso87BinaryTpdu), 'BAD_HEADER', null, 0);
  codecError(t, () => encode(message('0800', {}, tpdu), iso87Binary), 'BAD_HEADER', null, 0);
});

// 0200 with every field shape. Bitmap for 2 3 4 22 28 35 41 48 49 52:
// 70 (2,3,4) 00 04 (22) 10 (28) 20 (35) 81 (41,48) 90 (49,52) 00.
const sale = message('0200', {
  2: '476173900101011',
  3: '200000',
  4: '000000001999',
  22: '051',
  28: 'C00000150',
  35: '4761739001010119=2212',
  41: 'TERM0001',
  48: 'ABC',
  49: '978',
  52: fromHex('0123456789ABCDEF'),
});

test('iso87-binary: a 0200 with every field shape matches the hand-computed bytes', (t) => {
  const expected =
    '0200' + '7000041020819000' +
    '15' + '4761739001010110' + // 2: LL BCD length 15 digits, data padded right with 0
    '200000' + // 3
    '000000001999' + // 4
    '0051' + // 22: n3 padded left
    '43' + '00000150' + // 28: sign 'C' as ASCII, then n8 BCD
    '21' + '4761739001010119D22120' + // 35: 21 digits, '=' as nibble D, padded right
    '5445524D30303031' + // 41: "TERM0001" ASCII
    '0003' + '414243' + // 48: LLL as 2 BCD bytes, ASCII data
    '393738' + // 49: "978"
    '0123456789ABCDEF'; // 52: 8 raw bytes
  const bytes = encode(sale, iso87Binary);
  t.is(toHex(bytes), expected);
  const decoded = plainFields(decode(bytes, iso87Binary));
  t.is(decoded[35], '4761739001010119D2212', "track 2 separator decodes as 'D'");
  t.is(decoded[2], '476173900101011');
  t.is(decoded[28], 'C00000150');
  t.is(decoded[52], '0123456789ABCDEF');
});

test('iso87-ascii: a 0200 with every field shape matches the hand-computed bytes', (t) => {
  const expected =
    '0200' + '7000041020819000' + '15476173900101011' + '200000' + '000000001999' + '051' + 'C00000150' +
    '21' + '4761739001010119=2212' + 'TERM0001' + '003ABC' + '978' + '0123456789ABCDEF';
  const bytes = encode(sale, iso87Ascii);
  t.is(Buffer.from(bytes).toString('latin1'), expected);
  t.deepEqual(plainFields(decode(bytes, iso87Ascii)), {
    2: '476173900101011', 3: '200000', 4: '000000001999', 22: '051', 28: 'C00000150',
    35: '4761739001010119=2212', 41: 'TERM0001', 48: 'ABC', 49: '978', 52: '0123456789ABCDEF',
  });
});

test('fixed fields are padded as their content says: numerics left with zeros, text right with spaces', (t) => {
  const bytes = encode(message('0800', { 11: '42', 41: 'T1' }, undefined), iso87Ascii);
  t.is(Buffer.from(bytes).toString('latin1'), '0800' + '0020000000800000' + '000042' + 'T1      ');
  const binary = encode(message('0800', { 11: '42', 41: 'T1' }), iso87Binary);
  t.is(toHex(binary), '0800' + '0020000000800000' + '000042' + '5431202020202020');
});

test('the secondary bitmap is present only when a field above 64 is', (t) => {
  const low = encode(message('0200', { 3: '000000', 64: fromHex('1122334455667788') }), iso87Binary);
  t.is(toHex(low.subarray(2, 10)), '2000000000000001');
  t.is(low.length, 2 + 8 + 3 + 8);
  const high = encode(message('0200', { 3: '000000', 128: fromHex('1122334455667788') }), iso87Binary);
  t.is(toHex(high.subarray(2, 18)), 'A000000000000000' + '0000000000000001');
  t.is(high.length, 2 + 16 + 3 + 8);
  t.deepEqual(plainFields(decode(high, iso87Binary)), { 3: '000000', 128: '1122334455667788' });
});

test('field 1 cannot be set by hand: the secondary bitmap is derived', (t) => {
  codecError(t, () => encode(message('0800', { 1: '0' }), iso87Ascii), 'UNKNOWN_FIELD', 1, 4);
});

test('max lengths are enforced on encode', (t) => {
  codecError(t, () => encode(message('0200', { 2: '12345678901234567890' }), iso87Ascii), 'FIELD_TOO_LONG', 2, 20);
  codecError(t, () => encode(message('0200', { 11: '1234567' }), iso87Ascii), 'FIELD_TOO_LONG', 11, 20);
  codecError(t, () => encode(message('0200', { 48: 'x'.repeat(1000) }), iso87Binary), 'FIELD_TOO_LONG', 48, 10);
  codecError(t, () => encode(message('0200', { 52: new Uint8Array(9) }), iso87Binary), 'FIELD_TOO_LONG', 52, 10);
  codecError(t, () => encode(message('0200', { 52: new Uint8Array(7) }), iso87Binary), 'BAD_LENGTH', 52, 10);
});

test('max lengths are enforced on decode, with the offset of the length prefix', (t) => {
  // 0200, bitmap with field 2 only, LL = 20 > 19.
  const bytes = ascii('0200' + '4000000000000000' + '20' + '12345678901234567890');
  codecError(t, () => decode(bytes, iso87Ascii), 'FIELD_TOO_LONG', 2, 20);
  codecError(t, () => decode(fromHex('0200' + '4000000000000000' + '20' + '12345678901234567890'), iso87Binary), 'FIELD_TOO_LONG', 2, 10);
});

test('truncation errors carry the field and the offset where the short piece starts', (t) => {
  const whole = fromHex(signOnAsciiHex);
  // MTI 0..4, bitmaps 4..36, field 7 36..46, field 11 46..52, field 70 52..55.
  codecError(t, () => decode(whole.subarray(0, 49), iso87Ascii), 'TRUNCATED', 11, 46);
  codecError(t, () => decode(whole.subarray(0, 54), iso87Ascii), 'TRUNCATED', 70, 52);
  codecError(t, () => decode(whole.subarray(0, 30), iso87Ascii), 'TRUNCATED', 1, 20);
  codecError(t, () => decode(whole.subarray(0, 10), iso87Ascii), 'TRUNCATED', 1, 4);
  codecError(t, () => decode(whole.subarray(0, 3), iso87Ascii), 'TRUNCATED', 0, 0);
  // A length prefix cut in half.
  codecError(t, () => decode(ascii('0200' + '4000000000000000' + '1'), iso87Ascii), 'TRUNCATED', 2, 20);
  codecError(t, () => decode(fromHex('0200' + '0000000000010000' + '00'), iso87Binary), 'TRUNCATED', 48, 10);
  codecError(t, () => decode(fromHex('600003'), iso87BinaryTpdu), 'TRUNCATED', null, 0);
});

test('bytes after the last announced field are rejected', (t) => {
  codecError(t, () => decode(fromHex(signOnAsciiHex + '30'), iso87Ascii), 'TRAILING_BYTES', null, 55);
});

test('bad bitmaps, MTIs, length prefixes and characters fail with their offset', (t) => {
  codecError(t, () => decode(ascii('0800' + '82200000000G0000'), iso87Ascii), 'BAD_BITMAP', 1, 15);
  codecError(t, () => decode(ascii('08A0' + '0000000000000000'), iso87Ascii), 'BAD_MTI', 0, 0);
  codecError(t, () => decode(fromHex('0A00' + '0000000000000000'), iso87Binary), 'BAD_MTI', 0, 0);
  codecError(t, () => decode(ascii('0200' + '4000000000000000' + '1A'), iso87Ascii), 'BAD_LENGTH', 2, 21);
  codecError(t, () => decode(fromHex('0200' + '4000000000000000' + '1A'), iso87Binary), 'BAD_LENGTH', 2, 10);
  codecError(t, () => decode(ascii('0200' + '0020000000000000' + '12A456'), iso87Ascii), 'BAD_ENCODING', 11, 22);
  codecError(t, () => decode(fromHex('0200' + '0020000000000000' + '12A456'), iso87Binary), 'BAD_ENCODING', 11, 11);
  codecError(t, () => encode(message('0200', { 11: '12A456' }), iso87Ascii), 'BAD_ENCODING', 11, 22);
  codecError(t, () => encode(message('0200', { 28: 'X00000001' }), iso87Ascii), 'BAD_ENCODING', 28, 20);
  codecError(t, () => encode(message('0200', { 52: '0123456789ABCDEF' }), iso87Ascii), 'BAD_VALUE', 52, 20);
  codecError(t, () => encode(message('0200', { 3: fromHex('00') }), iso87Ascii), 'BAD_VALUE', 3, 20);
  codecError(t, () => encode(message('02000', {}), iso87Ascii), 'BAD_MTI', 0, 0);
  codecError(t, () => decode(ascii('0200' + '0000000000001000' + '0123456789ABCDEG'), iso87Ascii), 'BAD_ENCODING', 52, 34);
});

const smallDialect: IsoDialect = {
  kind: 'iso8583',
  name: 'small',
  mtiEncoding: 'ascii',
  bitmapEncoding: 'binary',
  messageBytesMax: 64,
  fields: {
    3: { type: 'fixed', maxLength: 6, content: 'n', encoding: 'ascii' },
    44: { type: 'LLVAR', maxLength: 200, content: 'ans', encoding: 'ascii', prefix: 'binary' },
    45: { type: 'LLLLVAR', maxLength: 9999, content: 'ans', encoding: 'ascii', prefix: 'ascii' },
    46: { type: 'LLLVAR', maxLength: 300, content: 'ans', encoding: 'ebcdic', prefix: 'ebcdic' },
  },
};

test('fields the dialect does not define are rejected with the bitmap offset', (t) => {
  codecError(t, () => decode(fromHex('30323030' + '6000000000000000' + '303030303030'), smallDialect), 'UNKNOWN_FIELD', 2, 4);
  codecError(t, () => decode(fromHex('30323030' + '8000000000000000' + '0400000000000000'), smallDialect), 'UNKNOWN_FIELD', 70, 4);
  codecError(t, () => encode(message('0200', { 4: '1' }), smallDialect), 'UNKNOWN_FIELD', 4, 4);
});

test('binary and LLLL length prefixes, EBCDIC data and messageBytesMax', (t) => {
  const bytes = encode(message('0200', { 44: 'AB', 45: 'C', 46: 'Hi=' }), smallDialect);
  // Bitmap: 44, 45, 46 are bits 4, 5, 6 of the sixth byte (fields 41-48) -> 1C.
  t.is(toHex(bytes), '30323030' + '00000000001C0000' + '02' + '4142' + '30303031' + '43' + 'F0F0F3' + 'C8897E');
  t.deepEqual(plainFields(decode(bytes, smallDialect)), { 44: 'AB', 45: 'C', 46: 'Hi=' });
  codecError(t, () => encode(message('0200', { 44: 'x'.repeat(60) }), smallDialect), 'MESSAGE_TOO_LONG', 44, 13);
  // Reading is bounded as writing is: a well-formed 70-byte message is refused by a 64-byte dialect before any field is read.
  const long = encode(message('0200', { 44: 'x'.repeat(57) }), { ...smallDialect, messageBytesMax: 128 });
  t.is(long.length, 70);
  codecError(t, () => decode(long, smallDialect), 'MESSAGE_TOO_LONG', null, 64);
  t.deepEqual(plainFields(decode(long, { ...smallDialect, messageBytesMax: 70 })), { 44: 'x'.repeat(57) });
});

test('peekMti reads the MTI of a frame that is bad after it, and null when even the MTI is bad', (t) => {
  t.is(peekMti(ascii('0200' + 'garbage'), iso87Ascii), '0200');
  t.is(peekMti(fromHex('0420FF'), iso87Binary), '0420');
  t.is(peekMti(fromHex('6000030000' + '0800'), iso87BinaryTpdu), '0800');
  t.is(peekMti(ascii('02'), iso87Ascii), null);
  t.is(peekMti(ascii('02X0abc'), iso87Ascii), null);
  t.is(peekMti(fromHex('0F00'), iso87Binary), null);
});

test('decoded binary values are copies, not views of the caller buffer', (t) => {
  const bytes = encode(message('0200', { 52: fromHex('0123456789ABCDEF') }), iso87Binary);
  const decoded = decode(bytes, iso87Binary);
  bytes.fill(0);
  t.is(toHex(decoded.fields.get(52) as Uint8Array), '0123456789ABCDEF');
});

test('LL character fields and hex-character binary fields in both shipped dialects', (t) => {
  // Bitmap: 44 = 4th bit of the sixth byte (10), 64 = last bit of the eighth byte (01).
  const fields = { 44: 'AB', 64: fromHex('1122334455667788') };
  const asciiBytes = encode(message('0200', fields), iso87Ascii);
  t.is(Buffer.from(asciiBytes).toString('latin1'), '0200' + '0000000000100001' + '02AB' + '1122334455667788');
  const binaryBytes = encode(message('0200', fields), iso87Binary);
  t.is(toHex(binaryBytes), '0200' + '0000000000100001' + '02' + '4142' + '1122334455667788');
  t.deepEqual(plainFields(decode(asciiBytes, iso87Ascii)), { 44: 'AB', 64: '1122334455667788' });
  t.deepEqual(plainFields(decode(binaryBytes, iso87Binary)), { 44: 'AB', 64: '1122334455667788' });
});

test('an EBCDIC MTI is written as F0-F9 digits', (t) => {
  const ebcdic: IsoDialect = { ...smallDialect, name: 'small-ebcdic', mtiEncoding: 'ebcdic' };
  const bytes = encode(message('0200', { 3: '000001' }), ebcdic);
  t.is(toHex(bytes), 'F0F2F0F0' + '2000000000000000' + '303030303031');
  t.is(decode(bytes, ebcdic).mti, '0200');
  t.is(peekMti(bytes, ebcdic), '0200');
});
