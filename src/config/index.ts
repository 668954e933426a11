/**
 * Configuration: defaults < file (JSON) < environment (TILLGATE_*) < flags, parsed and validated
 * once at start into a frozen object. Nothing else in the process reads process.env.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { limits } from '../ledger/limits.js';

export interface Config {
  dataDir: string;
  shards: number | undefined;
  /** 'pool': one writer thread per shard (production); 'inline': the ledger on the main thread (benchmarks). */
  engine: 'pool' | 'inline';
  grpc: {
    host: string;
    port: number;
    /** Plaintext; allowed only on a loopback host. */
    insecure: boolean;
    certFile: string | undefined;
    keyFile: string | undefined;
    /** CA for client certificates; with requireClientCert, mutual TLS. */
    clientCaFile: string | undefined;
    requireClientCert: boolean;
    messageBytesMax: number;
    concurrentCallsMax: number;
    /** HTTP/2 streams one connection may hold open at once; grpc-js buffers each one's message. */
    concurrentStreamsMax: number;
    /** HTTP/2 session memory per connection (MB, as Node counts it); past it new streams are refused. */
    sessionMemoryMbMax: number;
    keepaliveTimeMs: number;
    keepaliveTimeoutMs: number;
    keepalivePermitWithoutCalls: boolean;
    /** Deadline applied to a call that arrives without one. */
    defaultDeadlineMs: number;
  };
  /** The legacy register gateway: off unless a port is set. TLS uses the gRPC certificate unless tls is false. */
  tcp: {
    host: string; port: number | undefined; dialect: string; tls: boolean; framing: 'binary2' | 'bcd2' | 'ascii4' | 'lines' | undefined;
    /** CA for register client certificates; with requireClientCert, mutual TLS on the register port. */
    clientCaFile: string | undefined;
    requireClientCert: boolean;
  };
  shutdownGraceMs: number;
  /** How long health reports NOT_SERVING before the server stops taking calls (load balancers notice). */
  shutdownNotServingMs: number;
  pool: { queueCommandsMax: number; batchCommandsMax: number; expirySweepIntervalMs: number };
  metrics: { host: string; port: number | undefined };
  controlSocket: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

