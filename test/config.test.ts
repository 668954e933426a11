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
    [{ 'grpc.keepaliveTimeoutMs': 0 }, /grpc.keepaliveTimeoutMs must be from 1000 to 2147483647 ms/],
    [{ 'pool.expirySweepIntervalMs': 0 }, /pool.expirySweepIntervalMs must be from 10 to 2147483647 ms/],
    [{ 'grpc.clientCaFile': '/etc/ca.pem' }, /grpc.clientCaFile without grpc.requireClientCert authenticates no client/],
  ];
  for (const [flags, message] of cases) t.throws(() => loadConfig({ flags }), { instanceOf: ConfigError, message }, JSON.stringify(flags));
  t.like(loadConfig({ flags: { 'metrics.port': 9464, 'grpc.concurrentCallsMax': 1, 'grpc.clientCaFile': '/etc/ca.pem', 'grpc.requireClientCert': true } }), { metrics: { port: 9464 }, grpc: { concurrentCallsMax: 1 } });
});

test('every timing setting is bounded: past 2^31-1 ms a Node timer fires at once, so such values (and 0 where it means "at once") are refused by name', (t) => {
  const message = (path: string, msMin: number) => new RegExp(`^${path.replace('.', '\\.')} must be from ${msMin} to 2147483647 ms .*, got `);
  t.throws(() => loadConfig({ env: { TILLGATE_GRPC_DEFAULT_DEADLINE_MS: '3000000000' } }), { instanceOf: ConfigError, message: message('grpc.defaultDeadlineMs', 1) });
  t.throws(() => loadConfig({ env: { TILLGATE_GRPC_DEFAULT_DEADLINE_MS: '0' } }), { instanceOf: ConfigError, message: message('grpc.defaultDeadlineMs', 1) });
  const timings: [string, number][] = [
    ['grpc.keepaliveTimeMs', 10_000], ['grpc.keepaliveTimeoutMs', 1000], ['grpc.defaultDeadlineMs', 1],
    ['shutdownGraceMs', 1], ['shutdownNotServingMs', 0], ['pool.expirySweepIntervalMs', 10],
  ];
  for (const [path, msMin] of timings) {
    t.throws(() => loadConfig({ flags: { [path]: 2 ** 31 } }), { instanceOf: ConfigError, message: message(path, msMin) }, `${path} 2^31`);
    if (msMin > 0) t.throws(() => loadConfig({ flags: { [path]: msMin - 1 } }), { instanceOf: ConfigError, message: message(path, msMin) }, `${path} ${msMin - 1}`);
    // Both ends of the range are accepted.
    for (const value of [msMin, 2 ** 31 - 1]) {
      const config = loadConfig({ flags: { [path]: value } }) as unknown as Record<string, Record<string, unknown>>;
      const [head = '', leaf] = path.split('.');
      t.is(leaf === undefined ? config[head] : config[head]?.[leaf], value, `${path} ${value}`);
    }
  }
});

test('gRPC resource bounds default to 1 MiB messages, 100 streams and 32 MB session memory per connection, and are checked', (t) => {
  t.like(loadConfig({}).grpc, { messageBytesMax: 1024 * 1024, concurrentStreamsMax: 100, sessionMemoryMbMax: 32 });
  t.like(loadConfig({ env: { TILLGATE_GRPC_CONCURRENT_STREAMS_MAX: '8', TILLGATE_GRPC_SESSION_MEMORY_MB_MAX: '64' } }).grpc, { concurrentStreamsMax: 8, sessionMemoryMbMax: 64 });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ 'grpc.concurrentStreamsMax': 0 }, /grpc.concurrentStreamsMax must be from 1 to 1000/],
    [{ 'grpc.concurrentStreamsMax': 1001 }, /grpc.concurrentStreamsMax must be from 1 to 1000/],
    [{ 'grpc.sessionMemoryMbMax': 4097 }, /grpc.sessionMemoryMbMax must be from 2 \(twice grpc.messageBytesMax\) to 4096 MB/],
    [{ 'grpc.messageBytesMax': 16 * 1024 * 1024, 'grpc.sessionMemoryMbMax': 31 }, /grpc.sessionMemoryMbMax must be from 32 \(twice grpc.messageBytesMax\)/],
  ];
  for (const [flags, message] of cases) t.throws(() => loadConfig({ flags }), { instanceOf: ConfigError, message }, JSON.stringify(flags));
});
