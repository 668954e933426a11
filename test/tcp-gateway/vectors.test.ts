// Every message of test/fixtures/iso8583-vectors (bytes produced by other ISO 8583 libraries)
// decodes to exactly its listed fields with a dialect loaded from a JSON file, and re-encodes to
// the same bytes.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decode, encode, loadDialectFile } from '../../src/tcp-gateway/codec/index.js';
import type { IsoDialect } from '../../src/tcp-gateway/codec/index.js';
import { fromHex, message, plainFields, toHex } from './helpers.js';

interface Vector {
  id: string;
  title: string;
  spec: string;
  framing: string;
  prefix_hex: string;
  body_hex: string;
  fields: Record<string, string>;
  length_prefixes?: Record<string, string>;
}

const vectorsUrl = new URL('../fixtures/iso8583-vectors/vectors.json', import.meta.url);
const dialectFiles: Record<string, string> = {
  'SPEC-MOOV-87ASCII': 'moov-87ascii.json',
  'SPEC-PYISO-default_ascii': 'pyiso-default-ascii.json',
  'SPEC-PYISO-default': 'pyiso-default.json',
  'SPEC-PYISO-EMV55': 'pyiso-emv55.json',
  'SPEC-PYISO-BCDPAN': 'pyiso-bcdpan.json',
};
const vectors = JSON.parse(await readFile(vectorsUrl, 'utf8')) as Vector[];

async function dialectFor(spec: string): Promise<IsoDialect> {
  const file = dialectFiles[spec];
  if (file === undefined) throw new Error(`no dialect for ${spec}`);
  return loadDialectFile(fileURLToPath(new URL(`../fixtures/dialects/${file}`, import.meta.url)));
}

test('the vectors file holds the 15 expected messages', (t) => {
  t.is(vectors.length, 15);
  t.deepEqual(vectors.map((v) => v.id), ['V08', 'V09', 'V10', 'V11', 'V12', 'V13', 'V14', 'V15', 'V16', 'V17', 'V18', 'V19', 'V20', 'V21', 'V22']);
});

/** The bitmap(s) as the vector writes them: hex characters as on the wire, or raw bytes in hex. */
function wireBitmaps(body: Uint8Array, dialect: IsoDialect): { p: string; secondary?: string } {
  const at = dialect.mtiEncoding === 'bcd' ? 2 : 4;
  const hexChars = dialect.bitmapEncoding === 'hex-ascii';
  const size = hexChars ? 16 : 8;
  const read = (from: number) => (hexChars ? Buffer.from(body.subarray(from, from + size)).toString('latin1') : toHex(body.subarray(from, from + size)));
  const p = read(at);
  return (parseInt(p.slice(0, 1), 16) & 8) !== 0 ? { p, secondary: read(at + size) } : { p };
}

for (const vector of vectors) {
  test(`${vector.id} (${vector.spec}) decodes to exactly its listed fields and re-encodes to the same bytes`, async (t) => {
    t.is(vector.framing, 'none');
    const dialect = await dialectFor(vector.spec);
    const body = fromHex(vector.prefix_hex + vector.body_hex);
    const decoded = decode(body, dialect);
    const { t: mti, p, 1: secondary, ...expected } = vector.fields;
    t.is(decoded.mti, mti ?? '(missing t)');
    t.deepEqual(plainFields(decoded), expected);
    const bitmaps = wireBitmaps(body, dialect);
    t.is(bitmaps.p, p ?? '(missing p)');
    t.is(bitmaps.secondary, secondary);
    t.is(toHex(encode(decoded, dialect)), vector.body_hex.toUpperCase());
  });

  if (vector.length_prefixes !== undefined && Object.keys(vector.length_prefixes).length > 0) {
    test(`${vector.id} length prefixes are written as the vector lists them`, async (t) => {
      const dialect = await dialectFor(vector.spec);
      const decoded = decode(fromHex(vector.body_hex), dialect);
      for (const [field, prefixHex] of Object.entries(vector.length_prefixes ?? {})) {
        const value = decoded.fields.get(Number(field));
        if (value === undefined) return t.fail(`field ${field} missing`);
        // A message with only this field: its data starts right after MTI and bitmap(s).
        const alone = encode(message(vector.fields.t ?? '0000', { [field]: value }), dialect);
        const bitmapBytes = (dialect.bitmapEncoding === 'hex-ascii' ? 16 : 8) * (Number(field) > 64 ? 2 : 1);
        const at = (dialect.mtiEncoding === 'bcd' ? 2 : 4) + bitmapBytes;
        t.is(toHex(alone.subarray(at, at + prefixHex.length / 2)), prefixHex.toUpperCase(), `field ${field}`);
      }
      return undefined;
    });
  }
}
