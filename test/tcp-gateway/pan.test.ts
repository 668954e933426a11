// Card data never reaches a log: PANs masked first 6 / last 4, track, PIN and ICC data redacted.
import test from 'ava';
import { iso87Ascii, maskPan, parseDialectJson, redact } from '../../src/tcp-gateway/codec/index.js';
import { fromHex, message } from './helpers.js';

test('maskPan keeps the first 6 and last 4 digits', (t) => {
  t.is(maskPan('4761739001010119'), '476173******0119');
  t.is(maskPan('4761739001010119123'), '476173*********9123');
  t.is(maskPan('4761739001011'), '476173***1011');
});

test('maskPan shows only the last 4 of short values and nothing of tiny ones', (t) => {
  t.is(maskPan('476173900101'), '********0101');
  t.is(maskPan('12345'), '*2345');
  t.is(maskPan('1234'), '****');
  t.is(maskPan(''), '');
});

test('redact masks field 2, hides 35 36 45 52 55 and dialect-sensitive fields, keeps the rest', (t) => {
  const dialect = parseDialectJson(JSON.stringify({
    extends: 'iso87-ascii',
    name: 'with-sensitive-62',
    fields: { 62: { type: 'LLLVAR', maxLength: 999, content: 'ans', encoding: 'ascii', prefix: 'ascii', sensitive: true } },
  }), 'inline');
  const decoded = message('0200', {
    2: '4761739001010119',
    4: '000000001999',
    35: '4761739001010119=2212',
    36: 'track3',
    45: 'B4761739001010119^DOE/JOHN^2212',
    48: 'LI100',
    52: fromHex('0123456789ABCDEF'),
    55: fromHex('9F0206000000012345'),
    62: 'secret',
    64: fromHex('A1B2C3D4E5F60708'),
  }, fromHex('6000030000'));
  t.deepEqual(redact(decoded, dialect), {
    mti: '0200',
    header: '6000030000',
    fields: {
      2: '476173******0119',
      4: '000000001999',
      35: '[REDACTED len=21]',
      36: '[REDACTED len=6]',
      45: '[REDACTED len=31]',
      48: 'LI100',
      52: '[REDACTED len=8]',
      55: '[REDACTED len=9]',
      62: '[REDACTED len=6]',
      64: 'A1B2C3D4E5F60708',
    },
  });
  t.is(redact(decoded, iso87Ascii).fields[62], 'secret');
  t.is(decoded.fields.get(2), '4761739001010119', 'the original message is untouched');
});

test('a binary field 2 (never expected) is redacted rather than shown', (t) => {
  t.deepEqual(redact(message('0100', { 2: fromHex('4761739001') })), { mti: '0100', fields: { 2: '[REDACTED len=5]' } });
});

test('the extended PAN (field 34) is masked like field 2', (t) => {
  t.deepEqual(redact(message('0100', { 34: '4111111111111111', 11: '000001' })).fields, { 11: '000001', 34: '411111******1111' });
  t.deepEqual(redact(message('0100', { 34: fromHex('4111') })).fields, { 34: '[REDACTED len=2]' });
});
