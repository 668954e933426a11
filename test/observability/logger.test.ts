import test from 'ava';
import { Writable } from 'node:stream';
import { createLogger, maskPansInText } from '../../src/observability/logger.js';

test('possible PANs in free text are masked to first 6 / last 4, with or without separators', (t) => {
  t.is(maskPansInText('card 4111111111111111 declined'), 'card 411111******1111 declined');
  t.is(maskPansInText('card 4111-1111-1111-1111 declined'), 'card 411111******1111 declined');
  t.is(maskPansInText('card 4111 1111 1111 1111'), 'card 411111******1111');
  t.is(maskPansInText('store 42 sold 12 units'), 'store 42 sold 12 units');
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
