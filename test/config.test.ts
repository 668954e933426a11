/** Configuration is checked once at start: every value that could not work is refused by name. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { tempDir } from './helpers/tmp.js';

test('integers are decimal digits: an empty, blank, boolean or hex port is refused, not read as 0, 1 or 8080', (t) => {
  for (const text of ['', ' ', 'true', '0x1F90', '1e3', '-1', '8080 ']) {
    t.throws(() => loadConfig({ env: { TILLGATE_GRPC_PORT: text } }), { instanceOf: ConfigError, message: /TILLGATE_GRPC_PORT: expected a non-negative integer/ }, JSON.stringify(text));
  }
  t.is(loadConfig({ env: { TILLGATE_GRPC_PORT: '8080' } }).grpc.port, 8080);
  const dir = tempDir(t);
  const file = join(dir, 'tillgate.json');
  writeFileSync(file, JSON.stringify({ grpc: { port: null } }));
  t.throws(() => loadConfig({ file }), { instanceOf: ConfigError, message: /grpc.port: expected a non-negative integer, got null/ });
  writeFileSync(file, JSON.stringify({ grpc: { port: true } }));
  t.throws(() => loadConfig({ file }), { instanceOf: ConfigError, message: /grpc.port: expected a non-negative integer, got true/ });
});

test('settings that could not work are refused at start, each by name', (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ 'metrics.port': 70_000 }, /metrics.port 70000 is not a TCP port/],
    [{ 'grpc.concurrentCallsMax': 0 }, /grpc.concurrentCallsMax must be at least 1/],
    [{ 'grpc.keepaliveTimeoutMs': 0 }, /grpc.keepaliveTimeoutMs must be at least 1000/],
    [{ 'pool.expirySweepIntervalMs': 0 }, /pool.expirySweepIntervalMs must be at least 10/],
    [{ 'grpc.clientCaFile': '/etc/ca.pem' }, /grpc.clientCaFile without grpc.requireClientCert authenticates no client/],
  ];
  for (const [flags, message] of cases) t.throws(() => loadConfig({ flags }), { instanceOf: ConfigError, message }, JSON.stringify(flags));
  t.like(loadConfig({ flags: { 'metrics.port': 9464, 'grpc.concurrentCallsMax': 1, 'grpc.clientCaFile': '/etc/ca.pem', 'grpc.requireClientCert': true } }), { metrics: { port: 9464 }, grpc: { concurrentCallsMax: 1 } });
});
