import { randomUUID } from 'node:crypto';
import test from 'ava';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { createLogger, maskPansInText } from '../../src/observability/logger.js';
import { luhnValid } from '../../src/security/luhn.js';

test('possible PANs in free text are masked to first 6 / last 4, with or without separators', (t) => {
  t.is(maskPansInText('card 4111111111111111 declined'), 'card 411111******1111 declined');
  t.is(maskPansInText('card 4111-1111-1111-1111 declined'), 'card 411111******1111 declined');
  t.is(maskPansInText('card 4111 1111 1111 1111'), 'card 411111******1111');
  t.is(maskPansInText('store 42 sold 12 units'), 'store 42 sold 12 units');
  // Glued to letters, before a track-2 separator, inside a longer run of digits (a raw frame).
  t.is(maskPansInText('PAN4111111111111111'), 'PAN411111******1111');
  t.is(maskPansInText('4111111111111111D25121010000'), '411111******1111D25121010000');
  t.is(maskPansInText('0200164111111111111111200000'), `020016${'*'.repeat(18)}0000`);
  // Digits no card number could be (no 13 to 19 of them pass the Luhn check) are kept: a UUID's
  // tail, a timestamp in milliseconds.
  t.is(maskPansInText('id 123e4567-e89b-12d3-a456-426614174000'), 'id 123e4567-e89b-12d3-a456-426614174000');
  t.is(maskPansInText('at 1764342573000'), 'at 1764342573000');
});

test('a very long string in a log line is masked without exhausting the stack', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', sink);
  logger.info({ blob: `${'x'.repeat(20_000_000)} 4111111111111111` }, 'big');
  t.regex(lines.join(''), /x 411111\*{6}1111"/);
});

test('a PAN anywhere in a line is masked: nested fields, a client-chosen request id, an error message and stack', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('debug', sink);
  const error = new Error('refund to 4111111111111111 failed');
  logger.debug({ requestId: '4111111111111111=25121010000', call: { note: 'card PAN4111111111111111' }, err: error, atMs: 1_764_342_573_000 }, 'call refused');
  const line = lines.join('');
  t.false(/4111111111111111/.test(line), line);
  const parsed = JSON.parse(line) as { requestId: string; atMs: number; err: { stack: string } };
  t.is(parsed.requestId, '411111******1111=25121010000');
  // A number no card number could be is left alone, so the line stays valid JSON with its values.
  t.is(parsed.atMs, 1_764_342_573_000);
  t.regex(parsed.err.stack, /refund to 411111\*{6}1111 failed/);
});

test('log lines never carry card fields or a clear PAN', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', sink);
  logger.info({ pan: '4111111111111111', request: { track2: '4111111111111111=2512', cvv: '123' }, fields: { 2: '4111111111111111', 52: 'ABCDEF0123456789' } }, 'refund to 4111-1111-1111-1111');
  const line = lines.join('');
  t.false(/4111111111111111|4111-1111-1111-1111|=2512|ABCDEF0123456789/.test(line), line);
  t.regex(line, /411111\*{6}1111/);
  t.regex(line, /\[REDACTED\]/);
});

test('a PAN sent as a JSON number is masked and the line stays valid JSON; other numbers stay numbers', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', sink);
  // 6011000990139424123 is a 19-digit card number; as a double it prints rounded (…424000), so the
  // Luhn check no longer finds it: its leading digits must still not reach the log.
  logger.info({ request: { card: 4111111111111111, amounts: [12, 4012888888881881], big: Number('6011000990139424123'), price: 4111111111111111.5 }, atMs: 1_764_342_573_000, seq: 41 }, 'refund');
  const line = lines.join('');
  t.false(/4111111111111111|4012888888881881|601100099013942/.test(line), line);
  const parsed = JSON.parse(line) as { request: { card: string; amounts: [number, string]; big: string; price: string }; atMs: number; seq: number };
  t.is(parsed.request.card, '411111******1111');
  t.deepEqual(parsed.request.amounts, [12, '401288******1881']);
  t.is(parsed.request.big, `601100${'*'.repeat(9)}4000`);
  t.is(parsed.request.price, '411111******1111');
  t.is(parsed.atMs, 1_764_342_573_000);
  t.is(parsed.seq, 41);
});

test('a PAN split by any short run of separators is masked: dots, Unicode spaces, double spaces, underscores, slashes, commas, dashes', (t) => {
  const separators = ['.', '\u00a0', '\u2007', '\u202f', '\u3000', '  ', '_', '/', ',', ' - ', '\t', '\u2013', '\u200b'];
  for (const separator of separators) {
    const text = `card ${['4111', '1111', '1111', '1111'].join(separator)} declined`;
    t.is(maskPansInText(text), 'card 411111******1111 declined', JSON.stringify(separator));
  }
  // Amex grouping (4-6-5), and one separator between every digit.
  t.is(maskPansInText('amex 3782.822463.10005'), 'amex 378282*****0005');
  t.is(maskPansInText([...'4111111111111111'].join('.')), '411111******1111');
});

