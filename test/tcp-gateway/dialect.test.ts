// Dialect tables are data: the shipped ones hold the 1987 facts, JSON ones are validated with
// precise messages, and a complete table round-trips through a JSON file.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DialectError, decode, encode, fixedDialectProblems, fixedV1, getDialect, iso87Ascii, iso87Binary, loadDialectFile,
  parseDialectJson, shippedDialectNames, validateIsoDialect,
} from '../../src/tcp-gateway/codec/index.js';
import { message, plainFields, toHex } from './helpers.js';

test('the registry ships the named dialects', (t) => {
  t.deepEqual([...shippedDialectNames], ['iso87-ascii', 'iso87-binary', 'iso87-binary-tpdu', 'fixed-v1']);
  t.is(getDialect('iso87-ascii'), iso87Ascii);
  t.is(getDialect('fixed-v1'), fixedV1);
  t.is(getDialect('nope'), undefined);
  t.is(getDialect('toString'), undefined);
});

test('iso87 tables define fields 2..128 with the ISO 8583:1987 shapes', (t) => {
  for (const dialect of [iso87Ascii, iso87Binary]) {
    t.deepEqual(Object.keys(dialect.fields).map(Number), Array.from({ length: 127 }, (_, i) => i + 2));
    t.notThrows(() => validateIsoDialect(dialect, dialect.name));
  }
  t.deepEqual(iso87Ascii.fields[2], { name: 'primary account number', type: 'LLVAR', maxLength: 19, content: 'n', encoding: 'ascii', prefix: 'ascii' });
  t.deepEqual(iso87Ascii.fields[52], { name: 'PIN data', type: 'fixed', maxLength: 8, content: 'b', encoding: 'hex-ascii', lengthUnit: 'bytes', sensitive: true });
  t.like(iso87Ascii.fields[28], { type: 'fixed', maxLength: 9, content: 'xn', encoding: 'ascii' });
  t.like(iso87Ascii.fields[36], { type: 'LLLVAR', maxLength: 104, sensitive: true });
  t.like(iso87Ascii.fields[90], { type: 'fixed', maxLength: 42, content: 'n' });
  t.like(iso87Ascii.fields[93], { type: 'fixed', maxLength: 6 });
  t.like(iso87Ascii.fields[96], { type: 'fixed', maxLength: 16, content: 'b' });
  t.like(iso87Binary.fields[2], { type: 'LLVAR', encoding: 'bcd', prefix: 'bcd', lengthUnit: 'digits', bcdPadding: 'right' });
  t.like(iso87Binary.fields[3], { type: 'fixed', encoding: 'bcd', bcdPadding: 'left' });
  t.like(iso87Binary.fields[48], { type: 'LLLVAR', maxLength: 999, encoding: 'ascii', prefix: 'bcd' });
  t.like(iso87Binary.fields[64], { type: 'fixed', maxLength: 8, encoding: 'binary' });
  t.is(iso87Binary.mtiEncoding, 'bcd');
  t.is(iso87Binary.bitmapEncoding, 'binary');
  t.is(iso87Ascii.bitmapEncoding, 'hex-ascii');
});

test('fixed-v1 layouts tile their records exactly', (t) => {
  t.deepEqual(fixedDialectProblems(fixedV1), []);
  t.deepEqual(fixedDialectProblems({ ...fixedV1, records: { X: { recordType: 'X', description: '', lengthChars: 5, columns: [
    { name: 'a', start: 1, length: 2, type: 'text', description: '' },
    { name: 'b', start: 4, length: 1, type: 'text', description: '' },
  ] } } }), ['X.b starts at 4, expected 3', 'X columns end at 4, record is 5']);
});

