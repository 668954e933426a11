/**
 * Prometheus metrics, including the three KPIs of the design: synchronization latency (send →
 * durable commit, per interface), return authorization outcomes (approved / partially approved /
 * declined by reason / errored by code), and inventory accuracy (set from cycle counts).
 */
import { createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { firstDeclineReason } from '../ledger/types.js';
import type { AuthorizeResult, Bucket } from '../ledger/index.js';

/** A scrape must arrive and be answered within this; idle or slow connections are cut. */
const metricsRequestMsMax = 10_000;
/** Scrapers are few: Prometheus and an operator or two. */
const metricsConnectionsMax = 64;

const latencyBucketsSeconds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Inventory accuracy is taken over this many of a bucket's latest cycle counts, so it follows the stock as it is now. */
const inventoryCountsPerBucketMax = 1000;

/** A bucket's latest cycle counts, as a ring: whether each found the recorded quantity. */
class CountWindow {
  private readonly matched = new Uint8Array(inventoryCountsPerBucketMax);
  private next = 0;
  private counts = 0;
  private matching = 0;

  /** Adds one count, dropping the oldest when full; returns the share of counts that matched. */
  add(matches: boolean): number {
    if (this.counts === inventoryCountsPerBucketMax) this.matching -= this.matched[this.next] ?? 0;
    else this.counts += 1;
    this.matched[this.next] = matches ? 1 : 0;
    this.matching += matches ? 1 : 0;
    this.next = (this.next + 1) % inventoryCountsPerBucketMax;
    return this.matching / this.counts;
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly commands = new Counter({ name: 'tillgate_commands_total', help: 'Commands answered, by type, interface and outcome code (OK or the error code).', labelNames: ['type', 'interface', 'code'] as const, registers: [this.registry] });
  readonly commitLatency = new Histogram({ name: 'tillgate_sync_latency_seconds', help: 'Transaction synchronization latency: request received to durable commit acknowledged, by interface and command type.', labelNames: ['interface', 'type'] as const, buckets: latencyBucketsSeconds, registers: [this.registry] });
  readonly returnAuthorizations = new Counter({ name: 'tillgate_return_authorizations_total', help: 'POS return authorization outcomes: decision (APPROVED, PARTIALLY_APPROVED, DECLINED, ERROR) and reason.', labelNames: ['decision', 'reason'] as const, registers: [this.registry] });
  readonly refused = new Counter({ name: 'tillgate_refused_total', help: 'Work refused at a bound (overload, limits), by reason.', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly inflightCalls = new Gauge({ name: 'tillgate_grpc_inflight_calls', help: 'gRPC calls being served.', registers: [this.registry] });
  readonly shardQueue = new Gauge({ name: 'tillgate_shard_queued_commands', help: 'Commands queued or in flight per shard.', labelNames: ['shard'] as const, registers: [this.registry] });
  readonly shardCommitted = new Counter({ name: 'tillgate_shard_committed_commands_total', help: 'Commands committed per shard.', labelNames: ['shard'] as const, registers: [this.registry] });
  readonly writerRestarts = new Counter({ name: 'tillgate_writer_restarts_total', help: 'Shard writer threads restarted after a crash.', labelNames: ['shard'] as const, registers: [this.registry] });
  /**
   * Set from cycle counts (CountStock), the one place the ledger learns counted against recorded
   * stock. Labelled by bucket (three values), not by store or SKU, which are unbounded; a bucket
   * has no series until it is counted, so no value is exported before there is one to export.
   */
  readonly inventoryAccuracy = new Gauge({ name: 'tillgate_inventory_accuracy_ratio', help: `Inventory accuracy (0..1): the share of the bucket's last ${inventoryCountsPerBucketMax} cycle counts (CountStock) on this node that found the recorded quantity.`, labelNames: ['bucket'] as const, registers: [this.registry] });
  private readonly countWindows = new Map<Bucket, CountWindow>();

  constructor(options: { defaultMetrics: boolean } = { defaultMetrics: true }) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one authorization outcome, labelled by its decision and its first decline reason (NONE when none). */
  recordAuthorization(result: Pick<AuthorizeResult, 'decision' | 'lines'>): void {
    this.returnAuthorizations.inc({ decision: result.decision, reason: firstDeclineReason(result.lines) ?? 'NONE' });
  }

  /** Counts one authorization that errored (no decision was made), labelled by its error code. */
  recordAuthorizationError(code: string): void {
    this.returnAuthorizations.inc({ decision: 'ERROR', reason: code });
  }

  /**
   * One return authorization's outcome as the KPI counts it, whichever interface it came through:
   * its decision once (a replay answers with a decision already counted), or ERROR by its code.
   */
  recordAuthorizationOutcome(outcome: { errorCode: string } | { result: Pick<AuthorizeResult, 'decision' | 'lines'>; replay: boolean }): void {
    if ('errorCode' in outcome) this.recordAuthorizationError(outcome.errorCode);
    else if (!outcome.replay) this.recordAuthorization(outcome.result);
  }

  /** Records one committed cycle count (not a replay of one): it matched when it found no variance. */
  recordCount(bucket: Bucket, varianceQuantity: number): void {
    let window = this.countWindows.get(bucket);
    if (window === undefined) {
      window = new CountWindow();
      this.countWindows.set(bucket, window);
    }
    this.inventoryAccuracy.set({ bucket }, window.add(varianceQuantity === 0));
  }

  /**
   * Serves /metrics on host:port (port 0 picks one); resolves with the bound port. A scrape is a
   * GET (or HEAD) of /metrics; the server holds few connections, gives each little time, and the
   * close it returns ends the connections still open, so no client can keep the node from stopping.
   */
  serve(host: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
    // The request timeouts are checked every connectionsCheckingInterval (30 s by default): check each second.
    const server = createServer({ headersTimeout: metricsRequestMsMax, requestTimeout: metricsRequestMsMax, keepAliveTimeout: 5000, connectionsCheckingInterval: 1000 }, (request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end('not found\n');
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    server.maxConnections = metricsConnectionsMax;
    server.setTimeout(metricsRequestMsMax);
    const close = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve({ port: typeof address === 'object' && address !== null ? address.port : port, close });
      });
    });
  }
}
