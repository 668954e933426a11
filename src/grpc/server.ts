/**
 * The gRPC server: ReturnsService, SalesService, InventoryService, AdminService, grpc.health.v1
 * and reflection. Handlers are translators: request → command → pool → outcome → response.
 * Every call is bounded (message size, concurrency, deadline) and measured.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { Server, status } from '@grpc/grpc-js';
import type { ServerCredentials, ServerUnaryCall, handleUnaryCall, sendUnaryData, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Config } from '../config/index.js';
import type { Command, CommandResult, Envelope } from '../ledger/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { protoRoot } from '../paths.js';
import type { CommandSink } from '../workers/index.js';
import { OutcomeError, RequestError, errorInfoOf, toServiceError } from './errors.js';
import * as pb from './proto.js';
import { readHandlers } from './reads.js';
import { commandHandlers } from './commands.js';

/** The bounds the server enforces: the gRPC part of the validated config. */
export type GrpcLimits = Pick<
  Config['grpc'],
  'messageBytesMax' | 'concurrentCallsMax' | 'concurrentStreamsMax' | 'sessionMemoryMbMax' | 'keepaliveTimeMs' | 'keepaliveTimeoutMs' | 'keepalivePermitWithoutCalls' | 'defaultDeadlineMs'
>;

export interface GrpcServerOptions {
  sink: CommandSink;
  logger: Logger;
  metrics: Metrics;
  host: string;
  port: number;
  credentials: ServerCredentials;
  limits: GrpcLimits;
}

/** A request whose bytes did not decode: not protobuf, a number out of range, or a string that is not UTF-8. */
class UndecodableRequest {
  constructor(readonly reason: string) {}
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const decodeUtf8Strictly = (utf8: Uint8Array): string => strictUtf8.decode(utf8);

/**
 * The service with every request decoded strictly, and a request that does not decode handed to
 * its handler as an UndecodableRequest, so the caller hears INVALID_ARGUMENT with the reason
 * (grpc-js answers a throwing decoder with INTERNAL, which tells a client to retry). Strings must
 * be valid UTF-8: a lenient decoder turns bad bytes into U+FFFD, and two different ids into one.
 * The generated decoders take a BinaryReader in place of the bytes.
 */
export function strictlyDecoded<S extends object>(service: S): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service) as [string, { requestDeserialize: (bytes: Buffer) => unknown }][]) {
    const decode = method.requestDeserialize;
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(new BinaryReader(bytes, decodeUtf8Strictly) as unknown as Buffer);
        } catch (error) {
          return new UndecodableRequest(error instanceof Error ? error.message : String(error));
        }
      },
    };
  }
  return wrapped as S;
}

/** INVALID_ARGUMENT for a request that did not decode (see strictlyDecoded), or undefined. */
function undecodable(name: string, request: unknown): Partial<ServiceError> | undefined {
  if (!(request instanceof UndecodableRequest)) return undefined;
  return toServiceError({ code: 'INVALID_ARGUMENT', message: `the request does not decode as a ${name} request (${request.reason}); nothing was done` });
}

/** The longest request id a client may choose; a longer one is replaced, not cut. */
export const requestIdCharsMax = 64;
/**
 * A client's request id goes into every log line of its call, so it is kept only when it is plain
 * id characters: letters, digits and '-' (a UUID, a ULID, a trace id). Anything else ('.', ':',
 * spaces, other scripts) could carry card digits past the log masking or forge a log field.
 */
const clientRequestIdShape = new RegExp(`^[A-Za-z0-9-]{1,${requestIdCharsMax}}$`);

/** The call's request id: the client's x-request-id when it has the shape above, else a new UUID. */
export function requestIdOf(metadata: ServerUnaryCall<unknown, unknown>['metadata']): string {
  const chosen = metadata.get('x-request-id')[0];
  return typeof chosen === 'string' && clientRequestIdShape.test(chosen) ? chosen : randomUUID();
}

export const serviceNames = ['tillgate.v1.ReturnsService', 'tillgate.v1.SalesService', 'tillgate.v1.InventoryService', 'tillgate.v1.AdminService'] as const;

/** Shared by every handler: bounds, draining, logging and metrics. */
export class CallGate {
  inflight = 0;
  draining = false;
  private readonly peers = new Map<string, number>();

