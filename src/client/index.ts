/**
 * The tillgate client SDK for POS vendors: one reused TLS channel, typed calls, an idempotency id
 * on every mutating call (generated once and kept across retries, so a retry can never move stock
 * twice), retries with jittered exponential backoff on UNAVAILABLE only, and a deadline on every call.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Channel, Metadata, credentials as grpcCredentials, status } from '@grpc/grpc-js';
import type { CallOptions, ChannelCredentials, Client, ServiceError } from '@grpc/grpc-js';
import * as pb from '../grpc/proto.js';

export interface ClientOptions {
  /** host:port of a tillgate node. */
  address: string;
  /** CA certificate file the server's certificate chains to (e.g. data/tls/dev-ca.pem). */
  caFile?: string;
  /** Client certificate and key files for mutual TLS, where the node requires it. */
  certFile?: string;
  keyFile?: string;
  /** Plaintext, for a node started with --insecure on loopback. */
  insecure?: boolean;
  terminalId?: string;
  operatorId?: string;
  /** Deadline for one call including its retries. */
  deadlineMs?: number;
  attemptsMax?: number;
  backoffMsInitial?: number;
  backoffMsMax?: number;
}

/** A failed call: the gRPC status, and tillgate's stable reason and offending field. */
export class TillgateError extends Error {
  constructor(
    readonly code: status,
    readonly reason: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TillgateError';
  }

  static from(error: ServiceError): TillgateError {
    const reason = error.metadata?.get('tillgate-reason')[0]?.toString() ?? status[error.code] ?? 'UNKNOWN';
    const field = error.metadata?.get('tillgate-field')[0]?.toString();
    return new TillgateError(error.code, reason, field, error.details || error.message);
  }
}

type Mutating<T> = pb.DeepPartial<Omit<T, 'context'>> & { idempotencyId?: string };
type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => unknown;

