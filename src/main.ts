/**
 * The composition root: config → logger → metrics → pool (ledger shards) → TLS → gRPC → control
 * socket → metrics endpoint. start() returns a Node whose stop() undoes them in reverse order
 * under a deadline: health NOT_SERVING, refuse new calls, finish in-flight calls, close the ledger.
 */
import { ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from './config/index.js';
import type { Config } from './config/index.js';
import { startGateway } from './tcp-gateway/index.js';
import type { GatewayListenerOptions, RunningGateway } from './tcp-gateway/index.js';
import { startControlServer } from './control/index.js';
import type { ControlServer } from './control/index.js';
import { startGrpcServer } from './grpc/server.js';
import type { RunningGrpcServer } from './grpc/server.js';
import { createLogger } from './observability/logger.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { ensureDevCertificates } from './security/dev-ca.js';
import { readCertificates, readKeyPair } from './security/tls-files.js';
import { InlineSink, ShardPool } from './workers/index.js';
import type { CommandSink, ShardStats } from './workers/index.js';

export interface TillgateNode {
  config: Readonly<Config>;
  grpcPort: number;
  /** The register gateway's port, when it is on. */
  tcpPort: number | undefined;
  metricsPort: number | undefined;
  /** The CA a client should trust (the development CA when no certificate was configured). */
  caFile: string | undefined;
  pool: CommandSink;
  grpc: RunningGrpcServer;
  logger: Logger;
  status(): NodeStatus;
  stop(reason: string): Promise<void>;
  /** Resolves when the node has stopped (after stop(), or a drain from the control socket). */
  stopped: Promise<void>;
}

export interface NodeStatus {
  pid: number;
  uptimeMs: number;
  grpcPort: number;
  draining: boolean;
  recentPeers: number;
  registerConnections: number | undefined;
  inflightCalls: number;
  commitsPerSecond: number;
  engine: Config['engine'];
  shards: ShardStats[];
}

interface Tls {
  credentials: ServerCredentials;
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
}

async function credentialsFor(config: Readonly<Config>, logger: Logger): Promise<Tls> {
  const grpc = config.grpc;
  if (grpc.insecure) {
    logger.warn({ host: grpc.host }, 'plaintext gRPC (--insecure) on loopback only');
    if (config.tcp.port !== undefined && config.tcp.tls) throw new ConfigError('the TCP gateway needs a certificate for TLS: configure grpc.certFile/keyFile or set tcp.tls false');
    return { credentials: ServerCredentials.createInsecure(), caFile: undefined, certFile: undefined, keyFile: undefined };
  }
  let certFile = grpc.certFile;
  let keyFile = grpc.keyFile;
  let caFile: string | undefined;
  let names = { certSetting: 'grpc.certFile', keySetting: 'grpc.keyFile' };
  if (certFile === undefined || keyFile === undefined) {
    const dev = await ensureDevCertificates(config.dataDir);
    ({ certFile, keyFile, caFile } = dev);
    names = { certSetting: 'the development certificate', keySetting: 'the development key' };
    logger.warn({ caFile, created: dev.created, ...(dev.why === undefined ? {} : { why: dev.why }) }, `no TLS certificate configured: using the development CA; clients must trust ${caFile}`);
  }
  // Every file parsed here, so a bad one stops the start naming its setting and path.
  const pair = readKeyPair({ ...names, certFile, keyFile });
  const clientCa = grpc.clientCaFile === undefined ? null : readCertificates('grpc.clientCaFile', grpc.clientCaFile);
  const credentials = ServerCredentials.createSsl(clientCa, [{ cert_chain: pair.cert, private_key: pair.key }], grpc.requireClientCert);
  return { credentials, caFile, certFile, keyFile };
}

function startRegisterGateway(config: Readonly<Config>, tls: Tls, pool: CommandSink, logger: Logger, metrics: Metrics): Promise<RunningGateway> | undefined {
  const tcp = config.tcp;
  if (tcp.port === undefined) return undefined;
  const listener: GatewayListenerOptions = { host: tcp.host, port: tcp.port, dialect: tcp.dialect };
  if (tcp.framing !== undefined) listener.framing = tcp.framing;
  if (tcp.tls && tls.certFile !== undefined && tls.keyFile !== undefined) {
    listener.tls = { certFile: tls.certFile, keyFile: tls.keyFile, requireClientCert: tcp.requireClientCert };
    if (tcp.clientCaFile !== undefined) {
      readCertificates('tcp.clientCaFile', tcp.clientCaFile);
      listener.tls.caFile = tcp.clientCaFile;
    }
  }
  return startGateway({ sink: pool, logger, metrics, listeners: [listener] });
}

/** Shortest time between two fault lines of one shard: a fault that persists logs a count, not a line per batch. */
const faultLogEveryMs = 10_000;

/**
 * Logs shard faults (onWriterFault), at most one line per shard per faultLogEveryMs (on the steady
 * clock, so a wall clock step cannot silence it), each with how many were passed over since the
 * last. A wall clock found behind a shard's stored time is a warning of its own, never passed over.
 */
function faultLogger(logger: Logger): (shard: number, message: string, clock: boolean) => void {
  const last = new Map<number, { atMs: number; passedOver: number }>();
  return (shard, message, clock) => {
    if (clock) {
      logger.warn({ shard, reason: message }, 'shard opened with the wall clock behind its stored time');
      return;
    }
    const nowMs = performance.now();
    const seen = last.get(shard);
    if (seen !== undefined && nowMs - seen.atMs < faultLogEveryMs) {
      seen.passedOver += 1;
      return;
    }
    logger.error({ shard, reason: message, faultsNotLogged: seen?.passedOver ?? 0 }, 'shard fault; the shard goes on');
    last.set(shard, { atMs: nowMs, passedOver: 0 });
  };
}

export async function startNode(config: Readonly<Config>, logger: Logger = createLogger(config.logLevel)): Promise<TillgateNode> {
  const startedAtMs = Date.now();
  const metrics = new Metrics();
  // What both engines are opened with (faults are logged); the pool also reports its writers and commits.
  const shards = {
    dataDir: config.dataDir,
    ...(config.shards === undefined ? {} : { shardCount: config.shards }),
    queueCommandsMax: config.pool.queueCommandsMax,
    batchCommandsMax: config.pool.batchCommandsMax,
    expirySweepIntervalMs: config.pool.expirySweepIntervalMs,
    onWriterFault: faultLogger(logger),
  };
  const pool = config.engine === 'inline' ? InlineSink.open(shards) : await ShardPool.start({
    ...shards,
    onWriterExit: (shard, reason) => {
      metrics.writerRestarts.inc({ shard: String(shard) });
      logger.error({ shard, reason }, 'shard writer stopped; restarting it');
    },
    onCommitted: (shard, commands) => metrics.shardCommitted.inc({ shard: String(shard) }, commands),
  });
  const stops: { name: string; run: () => Promise<void> }[] = [{ name: 'pool', run: () => pool.close() }];
  try {
    const tls = await credentialsFor(config, logger);
    const { credentials, caFile } = tls;
    const gateway = await startRegisterGateway(config, tls, pool, logger, metrics);
    if (gateway !== undefined) stops.unshift({ name: 'tcp-gateway', run: () => gateway.close(config.shutdownGraceMs) });
    const grpc = await startGrpcServer({ sink: pool, logger, metrics, host: config.grpc.host, port: config.grpc.port, credentials, limits: config.grpc });
    stops.unshift({ name: 'grpc', run: () => grpc.drain(config.shutdownNotServingMs, config.shutdownGraceMs) });
    let metricsPort: number | undefined;
    if (config.metrics.port !== undefined) {
      const served = await metrics.serve(config.metrics.host, config.metrics.port);
      metricsPort = served.port;
      stops.push({ name: 'metrics', run: served.close });
    }
    const rate = commitRate(pool);
    const status = (): NodeStatus => ({
      pid: process.pid, uptimeMs: Date.now() - startedAtMs, grpcPort: grpc.port, draining: grpc.gate.draining,
      recentPeers: grpc.gate.recentPeers(), registerConnections: gateway?.stats().connectionsOpen, inflightCalls: grpc.gate.inflight, commitsPerSecond: rate(), engine: config.engine, shards: pool.stats(),
    });
    let resolveStopped: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
    let stopping: Promise<void> | undefined;
    const stop = (reason: string): Promise<void> => {
      stopping ??= runStops(stops, logger, reason).then(resolveStopped);
      return stopping;
    };
    const control: ControlServer = await startControlServer(config.controlSocket, { status, drain: () => void stop('drain requested on the control socket') });
    stops.splice(1, 0, { name: 'control', run: () => control.close() });
    const gauge = setInterval(() => {
      pool.stats().forEach((shard) => metrics.shardQueue.set({ shard: String(shard.shard) }, shard.queuedCommands));
      rate();
    }, 1000);
    gauge.unref();
    stops.push({ name: 'gauges', run: () => Promise.resolve(clearInterval(gauge)) });
    logger.info({ grpcPort: grpc.port, tcpPort: gateway?.ports[0], tcpDialect: gateway === undefined ? undefined : config.tcp.dialect, metricsPort, shards: pool.shardCount, dataDir: config.dataDir, tls: !config.grpc.insecure, controlSocket: config.controlSocket }, 'tillgate node started');
    return { config, grpcPort: grpc.port, tcpPort: gateway?.ports[0], metricsPort, caFile, pool, grpc, logger, status, stop, stopped };
  } catch (error) {
    await runStops(stops, logger, 'start failed');
    throw error;
  }
}

async function runStops(stops: readonly { name: string; run: () => Promise<void> }[], logger: Logger, reason: string): Promise<void> {
  logger.info({ reason }, 'stopping');
  for (const step of stops) {
    try {
      await step.run();
    } catch (error) {
      logger.error({ step: step.name, err: error }, 'stop step failed');
    }
  }
  logger.info('stopped');
}

/** Commits per second over the last few seconds, from the pool's counters. */
function commitRate(pool: CommandSink): () => number {
  const samples: { atMs: number; committed: number }[] = [];
  const committed = () => pool.stats().reduce((sum, shard) => sum + shard.committedCommands, 0);
  return () => {
    const now = { atMs: Date.now(), committed: committed() };
    samples.push(now);
    while (samples.length > 2 && (samples[0]?.atMs ?? 0) < now.atMs - 5000) samples.shift();
    const first = samples[0] ?? now;
    const spanMs = now.atMs - first.atMs;
    return spanMs === 0 ? 0 : Math.round(((now.committed - first.committed) * 1000) / spanMs);
  };
}