/** Every setting: its dotted path, its environment name, and how to read it. */
const settings: { path: string; env: string; kind: 'string' | 'int' | 'bool' | 'level' | 'engine' | 'framing' }[] = [
  { path: 'dataDir', env: 'TILLGATE_DATA_DIR', kind: 'string' },
  { path: 'shards', env: 'TILLGATE_SHARDS', kind: 'int' },
  { path: 'engine', env: 'TILLGATE_ENGINE', kind: 'engine' },
  { path: 'grpc.host', env: 'TILLGATE_GRPC_HOST', kind: 'string' },
  { path: 'grpc.port', env: 'TILLGATE_GRPC_PORT', kind: 'int' },
  { path: 'grpc.insecure', env: 'TILLGATE_INSECURE', kind: 'bool' },
  { path: 'grpc.certFile', env: 'TILLGATE_TLS_CERT', kind: 'string' },
  { path: 'grpc.keyFile', env: 'TILLGATE_TLS_KEY', kind: 'string' },
  { path: 'grpc.clientCaFile', env: 'TILLGATE_TLS_CLIENT_CA', kind: 'string' },
  { path: 'grpc.requireClientCert', env: 'TILLGATE_TLS_REQUIRE_CLIENT_CERT', kind: 'bool' },
  { path: 'grpc.messageBytesMax', env: 'TILLGATE_GRPC_MESSAGE_BYTES_MAX', kind: 'int' },
  { path: 'grpc.concurrentCallsMax', env: 'TILLGATE_GRPC_CONCURRENT_CALLS_MAX', kind: 'int' },
  { path: 'grpc.concurrentStreamsMax', env: 'TILLGATE_GRPC_CONCURRENT_STREAMS_MAX', kind: 'int' },
  { path: 'grpc.sessionMemoryMbMax', env: 'TILLGATE_GRPC_SESSION_MEMORY_MB_MAX', kind: 'int' },
  { path: 'grpc.keepaliveTimeMs', env: 'TILLGATE_GRPC_KEEPALIVE_TIME_MS', kind: 'int' },
  { path: 'grpc.keepaliveTimeoutMs', env: 'TILLGATE_GRPC_KEEPALIVE_TIMEOUT_MS', kind: 'int' },
  { path: 'grpc.keepalivePermitWithoutCalls', env: 'TILLGATE_GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS', kind: 'bool' },
  { path: 'grpc.defaultDeadlineMs', env: 'TILLGATE_GRPC_DEFAULT_DEADLINE_MS', kind: 'int' },
  { path: 'tcp.host', env: 'TILLGATE_TCP_HOST', kind: 'string' },
  { path: 'tcp.port', env: 'TILLGATE_TCP_PORT', kind: 'int' },
  { path: 'tcp.dialect', env: 'TILLGATE_TCP_DIALECT', kind: 'string' },
  { path: 'tcp.tls', env: 'TILLGATE_TCP_TLS', kind: 'bool' },
  { path: 'tcp.framing', env: 'TILLGATE_TCP_FRAMING', kind: 'framing' },
  { path: 'tcp.clientCaFile', env: 'TILLGATE_TCP_CLIENT_CA', kind: 'string' },
  { path: 'tcp.requireClientCert', env: 'TILLGATE_TCP_REQUIRE_CLIENT_CERT', kind: 'bool' },
  { path: 'shutdownGraceMs', env: 'TILLGATE_SHUTDOWN_GRACE_MS', kind: 'int' },
  { path: 'shutdownNotServingMs', env: 'TILLGATE_SHUTDOWN_NOT_SERVING_MS', kind: 'int' },
  { path: 'pool.queueCommandsMax', env: 'TILLGATE_QUEUE_COMMANDS_MAX', kind: 'int' },
  { path: 'pool.batchCommandsMax', env: 'TILLGATE_BATCH_COMMANDS_MAX', kind: 'int' },
  { path: 'pool.expirySweepIntervalMs', env: 'TILLGATE_EXPIRY_SWEEP_INTERVAL_MS', kind: 'int' },
  { path: 'metrics.host', env: 'TILLGATE_METRICS_HOST', kind: 'string' },
  { path: 'metrics.port', env: 'TILLGATE_METRICS_PORT', kind: 'int' },
  { path: 'controlSocket', env: 'TILLGATE_CONTROL_SOCKET', kind: 'string' },
  { path: 'logLevel', env: 'TILLGATE_LOG_LEVEL', kind: 'level' },
];

function defaults(): Raw {
  return {
    dataDir: './data',
    shards: undefined,
    engine: 'pool',
    grpc: {
      host: '0.0.0.0', port: 50051, insecure: false, certFile: undefined, keyFile: undefined, clientCaFile: undefined,
      // grpc-js buffers a whole message before any handler runs: a 200-line request is ~20 KB, so
      // 1 MiB leaves room, and 100 streams per connection bound what one client can make us hold.
      requireClientCert: false, messageBytesMax: 1024 * 1024, concurrentCallsMax: 4096,
      concurrentStreamsMax: 100, sessionMemoryMbMax: 32,
      // Clients may ping every 10 s or more; pings more often get a GOAWAY (grpc-js enforces).
      keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 10_000, keepalivePermitWithoutCalls: true,
      defaultDeadlineMs: 10_000,
    },
    tcp: { host: '0.0.0.0', port: undefined, dialect: 'iso87-ascii', tls: true, framing: undefined, clientCaFile: undefined, requireClientCert: false },
    shutdownGraceMs: 10_000,
    shutdownNotServingMs: 500,
    pool: { queueCommandsMax: 8192, batchCommandsMax: 1024, expirySweepIntervalMs: 1000 },
    metrics: { host: '127.0.0.1', port: undefined },
    controlSocket: undefined,
    logLevel: 'info',
  };
}

function setPath(target: Raw, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Raw;
  }
  node[parts[parts.length - 1] ?? path] = value;
}

function getPath(source: Raw, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) node = typeof node === 'object' && node !== null ? (node as Raw)[part] : undefined;
  return node;
}

/**
 * A number as given, or a text of decimal digits read as one; NaN for anything else. Number()
 * would read '' and ' ' as 0 (a random port), true as 1 and 0x1F90 as 8080.
 */