  constructor(
    readonly sink: CommandSink,
    readonly logger: Logger,
    readonly metrics: Metrics,
    readonly limits: GrpcLimits,
  ) {}

  /** Distinct client addresses seen within the last minute. */
  recentPeers(): number {
    const cutoffMs = Date.now() - 60_000;
    for (const [peer, atMs] of this.peers) if (atMs < cutoffMs) this.peers.delete(peer);
    return this.peers.size;
  }

  /** Refuses a call before any work starts, or returns undefined to let it run. */
  admit(call: ServerUnaryCall<unknown, unknown>): Partial<ServiceError> | undefined {
    if (this.peers.size < 100_000) this.peers.set(call.getPeer(), Date.now());
    if (this.draining) return toServiceError({ code: 'SHUTTING_DOWN', message: 'the node is draining; retry on another node or later' });
    if (this.inflight >= this.limits.concurrentCallsMax) {
      this.metrics.refused.inc({ reason: 'concurrent_calls' });
      return toServiceError({ code: 'OVERLOADED', message: `more than ${this.limits.concurrentCallsMax} calls in flight` });
    }
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(deadlineMs) && deadlineMs <= Date.now()) {
      return toServiceError({ code: 'DEADLINE_EXCEEDED', message: 'the deadline passed before the call started; nothing was done' });
    }
    return undefined;
  }

  /** Wraps a handler with admission, request ids, errors, logs and metrics. */
  unary<Req, Res>(name: string, run: (request: Req, requestId: string) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const refused = this.admit(call) ?? undecodable(name, call.request);
      if (refused !== undefined) {
        this.metrics.commands.inc({ type: name, interface: 'grpc', code: refused.metadata?.get('tillgate-reason')[0]?.toString() ?? 'REFUSED' });
        callback(refused);
        return;
      }
      const requestId = requestIdOf(call.metadata);
      const startedNs = process.hrtime.bigint();
      this.inflight += 1;
      this.metrics.inflightCalls.inc();
      const work = new Promise<Res>((resolve) => resolve(run(call.request, requestId)));
      this.answerWithin(call, work).then(
        (response) => {
          this.finish(name, requestId, startedNs, 'OK');
          callback(null, response);
        },
        (error: unknown) => {
          const info = errorInfoOf(error);
          if (info.code === 'INTERNAL') this.logger.error({ requestId, rpc: name, err: error }, 'internal error');
          this.finish(name, requestId, startedNs, info.code);
          callback(toServiceError(info));
        },
      );
    };
  }

  /**
   * A call that came without a deadline gets defaultDeadlineMs: the caller hears DEADLINE_EXCEEDED
   * instead of waiting without bound. A command already submitted may still commit; the caller's
   * retry with the same idempotency id then gets its result as a replay.
   */
  private answerWithin<Res>(call: ServerUnaryCall<unknown, unknown>, work: Promise<Res>): Promise<Res> {
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(deadlineMs)) return work;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OutcomeError({ code: 'DEADLINE_EXCEEDED', message: `no answer within the default deadline of ${this.limits.defaultDeadlineMs} ms` })), this.limits.defaultDeadlineMs);
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }

  private finish(name: string, requestId: string, startedNs: bigint, code: string): void {
    this.inflight -= 1;
    this.metrics.inflightCalls.dec();
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    this.metrics.commands.inc({ type: name, interface: 'grpc', code });
    // Refusals are normal traffic (a lookup that finds nothing, a bad request): debug, not info.
    if (code !== 'OK') this.logger.debug({ requestId, rpc: name, code, ms: Math.round(seconds * 1000) }, 'call refused');
    else this.logger.debug({ requestId, rpc: name, ms: seconds * 1000 }, 'call ok');
  }

  /** Submits one command built from a request; a refused outcome becomes the call's error. */
  async submit(context: pb.RequestContext | undefined, build: () => Command): Promise<{ command: Command; result: CommandResult; replay: boolean; journalSeq: number }> {
    const idempotencyId = context?.idempotencyId ?? '';
    if (idempotencyId === '') throw new RequestError('INVALID_ARGUMENT', 'context.idempotencyId is required on every mutating call', 'context.idempotencyId');
    const actor: Envelope['actor'] = {};
    if (context?.terminalId !== undefined) actor.terminalId = context.terminalId;
    if (context?.operatorId !== undefined) actor.operatorId = context.operatorId;
    const command = build();
    const startedNs = process.hrtime.bigint();
    const outcome = await this.sink.submit({ idempotencyId, actor, command });
    if (!outcome.ok) throw new OutcomeError(outcome.error);
    // Sync latency is a KPI of commits, measured as the gateway's execute does: submit to durable
    // commit, for outcomes that committed (or replay a commit); reads and refusals are not observed.
    this.metrics.commitLatency.observe({ interface: 'grpc', type: command.type }, Number(process.hrtime.bigint() - startedNs) / 1e9);
    return { command, result: outcome.result, replay: outcome.replay, journalSeq: outcome.seq };
  }
}

