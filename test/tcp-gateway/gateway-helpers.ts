// A real node for gateway tests: ShardPool over LMDB in a temp dir, the gateway on port 0.
import { readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ensureDevCertificates } from '../../src/security/dev-ca.js';
import { getDialect, lineItemsField } from '../../src/tcp-gateway/codec/index.js';
import type { Dialect, FieldValue, IsoMessage, LineItem } from '../../src/tcp-gateway/codec/index.js';
import { encodeLineItems } from '../../src/tcp-gateway/codec/index.js';
import { RegisterClient, startGateway } from '../../src/tcp-gateway/index.js';
import type { GatewayLimits, GatewayListenerOptions, RunningGateway } from '../../src/tcp-gateway/index.js';
import type { Envelope, Outcome } from '../../src/ledger/index.js';
import { ShardPool } from '../../src/workers/index.js';
import type { CommandSink } from '../../src/workers/index.js';
import { envelope, setupCommands } from '../helpers/commands.js';
import { tempDir } from '../helpers/tmp.js';

export const storeId = 'STORE042';
export const skus = ['SKU-1', 'SKU-2'] as const;
export const stockStart = 100;

export interface Node {
  pool: ShardPool;
  gateway: RunningGateway;
  port: number;
  metrics: Metrics;
  ca?: Buffer;
  dir: string;
}

export async function startNode(
  t: ExecutionContext,
  listener: Omit<Partial<GatewayListenerOptions>, 'tls'> & { dialect: string; tls?: boolean },
  limits: Partial<GatewayLimits> = {},
  shardCount = 2,
  /** Wraps what the gateway submits to (e.g. to slow it down); the pool by default. */
  sinkFor: (pool: ShardPool) => CommandSink = (pool) => pool,
): Promise<Node> {
  const dir = tempDir(t, 'tillgate-gw-');
  const pool = await ShardPool.start({ dataDir: dir, shardCount });
  const setup = setupCommands([storeId], skus, stockStart).map((command) => command.type === 'UpsertStore' ? { ...command, currency: 'EUR' } : command);
  for (const command of setup) {
    const outcome = await pool.submit(envelope(command));
    if (!outcome.ok) throw new Error(`setup failed: ${outcome.error.message}`);
  }
  const metrics = new Metrics({ defaultMetrics: false });
  let tls: GatewayListenerOptions['tls'];
  let ca: Buffer | undefined;
  if (listener.tls === true) {
    const certs = await ensureDevCertificates(dir);
    tls = { certFile: certs.certFile, keyFile: certs.keyFile };
    ca = readFileSync(certs.caFile);
  }
  const { tls: _tls, ...rest } = listener;
  const options: GatewayListenerOptions = { host: '127.0.0.1', port: 0, ...rest, ...(tls === undefined ? {} : { tls }) };
  const gateway = await startGateway({ sink: sinkFor(pool), logger: createLogger('silent'), metrics, listeners: [options], limits });
  t.teardown(async () => {
    await gateway.close(1000);
    await pool.close();
  });
  return ca === undefined ? { pool, gateway, port: gateway.ports[0]!, metrics, dir } : { pool, gateway, port: gateway.ports[0]!, metrics, ca, dir };
}

export async function connectRegister(t: ExecutionContext, node: Node, dialectName: string, extra: { framing?: 'binary2' | 'lines' } = {}): Promise<RegisterClient> {
  const dialect: Dialect = getDialect(dialectName)!;
  const client = await RegisterClient.connect({
    host: '127.0.0.1', port: node.port, dialect, responseMsMax: 10_000,
    ...(node.ca === undefined ? {} : { tls: { ca: node.ca } }),
    ...(extra.framing === undefined ? {} : { framing: extra.framing }),
  });
  t.teardown(() => client.destroy());
  return client;
}

export function iso(mti: string, fields: Record<number, FieldValue>, header?: Uint8Array): IsoMessage {
  const map = new Map<number, FieldValue>(Object.entries(fields).map(([k, v]) => [Number(k), v]));
  return header === undefined ? { mti, fields: map } : { mti, header, fields: map };
}

export interface ItemSpec { lineNo: number; sku: string; quantity: number; unitPrice: number; disposition?: LineItem['disposition']; originalLineNo?: number }

export function items(...lines: ItemSpec[]): string {
  return encodeLineItems(lines.map((line): LineItem => ({ disposition: 'S', originalLineNo: 0, ...line })));
}

export { lineItemsField };

export async function metricValue(node: Node, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v));
  return found?.value ?? 0;
}

export function verifyAll(node: Node): { ok: boolean; heads: number[] } {
  const readers = node.pool.readers();
  return { ok: readers.every((reader) => reader.verify().ok), heads: readers.map((reader) => reader.head().seq) };
}

/**
 * Wraps the pool so that a CompleteReturn "completes" 150,000 units of line 1 without reaching the
 * ledger: weighed goods held over gRPC, a quantity no register reply has the digits for.
 */
export function oversizedCompletions(pool: ShardPool): CommandSink {
  return Object.assign(Object.create(pool) as ShardPool, {
    submit: async (submitted: Envelope): Promise<Outcome> => {
      if (submitted.command.type !== 'CompleteReturn') return pool.submit(submitted);
      return {
        ok: true, replay: false, seq: 1,
        result: { type: 'ReturnCompleted', returnId: submitted.command.returnId, lines: [{ lineNo: 1, quantity: 150_000, refundMinor: 0 }], refundMinor: 0, refunds: [], event: 'return.partial', differenceMinor: 0 },
      };
    },
  });
}