export function decimalNumber(text: unknown): number {
  if (typeof text === 'number') return text;
  return typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

function parseValue(kind: string, text: unknown, where: string): unknown {
  if (kind === 'int') {
    const value = decimalNumber(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(`${where}: expected a non-negative integer, got ${JSON.stringify(text) ?? String(text)}`);
    return value;
  }
  if (kind === 'bool') {
    if (typeof text === 'boolean') return text;
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw new ConfigError(`${where}: expected true or false, got ${String(text)}`);
  }
  if (kind === 'framing') {
    if (text !== 'binary2' && text !== 'bcd2' && text !== 'ascii4' && text !== 'lines') throw new ConfigError(`${where}: expected binary2, bcd2, ascii4 or lines`);
    return text;
  }
  if (kind === 'engine') {
    if (text !== 'pool' && text !== 'inline') throw new ConfigError(`${where}: expected pool or inline`);
    return text;
  }
  if (kind === 'level') {
    const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
    if (typeof text !== 'string' || !levels.includes(text)) throw new ConfigError(`${where}: expected one of ${levels.join(', ')}`);
    return text;
  }
  if (typeof text !== 'string' || text.length === 0) throw new ConfigError(`${where}: expected a non-empty string`);
  return text;
}

export interface ConfigSources {
  /** Path of a JSON config file. */
  file?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  /** Values from command-line flags, by dotted path. */
  flags?: Readonly<Record<string, unknown>>;
}

export function loadConfig(sources: ConfigSources): Readonly<Config> {
  const raw = defaults();
  const env = sources.env ?? {};
  const file = sources.file ?? env.TILLGATE_CONFIG;
  const fromFile = file === undefined ? {} : readConfigFile(file);
  for (const setting of settings) {
    const candidates: [unknown, string][] = [
      [getPath(fromFile, setting.path), `${file ?? ''}: ${setting.path}`],
      [env[setting.env], `environment ${setting.env}`],
      [sources.flags?.[setting.path], `flag for ${setting.path}`],
    ];
    for (const [value, where] of candidates) {
      if (value !== undefined) setPath(raw, setting.path, parseValue(setting.kind, value, where));
    }
  }
  checkUnknownKeys(fromFile, file ?? '');
  return validate(raw as unknown as Config);
}

function readConfigFile(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('top level must be an object');
    return parsed as Raw;
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function checkUnknownKeys(fromFile: Raw, file: string, prefix = ''): void {
  const known = new Set(settings.map((setting) => setting.path));
  for (const [key, value] of Object.entries(fromFile)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) checkUnknownKeys(value as Raw, file, path);
    else if (!known.has(path)) throw new ConfigError(`${file}: unknown setting ${path}`);
  }
}

const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return loopbackHosts.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

function checkPort(name: string, port: number | undefined): void {
  if (port !== undefined && port > 65535) throw new ConfigError(`${name} ${port} is not a TCP port`);
}

/**
 * Node's timers hold a signed 32-bit delay: a longer one fires after 1 ms (with a warning), so a
 * deadline of 3000000000 ms would expire every call at once. No timing setting may pass it.
 */
const timerMsMax = 2 ** 31 - 1;

/**
 * The shortest value each timing setting (every setting whose name ends in Ms) may take, and why;
 * one not listed here must be at least 1 ms.
 */
const timingMsMin: Readonly<Record<string, { msMin: number; why: string }>> = {
  'grpc.keepaliveTimeMs': { msMin: 10_000, why: 'clients reject more aggressive pings' },
  'grpc.keepaliveTimeoutMs': { msMin: 1000, why: 'a shorter wait for a ping answer drops healthy connections' },
  // 1 ms is absurd in service, but harmless: the caller hears DEADLINE_EXCEEDED and retries; tests use it.
  'grpc.defaultDeadlineMs': { msMin: 1, why: 'a call always gets some time' },
  'shutdownGraceMs': { msMin: 1, why: 'in-flight calls always get some time' },
  // 0 is a choice, not an accident: refuse calls at once instead of advertising NOT_SERVING first.
  'shutdownNotServingMs': { msMin: 0, why: '0 skips the pause' },
  'pool.expirySweepIntervalMs': { msMin: 10, why: 'a shorter interval only spins the writers' },
};

function checkTimings(config: Config): void {
  for (const setting of settings) {
    if (setting.kind !== 'int' || !setting.path.endsWith('Ms')) continue;
    const value = getPath(config as unknown as Raw, setting.path) as number;
    const { msMin, why } = timingMsMin[setting.path] ?? { msMin: 1, why: 'a timer of 0 ms fires at once' };
    if (value < msMin || value > timerMsMax) {
      throw new ConfigError(`${setting.path} must be from ${msMin} to ${timerMsMax} ms (${why}; Node timers fire at once past ${timerMsMax}), got ${value}`);
    }
  }
}

function checkGrpcLimits(grpc: Config['grpc']): void {
  if (grpc.concurrentCallsMax < 1) throw new ConfigError('grpc.concurrentCallsMax must be at least 1 (with none, every call would wait for its deadline)');
  if (grpc.messageBytesMax < 1024 || grpc.messageBytesMax > 64 * 1024 * 1024) throw new ConfigError('grpc.messageBytesMax must be from 1 KiB to 64 MiB');
  if (grpc.concurrentStreamsMax < 1 || grpc.concurrentStreamsMax > 1000) throw new ConfigError(`grpc.concurrentStreamsMax must be from 1 to 1000 (streams per connection), got ${grpc.concurrentStreamsMax}`);
  // Node counts answers queued for a client that reads slowly: room for two of the largest keeps
  // one such answer from refusing the connection's next call.
  const sessionMemoryMbMin = Math.ceil((2 * grpc.messageBytesMax) / (1024 * 1024));
  if (grpc.sessionMemoryMbMax < sessionMemoryMbMin || grpc.sessionMemoryMbMax > 4096) {
    throw new ConfigError(`grpc.sessionMemoryMbMax must be from ${sessionMemoryMbMin} (twice grpc.messageBytesMax) to 4096 MB, got ${grpc.sessionMemoryMbMax}`);
  }
}

function validate(config: Config): Readonly<Config> {
  const grpc = config.grpc;
  checkTimings(config);
  checkGrpcLimits(grpc);
  checkPort('grpc.port', grpc.port);
  if (grpc.insecure && !isLoopback(grpc.host)) {
    throw new ConfigError(`--insecure (plaintext gRPC) is allowed only on a loopback host, not ${grpc.host}; configure TLS instead`);
  }
  if ((grpc.certFile === undefined) !== (grpc.keyFile === undefined)) throw new ConfigError('grpc.certFile and grpc.keyFile go together');
  if (grpc.requireClientCert && grpc.clientCaFile === undefined) throw new ConfigError('grpc.requireClientCert needs grpc.clientCaFile');
  // Clients are not asked for a certificate unless one is required, so a CA alone would look like mutual TLS and check nothing.
  if (grpc.clientCaFile !== undefined && !grpc.requireClientCert) throw new ConfigError('grpc.clientCaFile without grpc.requireClientCert authenticates no client: set grpc.requireClientCert too');
  checkPort('metrics.port', config.metrics.port);
  // The register gateway's settings count only when it listens.
  if (config.tcp.port !== undefined) {
    const tcp = config.tcp;
    checkPort('tcp.port', config.tcp.port);
    if (!tcp.tls && !isLoopback(tcp.host)) throw new ConfigError(`plaintext register traffic (tcp.tls false) is allowed only on a loopback host, not ${tcp.host}`);
    if (tcp.requireClientCert && tcp.clientCaFile === undefined) throw new ConfigError('tcp.requireClientCert needs tcp.clientCaFile');
    // Registers are not asked for a certificate unless one is required, so a CA alone would protect nothing.
    if (tcp.clientCaFile !== undefined && !tcp.requireClientCert) throw new ConfigError('tcp.clientCaFile without tcp.requireClientCert authenticates no register: set tcp.requireClientCert too');
    if (tcp.requireClientCert && !tcp.tls) throw new ConfigError('tcp.requireClientCert needs tcp.tls');
  }
  if (config.shards !== undefined && (config.shards < 1 || config.shards > 256)) throw new ConfigError('shards must be from 1 to 256');
  if (config.pool.batchCommandsMax < 1 || config.pool.batchCommandsMax > limits.batchCommandsMax) {
    throw new ConfigError(`pool.batchCommandsMax must be from 1 to ${limits.batchCommandsMax} (commands in one group commit)`);
  }
  if (config.pool.queueCommandsMax < 1) throw new ConfigError('pool.queueCommandsMax must be at least 1 (a shard with no queue refuses every command)');
  const dataDir = resolve(config.dataDir);
  const controlSocket = config.controlSocket ?? resolve(dataDir, 'tillgate.sock');
  return deepFreeze({ ...config, dataDir, controlSocket });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