test('ordinary text with separators stays as it is: timestamps, dates, prices, UUIDs, versions, long separator runs', (t) => {
  const ordinary = [
    'at 2025-11-28T14:29:33.120Z', 'on 28/11/2025 at 14:29', 'refund 12.50 of 1,234.56 USD', 'price 4,111.11',
    'id 123e4567-e89b-12d3-a456-426614174000', 'version 20.19.43', 'store 42 sold 12 units on 2025-11-28',
    // Four groups, but too far apart (a run of more than three separators) to be one number.
    '4111    1111    1111    1111',
  ];
  for (const text of ordinary) t.is(maskPansInText(text), text);
});

test('a PAN with tabs or control characters between its digits is masked in the written line, where JSON escapes them', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', sink);
  logger.info({ note: '4111\t1111\t1111\t1111', other: '4111\u001f1111\u001f1111\u001f1111', nbsp: '4111\u00a01111\u00a01111\u00a01111' }, 'refund to 4111.1111.1111.1111');
  const line = lines.join('');
  const parsed = JSON.parse(line) as { note: string; other: string; nbsp: string; msg: string };
  t.deepEqual([parsed.note, parsed.other, parsed.nbsp, parsed.msg], ['411111******1111', '411111******1111', '411111******1111', 'refund to 411111******1111']);
});

test('20 MB runs of digits and separators are masked without exhausting the regex stack or backtracking', (t) => {
  // One run of four-digit groups: a pattern that repeats a group per digit overflows on it.
  const groups = maskPansInText(`card ${'4111 '.repeat(4_000_000)}end`);
  t.true(groups.startsWith('card 411141****'));
  t.true(groups.endsWith('*4111 end'));
  // Twelve digits split by dots, then a character that ends the run, over and over: each run is
  // as long as a run can be without being looked at, and none is a card number.
  const near = '1.2.3.4.5.6.7.8.9.0.1.2:'.repeat(850_000);
  t.is(maskPansInText(near), near);
});

test('a run of digits is masked exactly when 13 to 19 digits in a row of it pass the Luhn check', (t) => {
  const holdsPanByEveryWindow = (digits: string): boolean => {
    for (let length = 13; length <= 19; length += 1) {
      for (let start = 0; start + length <= digits.length; start += 1) if (luhnValid(digits.slice(start, start + length))) return true;
    }
    return false;
  };
  fc.assert(fc.property(fc.stringMatching(/^[0-9]{1,40}$/), (digits) => (maskPansInText(`x${digits}y`) !== `x${digits}y`) === holdsPanByEveryWindow(digits)), { numRuns: 5000 });
  t.pass();
});

test('a log line with millions of escaped characters in one string is masked without exhausting the stack', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', sink);
  logger.info({ blob: `${'\t'.repeat(10_000_000)} 4111111111111111`, atMs: 1_764_342_573_000 }, 'escapes');
  const line = lines.join('');
  t.false(line.includes('4111111111111111'));
  const parsed = JSON.parse(line) as { blob: string; atMs: number };
  t.true(parsed.blob.endsWith(' 411111******1111'));
  t.is(parsed.atMs, 1_764_342_573_000);
});

test('times in ms stay numbers in a log line, including the tenth of them that pass the Luhn check', (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', sink);
  // 1764342573003 passes the Luhn check; a 13-digit card number is a Visa one and begins with 4.
  logger.info({ soldAtMs: 1_764_342_573_003, card: 4_222_222_222_222 }, 'sale');
  const parsed = JSON.parse(lines.join('')) as { soldAtMs: unknown; card: unknown };
  t.is(parsed.soldAtMs, 1_764_342_573_003);
  t.is(parsed.card, '422222***2222');
});

test('UUIDs are ids, not numbers: their digit groups are never joined into a masked card number', (t) => {
  // The all-digit groups of this one, joined across the dashes, pass the Luhn check.
  t.is(maskPansInText('request d2988950-1234-5098-d96a-4bb0be15c71b'), 'request d2988950-1234-5098-d96a-4bb0be15c71b');
  for (let index = 0; index < 20_000; index += 1) {
    const id = randomUUID();
    t.is(maskPansInText(id), id);
  }
  t.is(maskPansInText('card 4111 1111 1111 1111 for d2988950-1234-5098-d96a-4bb0be15c71b'), 'card 411111******1111 for d2988950-1234-5098-d96a-4bb0be15c71b');
});
