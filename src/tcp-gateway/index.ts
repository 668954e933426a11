// The legacy TCP gateway: ISO 8583 dialects and fixed-v1 records over TCP or TLS, translated into
// the ledger's commands and submitted through the same CommandSink as gRPC.
//
//   startGateway({ sink, logger, metrics, listeners, limits }) -> { ports, stats(), close(graceMs) }
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { CommandSink } from '../workers/index.js';
import { getDialect, loadDialectFile } from './codec/index.js';
import type { Dialect } from './codec/index.js';
import { gatewayDefaults, resolveLimits } from './limits.js';
import type { GatewayLimits, GatewayRefusalReason } from './limits.js';
import { FixedSession, IsoSession } from './session.js';
import type { Session, SessionContext } from './session.js';
import { Transport } from './transport.js';
import type { Framing, GatewayStats, ListenerSpec, TlsMaterial } from './transport.js';

export interface GatewayListenerOptions {
  host: string;
  port: number;
  /** A shipped dialect name (iso87-ascii, iso87-binary, iso87-binary-tpdu, fixed-v1) or an ISO dialect JSON file. */
  dialect: string;
  tls?: { certFile: string; keyFile: string; caFile?: string; requireClientCert?: boolean };
  /** Length header (binary2, bcd2, ascii4) or CR LF lines (fixed-v1 only). Default: binary2 for ISO, lines for fixed-v1. */
  framing?: Framing;
  /** The length header counts its own bytes. Default false. */
  headerCountsItself?: boolean;
}

export interface GatewayOptions {
  sink: CommandSink;
  logger: Logger;
  metrics?: Metrics;
  listeners: GatewayListenerOptions[];
  limits?: Partial<GatewayLimits>;
}

export interface RunningGateway {
  /** Bound ports, in the order of options.listeners (port 0 picks one). */
  ports: number[];
  stats(): GatewayStats;
  /** Stops accepting, answers in-flight requests, closes connections; cuts what is left after graceMs. */
  close(graceMs: number): Promise<void>;
}

async function resolveDialect(name: string): Promise<Dialect> {
  return getDialect(name) ?? await loadDialectFile(name);
}

function tlsMaterial(tls: GatewayListenerOptions['tls']): TlsMaterial | undefined {
  if (tls === undefined) return undefined;
  const material = {
    cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), requireClientCert: tls.requireClientCert ?? false,
  };
  return tls.caFile === undefined ? material : { ...material, ca: readFileSync(tls.caFile) };
}

async function listenerSpec(options: GatewayListenerOptions, index: number, context: SessionContext): Promise<ListenerSpec> {
  const dialect = await resolveDialect(options.dialect);
  const framing: Framing = options.framing ?? (dialect.kind === 'fixed' ? 'lines' : 'binary2');
  if (framing === 'lines' && dialect.kind !== 'fixed') throw new RangeError(`listener ${index}: line framing is for fixed-v1 only, not ${dialect.name}`);
  const newSession = (): Session => (dialect.kind === 'fixed' ? new FixedSession(context, framing === 'lines') : new IsoSession(context, dialect));
  const tls = tlsMaterial(options.tls);
  const spec = {
    host: options.host, port: options.port, framing, headerCountsItself: options.headerCountsItself ?? false, newSession,
    name: `${dialect.name}@${options.host}:${options.port}${tls === undefined ? '' : '+tls'}`,
  };
  return tls === undefined ? spec : { ...spec, tls };
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const limits = resolveLimits(options.limits);
  const metrics = options.metrics;
  const logger = options.logger.child({ component: 'tcp-gateway' });
  const transport = new Transport(limits, logger, (reason) => metrics?.refused.inc({ reason }));
  const context: SessionContext = { sink: options.sink, logger, metrics, refuse: (reason: GatewayRefusalReason) => transport.refuse(reason) };
  const ports: number[] = [];
  try {
    for (const [index, listener] of options.listeners.entries()) {
      const spec = await listenerSpec(listener, index, context);
      ports.push(await transport.listen(spec));
      logger.info({ listener: spec.name, port: ports[ports.length - 1] }, 'tcp gateway listening');
    }
  } catch (error) {
    await transport.close(0);
    throw error;
  }
  return { ports, stats: () => transport.stats(), close: (graceMs: number) => transport.close(graceMs) };
}

export { gatewayDefaults };
export type { GatewayLimits, GatewayRefusalReason, GatewayStats, Framing };
export { responseCodes, codeForError, codeForDecision } from './response-codes.js';
export type { ResponseCode } from './response-codes.js';
export { planIso, isoReturnId, responseMti, replyHeader } from './translator.js';
export { planFixed, fixedReturnId } from './fixed-translator.js';
export { RegisterClient } from './client.js';
export type { RegisterClientOptions } from './client.js';
