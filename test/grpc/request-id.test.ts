/** Request ids a client chooses reach every log line of its call: only plain id characters are kept. */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import test from 'ava';
import { Metadata, credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { pb } from '../../src/client/index.js';
import { loadConfig } from '../../src/config/index.js';
import { requestIdCharsMax, requestIdOf } from '../../src/grpc/server.js';
import { startNode } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { tempDir } from '../helpers/tmp.js';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids a client may not choose: each is replaced by a server-made UUID, not trimmed into a kept one. */
const refusedIds = ['4111.1111.1111.1111', '4111 1111 1111 1111', 'trace:42', 'a_b', 'a/b', '"}', '', 'x'.repeat(requestIdCharsMax + 1)];

test('a request id of letters, digits and dashes within the bound is kept; any other, or none, is replaced by a UUID', (t) => {
  for (const kept of ['abc-123', 'ABC', '0', '01HZX3V4W5Y6Z7A8B9C0D1E2F3', 'x'.repeat(requestIdCharsMax)]) {
    const metadata = new Metadata();
    metadata.set('x-request-id', kept);
    t.is(requestIdOf(metadata), kept);
  }
  for (const refused of refusedIds) {
    const metadata = new Metadata();
    metadata.set('x-request-id', refused);
    t.regex(requestIdOf(metadata), uuidShape, JSON.stringify(refused));
  }
  t.regex(requestIdOf(new Metadata()), uuidShape);
});

test('over a real server, a request id with anything but id characters never reaches a log line', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const config = loadConfig({ flags: { dataDir: tempDir(t), 'grpc.host': '127.0.0.1', 'grpc.port': 0, shards: 1, logLevel: 'debug', shutdownNotServingMs: 0 } });
  const node = await startNode(config, createLogger('debug', sink));
  const client = new pb.AdminServiceClient(`localhost:${node.grpcPort}`, credentials.createSsl(readFileSync(node.caFile ?? '')));
  t.teardown(async () => {
    client.close();
    await node.stop('test finished');
  });
  const loggedIdOf = async (chosen: string): Promise<string | undefined> => {
    const metadata = new Metadata();
    metadata.set('x-request-id', chosen);
    lines.length = 0;
    // The store does not exist: the call is refused, and its refusal is logged with the request id.
    await new Promise<ServiceError | null>((resolve) => client.getStore({ storeId: 'NOPE' }, metadata, { deadline: Date.now() + 10_000 }, (error) => resolve(error)));
    // The server may log the call just after its answer has left: wait for the line (bounded).
    for (let waitedMs = 0; waitedMs < 5000; waitedMs += 20) {
      const logged = lines.map((line) => JSON.parse(line) as { rpc?: string; requestId?: string }).find((entry) => entry.rpc === 'GetStore');
      if (logged !== undefined) return logged.requestId;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  };
  t.is(await loggedIdOf('order-42'), 'order-42');
  for (const refused of ['4111.1111.1111.1111', 'trace:42', 'a_b']) {
    const logged = await loggedIdOf(refused);
    t.regex(logged ?? '', uuidShape, refused);
  }
});