export interface RunningGrpcServer {
  port: number;
  gate: CallGate;
  health: HealthImplementation;
  /** NOT_SERVING, refuse new calls, let in-flight calls finish up to graceMs, then force. */
  drain(notServingMs: number, graceMs: number): Promise<void>;
}

/**
 * The server's channel options; exported so the benchmark's echo server runs with the same. Option
 * names are the ones grpc-js 1.14 reads in its Server constructor (build/src/server.js).
 */
export function grpcServerOptions(limits: GrpcLimits): Record<string, number> {
  return {
    // grpc-js buffers each incoming message whole before any handler runs, so what one connection
    // can make the node hold is messageBytesMax × streams: both are bounded here.
    'grpc.max_receive_message_length': limits.messageBytesMax,
    'grpc.max_send_message_length': limits.messageBytesMax,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': limits.keepalivePermitWithoutCalls ? 1 : 0,
    // Clients may ping no more often than every 10 s (grpc-js answers faster pings with GOAWAY).
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // Advertised in HTTP/2 SETTINGS: a client queues further calls instead of opening more streams.
    // No more than the node takes calls at all: a stream over that would only be refused.
    'grpc.max_concurrent_streams': Math.min(limits.concurrentCallsMax, limits.concurrentStreamsMax),
    // Node's per-session memory credit (MB): past it new streams are refused. grpc-js leaves it
    // unlimited unless set.
    'grpc-node.max_session_memory': limits.sessionMemoryMbMax,
    'grpc.max_connection_idle_ms': 30 * 60 * 1000,
    // No channelz service is exposed, so its per-call bookkeeping (closures, timestamps, counters
    // on every stream) would only cost CPU; calls are counted in Prometheus metrics instead.
    'grpc.enable_channelz': 0,
  };
}

function reflectionDefinition(): ReturnType<typeof loadSync> {
  const files = ['admin_service.proto', 'common.proto', 'inventory_service.proto', 'returns_service.proto', 'sales_service.proto'].map((file) => join(protoRoot, 'tillgate', 'v1', file));
  return loadSync([...files, healthProtoPath], { includeDirs: [protoRoot], keepCase: false, longs: Number, enums: String, defaults: true });
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const gate = new CallGate(options.sink, options.logger, options.metrics, options.limits);
  const server = new Server(grpcServerOptions(options.limits));
  const commands = commandHandlers(gate);
  const reads = readHandlers(gate);
  server.addService(strictlyDecoded(pb.ReturnsServiceService), { ...commands.returns, ...reads.returns });
  server.addService(strictlyDecoded(pb.SalesServiceService), { ...commands.sales, ...reads.sales });
  server.addService(strictlyDecoded(pb.InventoryServiceService), reads.inventory);
  server.addService(strictlyDecoded(pb.AdminServiceService), { ...commands.admin, ...reads.admin });
  const statusMap: Record<string, 'SERVING' | 'NOT_SERVING'> = { '': 'SERVING' };
  for (const name of serviceNames) statusMap[name] = 'SERVING';
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);
  new ReflectionService(reflectionDefinition()).addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`, options.credentials, (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  return { port, gate, health, drain: (notServingMs, graceMs) => drainServer(server, gate, health, notServingMs, graceMs) };
}

async function drainServer(server: Server, gate: CallGate, health: HealthImplementation, notServingMs: number, graceMs: number): Promise<void> {
  // Health goes NOT_SERVING first, and calls are still served for a moment, so that load
  // balancers and clients watching health move away before anything is refused.
  for (const name of ['', ...serviceNames]) health.setStatus(name, 'NOT_SERVING');
  await new Promise((resolve) => setTimeout(resolve, notServingMs));
  gate.draining = true;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export { status };
