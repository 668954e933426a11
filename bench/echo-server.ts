/**
 * The benchmark's baseline: a no-op gRPC server with tillgate's four services (the same generated
 * service definitions, so the same protobuf decode and encode per call), the same TLS setup (a
 * development CA in the data directory) and the same server options, answering every RPC at once
 * with a canned response of the size tillgate's real answer has. No ledger, no pool, no logging.
 * Whatever tillgate costs beyond this server is tillgate's own work.
 *
 *   node --import tsx bench/echo-server.ts --data-dir DIR --canned canned.json [--host 127.0.0.1] [--port 0]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { UntypedHandleCall, sendUnaryData } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/index.js';
import * as pb from '../src/grpc/proto.js';
import { grpcServerOptions } from '../src/grpc/server.js';
import { ensureDevCertificates } from '../src/security/dev-ca.js';
import type { CannedResponse } from './lib/protocol.js';

interface MethodDefinition {
  responseDeserialize: (bytes: Buffer) => unknown;
}

/** One handler per method: the canned response decoded once, encoded again by grpc-js on every call. */
function echoHandlers(service: Readonly<Record<string, MethodDefinition>>, canned: Record<string, CannedResponse>): Record<string, UntypedHandleCall> {
  const handlers: Record<string, UntypedHandleCall> = {};
  for (const [name, definition] of Object.entries(service)) {
    const bytes = canned[name] === undefined ? Buffer.alloc(0) : Buffer.from(canned[name].base64, 'base64');
    const response = definition.responseDeserialize(bytes);
    handlers[name] = (_call: unknown, callback: sendUnaryData<unknown>) => callback(null, response);
  }
  return handlers;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { 'data-dir': { type: 'string' }, canned: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } } });
  if (args['data-dir'] === undefined || args.canned === undefined) throw new Error('echo-server needs --data-dir and --canned');
  const canned = JSON.parse(readFileSync(args.canned, 'utf8')) as Record<string, CannedResponse>;
  // The same defaults a tillgate node starts with (no file, no environment, no flags).
  const limits = loadConfig({ env: {}, flags: {} }).grpc;
  const tls = await ensureDevCertificates(args['data-dir']);
  const credentials = ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], false);
  const server = new Server(grpcServerOptions(limits));
  const services = [pb.ReturnsServiceService, pb.SalesServiceService, pb.InventoryServiceService, pb.AdminServiceService];
  for (const service of services) {
    server.addService(service, echoHandlers(service, canned));
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${args.host}:${args.port}`, credentials, (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  process.stderr.write(`echo: TLS with the development CA; clients trust ${tls.caFile}\n`);
  process.stderr.write(`echo: serving gRPC on ${args.host}:${port}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const timer = setTimeout(() => server.forceShutdown(), 2000);
      server.tryShutdown(() => clearTimeout(timer));
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`echo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
