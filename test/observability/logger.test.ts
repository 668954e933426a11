import test from 'ava';
import { Writable } from 'node:stream';
import { createLogger, maskPansInText } from '../../src/observability/logger.js';

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
