/** Starts a real tillgate node (gRPC over TLS, real LMDB in a temp dir) on port 0 for a test. */
import type { ExecutionContext } from 'ava';
import { TillgateClient } from '../../src/client/index.js';
import type { ClientOptions } from '../../src/client/index.js';
import { loadConfig } from '../../src/config/index.js';
import { startNode } from '../../src/main.js';
import type { TillgateNode } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { tempDir } from './tmp.js';

export interface TestNode {
  node: TillgateNode;
  client: TillgateClient;
  dataDir: string;
  connect: (options?: Partial<ClientOptions>) => TillgateClient;
}

export async function startTestNode(t: ExecutionContext, flags: Record<string, unknown> = {}, dataDir = tempDir(t)): Promise<TestNode> {
  const config = loadConfig({
    flags: { dataDir, 'grpc.host': '127.0.0.1', 'grpc.port': 0, shards: 2, logLevel: 'silent', shutdownNotServingMs: 0, ...flags },
  });
  const node = await startNode(config, createLogger('silent'));
  const clients: TillgateClient[] = [];
  const connect = (options: Partial<ClientOptions> = {}) => {
    const client = new TillgateClient({ address: `localhost:${node.grpcPort}`, ...(node.caFile === undefined ? { insecure: true } : { caFile: node.caFile }), terminalId: 'T-TEST', ...options });
    clients.push(client);
    return client;
  };
  const client = connect();
  t.teardown(async () => {
    clients.forEach((c) => c.close());
    await node.stop('test finished');
  });
  return { node, client, dataDir, connect };
}

/** Registers SKUs and stores and receives stock through the API. */
export async function seed(client: TillgateClient, stores: string[], skus: string[], quantity = 100): Promise<void> {
  for (const sku of skus) await client.upsertSku({ sku, description: `item ${sku}`, returnable: true, returnWindowDays: 0 });
  for (const storeId of stores) {
    await client.upsertStore({ storeId, name: `Store ${storeId}`, currency: 'USD' });
    for (const sku of skus) await client.receiveStock({ storeId, sku, bucket: 1, quantity, reference: 'seed' });
  }
}