function channelCredentials(options: ClientOptions): ChannelCredentials {
  if (options.insecure === true) return grpcCredentials.createInsecure();
  const ca = options.caFile === undefined ? null : readFileSync(options.caFile);
  const cert = options.certFile === undefined ? null : readFileSync(options.certFile);
  const key = options.keyFile === undefined ? null : readFileSync(options.keyFile);
  return grpcCredentials.createSsl(ca, key, cert);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TillgateClient {
  private readonly channel: Channel;
  private readonly returnsClient: pb.ReturnsServiceClient;
  private readonly salesClient: pb.SalesServiceClient;
  private readonly inventoryClient: pb.InventoryServiceClient;
  private readonly adminClient: pb.AdminServiceClient;
  private readonly settings: Required<Pick<ClientOptions, 'deadlineMs' | 'attemptsMax' | 'backoffMsInitial' | 'backoffMsMax'>>;

  constructor(private readonly options: ClientOptions) {
    const creds = channelCredentials(options);
    // Keepalive within what the server permits (it refuses pings more often than every 10 s).
    const channelOptions = { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1 };
    this.channel = new Channel(options.address, creds, channelOptions);
    const shared = { channelOverride: this.channel };
    this.returnsClient = new pb.ReturnsServiceClient(options.address, creds, shared);
    this.salesClient = new pb.SalesServiceClient(options.address, creds, shared);
    this.inventoryClient = new pb.InventoryServiceClient(options.address, creds, shared);
    this.adminClient = new pb.AdminServiceClient(options.address, creds, shared);
    this.settings = {
      deadlineMs: options.deadlineMs ?? 5000, attemptsMax: options.attemptsMax ?? 5,
      backoffMsInitial: options.backoffMsInitial ?? 50, backoffMsMax: options.backoffMsMax ?? 2000,
    };
  }

  close(): void {
    for (const client of [this.returnsClient, this.salesClient, this.inventoryClient, this.adminClient] as Client[]) client.close();
    this.channel.close();
  }

  /** Calls once per attempt until success, a non-retryable error, the attempts bound or the deadline. */
  private async invoke<Req, Res>(client: Client, name: string, request: Req): Promise<Res> {
    const method = (client as unknown as Record<string, Unary<Req, Res>>)[name];
    if (method === undefined) throw new Error(`no RPC ${name}`);
    const deadlineAtMs = Date.now() + this.settings.deadlineMs;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await new Promise<Res>((resolve, reject) => {
          method.call(client, request, new Metadata(), { deadline: deadlineAtMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
        });
      } catch (error) {
        const serviceError = error as ServiceError;
        const backoffMs = Math.min(this.settings.backoffMsMax, this.settings.backoffMsInitial * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const retryable = serviceError.code === status.UNAVAILABLE && attempt < this.settings.attemptsMax && Date.now() + backoffMs < deadlineAtMs;
        if (!retryable) throw TillgateError.from(serviceError);
        await sleep(backoffMs);
      }
    }
  }

  private context(idempotencyId: string | undefined): pb.RequestContext {
    const context: pb.RequestContext = { idempotencyId: idempotencyId ?? randomUUID() };
    if (this.options.terminalId !== undefined) context.terminalId = this.options.terminalId;
    if (this.options.operatorId !== undefined) context.operatorId = this.options.operatorId;
    return context;
  }

  private mutate<Req extends { context?: pb.RequestContext | undefined }, Res>(
    client: Client, name: string, fns: pb.MessageFns<Req>, input: Mutating<Req>,
  ): Promise<Res> {
    const { idempotencyId, ...rest } = input as Record<string, unknown> & { idempotencyId?: string };
    const request = fns.fromPartial(rest as pb.DeepPartial<Req>);
    request.context = this.context(idempotencyId);
    return this.invoke(client, name, request);
  }

  authorizeReturn(input: Mutating<pb.AuthorizeReturnRequest>): Promise<pb.AuthorizeReturnResponse> {
    return this.mutate(this.returnsClient, 'authorizeReturn', pb.AuthorizeReturnRequest, input);
  }

  completeReturn(input: Mutating<pb.CompleteReturnRequest>): Promise<pb.CompleteReturnResponse> {
    return this.mutate(this.returnsClient, 'completeReturn', pb.CompleteReturnRequest, input);
  }

  voidReturn(input: Mutating<pb.VoidReturnRequest>): Promise<pb.VoidReturnResponse> {
    return this.mutate(this.returnsClient, 'voidReturn', pb.VoidReturnRequest, input);
  }

  exchange(input: Mutating<pb.ExchangeRequest>): Promise<pb.ExchangeResponse> {
    return this.mutate(this.returnsClient, 'exchange', pb.ExchangeRequest, input);
  }

  getReturn(input: pb.DeepPartial<pb.GetReturnRequest>): Promise<pb.GetReturnResponse> {
    return this.invoke(this.returnsClient, 'getReturn', pb.GetReturnRequest.fromPartial(input));
  }

  recordSale(input: Mutating<pb.RecordSaleRequest>): Promise<pb.RecordSaleResponse> {
    return this.mutate(this.salesClient, 'recordSale', pb.RecordSaleRequest, input);
  }

  importReceipt(input: Mutating<pb.ImportReceiptRequest>): Promise<pb.ImportReceiptResponse> {
    return this.mutate(this.salesClient, 'importReceipt', pb.ImportReceiptRequest, input);
  }

  getReceipt(input: pb.DeepPartial<pb.GetReceiptRequest>): Promise<pb.GetReceiptResponse> {
    return this.invoke(this.salesClient, 'getReceipt', pb.GetReceiptRequest.fromPartial(input));
  }

  getStock(input: pb.DeepPartial<pb.GetStockRequest>): Promise<pb.GetStockResponse> {
    return this.invoke(this.inventoryClient, 'getStock', pb.GetStockRequest.fromPartial(input));
  }

  batchGetStock(input: pb.DeepPartial<pb.BatchGetStockRequest>): Promise<pb.BatchGetStockResponse> {
    return this.invoke(this.inventoryClient, 'batchGetStock', pb.BatchGetStockRequest.fromPartial(input));
  }

  upsertStore(input: Mutating<pb.UpsertStoreRequest>): Promise<pb.UpsertStoreResponse> {
    return this.mutate(this.adminClient, 'upsertStore', pb.UpsertStoreRequest, input);
  }

  getStore(input: pb.DeepPartial<pb.GetStoreRequest>): Promise<pb.GetStoreResponse> {
    return this.invoke(this.adminClient, 'getStore', pb.GetStoreRequest.fromPartial(input));
  }

  upsertSku(input: Mutating<pb.UpsertSkuRequest>): Promise<pb.UpsertSkuResponse> {
    return this.mutate(this.adminClient, 'upsertSku', pb.UpsertSkuRequest, input);
  }

  getSku(input: pb.DeepPartial<pb.GetSkuRequest>): Promise<pb.GetSkuResponse> {
    return this.invoke(this.adminClient, 'getSku', pb.GetSkuRequest.fromPartial(input));
  }

  receiveStock(input: Mutating<pb.ReceiveStockRequest>): Promise<pb.ReceiveStockResponse> {
    return this.mutate(this.adminClient, 'receiveStock', pb.ReceiveStockRequest, input);
  }

  adjustStock(input: Mutating<pb.AdjustStockRequest>): Promise<pb.AdjustStockResponse> {
    return this.mutate(this.adminClient, 'adjustStock', pb.AdjustStockRequest, input);
  }

  countStock(input: Mutating<pb.CountStockRequest>): Promise<pb.CountStockResponse> {
    return this.mutate(this.adminClient, 'countStock', pb.CountStockRequest, input);
  }

  transferStock(input: Mutating<pb.TransferStockRequest>): Promise<pb.TransferStockResponse> {
    return this.mutate(this.adminClient, 'transferStock', pb.TransferStockRequest, input);
  }
}

export { pb };