test('the validator lists every problem with its path', (t) => {
  const error = t.throws(() => validateIsoDialect({
    kind: 'iso8583',
    name: 'bad',
    mtiEncoding: 'utf8',
    bitmapEncoding: 'hex-ascii',
    colour: 'red',
    fields: {
      1: { type: 'fixed', maxLength: 8, content: 'b', encoding: 'binary' },
      2: { type: 'LLVAR', maxLength: 19, content: 'n', encoding: 'ascii' },
      3: { type: 'fixed', maxLength: 6, content: 'n', encoding: 'binary' },
      4: { type: 'LLVAR', maxLength: 300, content: 'ans', encoding: 'ascii', prefix: 'binary' },
      5: { type: 'LLLVAR', maxLength: 1000, content: 'ans', encoding: 'ascii', prefix: 'bcd' },
      6: { type: 'fixed', maxLength: 0, content: 'n', encoding: 'ascii', lenght: 3 },
      7: { type: 'fixed', maxLength: 6, content: 'ans', encoding: 'bcd' },
      8: { type: 'LLVAR', maxLength: 9, content: 'xn', encoding: 'bcd', prefix: 'bcd' },
    },
  }, 'bad.json'), { instanceOf: DialectError });
  t.deepEqual(error?.problems, [
    'dialect.colour: unknown property (known: kind, name, description, mtiEncoding, bitmapEncoding, headerBytes, ebcdicCodePage, messageBytesMax, fields)',
    'mtiEncoding: "utf8" is not one of ascii | ebcdic | bcd',
    'fields.1: field numbers are 2..128 (1 is the secondary bitmap)',
    'fields.2.prefix: required for LLVAR fields',
    'fields.3: content n cannot use encoding binary (content b needs binary or hex-ascii; only content b may use them)',
    'fields.4.maxLength: 300 exceeds what a binary LLVAR prefix can carry (255)',
    'fields.5.maxLength: 1000 exceeds what a bcd LLLVAR prefix can carry (999)',
    'fields.6.lenght: unknown property (known: name, type, maxLength, content, encoding, prefix, lengthUnit, padding, bcdPadding, sensitive)',
    'fields.6.maxLength: 0 is not an integer in 1..9999',
    'fields.7: encoding bcd holds only content n, z or xn, not ans',
    'fields.8: content xn in bcd is supported for fixed fields only',
  ]);
  t.regex(error?.message ?? '', /^invalid dialect bad\.json: /);
});

test('parseDialectJson reports bad JSON and unknown bases', (t) => {
  t.throws(() => parseDialectJson('{', 'x.json'), { instanceOf: DialectError, message: /x\.json: not JSON/ });
  t.throws(() => parseDialectJson('[]', 'x.json'), { message: 'invalid dialect x.json: expected a JSON object' });
  t.throws(() => parseDialectJson('{"extends":"fixed-v1","name":"x"}', 'x.json'), { message: /extends: "fixed-v1" is not a shipped ISO dialect/ });
});

test('extends replaces and removes fields of a shipped base', (t) => {
  const dialect = parseDialectJson(JSON.stringify({
    extends: 'iso87-ascii',
    name: 'vendor-x',
    bitmapEncoding: 'binary',
    fields: { 11: { type: 'fixed', maxLength: 12, content: 'n', encoding: 'ascii' }, 70: null },
  }), 'vendor-x.json');
  t.is(dialect.name, 'vendor-x');
  t.is(dialect.fields[70], undefined);
  const bytes = encode(message('0800', { 11: '7' }), dialect);
  t.is(toHex(bytes), '30383030' + '0020000000000000' + '303030303030303030303037');
  t.is(Object.isFrozen(dialect), true);
});

test('a complete table written to a JSON file loads back and decodes the same', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'tillgate-dialect-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'iso87-binary-copy.json');
  await writeFile(path, JSON.stringify({ ...iso87Binary, name: 'iso87-binary-copy' }, null, 2));
  const loaded = await loadDialectFile(path);
  const original = message('0200', { 2: '4761739001010119', 4: '000000001999', 35: '4761739001010119D2212', 48: 'LI100' });
  const bytes = encode(original, iso87Binary);
  t.deepEqual(toHex(encode(original, loaded)), toHex(bytes));
  t.deepEqual(plainFields(decode(bytes, loaded)), plainFields(decode(bytes, iso87Binary)));
});
