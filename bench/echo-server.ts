/**
 * The benchmark's baseline: a no-op gRPC server with tillgate's four services (the same generated
 * service definitions, so the same protobuf decode and encode per call), the same TLS setup (a
 * development CA in the data directory) and the same server options, answering every RPC at once
 * with a canned response of the size tillgate's real answer has. No ledger, no pool, no logging.
 * Whatever tillgate costs beyond this server is tillgate's own work.
 *
 * With --engine, the same server is an engine floor: every call that carries an idempotency id is
 * first submitted, as a command, through tillgate's real engine (the shard pool with --shards
 * writer threads, or the inline engine) to bench/lib/minimal-ledger.ts, and answered with the
 * canned response once its outcome is back: --commit durable (the least any ledger must commit per
 * command), journal (the journal entry only) or none (the engine's hop alone). It also answers `status` on the control
 * socket in the data directory, as a node does, so the bench reads its commits and writer threads.
 *
 *   node --import tsx bench/echo-server.ts --data-dir DIR --canned canned.json [--host 127.0.0.1] [--port 0]
 *     [--engine pool|inline --shards N --commit durable|journal|none]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { UntypedHandleCall, sendUnaryData } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/index.js';
import { startControlServer } from '../src/control/index.js';
import { InlineSink, ShardPool } from '../src/workers/index.js';
import type { CommandSink } from '../src/workers/index.js';
import { MinimalLedger, minimalLedgerModuleUrl } from './lib/minimal-ledger.js';
import type { MinimalLedgerOptions } from './lib/minimal-ledger.js';
import * as pb from '../src/grpc/proto.js';
import { grpcServerOptions } from '../src/grpc/server.js';
import { ensureDevCertificates } from '../src/security/dev-ca.js';
import type { CannedResponse } from './lib/protocol.js';

interface MethodDefinition {
  responseDeserialize: (bytes: Buffer) => unknown;
}

type Request = { context?: { idempotencyId?: string }; storeId?: unknown };

/**
 * One handler per method: the canned response decoded once, encoded again by grpc-js on every call.
 * With an engine, a call with an idempotency id waits for its command's outcome first.
 */
function echoHandlers(service: Readonly<Record<string, MethodDefinition>>, canned: Record<string, CannedResponse>, sink: CommandSink | undefined): Record<string, UntypedHandleCall> {
  const handlers: Record<string, UntypedHandleCall> = {};
  for (const [name, definition] of Object.entries(service)) {
    const bytes = canned[name] === undefined ? Buffer.alloc(0) : Buffer.from(canned[name].base64, 'base64');
    const response = definition.responseDeserialize(bytes);
    // Without an engine, the handler is the bare echo: nothing is added to the baseline's calls.
    handlers[name] = sink === undefined
      ? (_call: unknown, callback: sendUnaryData<unknown>) => callback(null, response)
      : (call: { request: Request }, callback: sendUnaryData<unknown>) => {
        const request = call.request;
        const idempotencyId = request.context?.idempotencyId ?? '';
        if (idempotencyId === '') {
          callback(null, response);
          return;
        }
        const command = { type: name, storeId: typeof request.storeId === 'string' ? request.storeId : '', request };
        sink.submit({ idempotencyId, actor: {}, command: command as never }).then(
          (outcome) => callback(outcome.ok ? null : { code: status.UNAVAILABLE, details: outcome.error.message }, outcome.ok ? response : undefined),
          (error: unknown) => callback({ code: status.INTERNAL, details: String(error) }),
        );
      };
  }
  return handlers;
}

const commits = ['durable', 'journal', 'none'] as const;

/** The engine of an engine-floor server, from its flags; undefined for the plain echo server. */
async function startEngine(args: { 'data-dir': string; engine?: string; shards?: string; commit?: string }): Promise<CommandSink | undefined> {
  if (args.engine === undefined) return undefined;
  const shardCount = Number(args.shards);
  if (!Number.isSafeInteger(shardCount) || shardCount < 1) throw new Error('--engine needs --shards N');
  const commit = commits.find((mode) => mode === args.commit);
  if (commit === undefined) throw new Error(`--engine needs --commit ${commits.join(', ')}`);
  const options: MinimalLedgerOptions = { commit };
  if (args.engine === 'pool') return ShardPool.start({ dataDir: args['data-dir'], shardCount, ledgerModule: { url: minimalLedgerModuleUrl, options } });
  if (args.engine === 'inline') return InlineSink.open({ dataDir: args['data-dir'], shardCount, openLedger: (path) => new MinimalLedger(path, options) });
  throw new Error(`unknown --engine ${args.engine}`);
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      'data-dir': { type: 'string' }, canned: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' },
      engine: { type: 'string' }, shards: { type: 'string' }, commit: { type: 'string' },
    },
  });
  const dataDir = args['data-dir'];
  if (dataDir === undefined || args.canned === undefined) throw new Error('echo-server needs --data-dir and --canned');
  const sink = await startEngine({ ...args, 'data-dir': dataDir });
  const control = sink === undefined ? undefined : await startControlServer(join(dataDir, 'tillgate.sock'), { status: () => ({ pid: process.pid, shards: sink.stats() }), drain: () => undefined });
  const canned = JSON.parse(readFileSync(args.canned, 'utf8')) as Record<string, CannedResponse>;
  // The same defaults a tillgate node starts with (no file, no environment, no flags).
  const limits = loadConfig({ env: {}, flags: {} }).grpc;
  const tls = await ensureDevCertificates(dataDir);
  const credentials = ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], false);
  const server = new Server(grpcServerOptions(limits));
  const services = [pb.ReturnsServiceService, pb.SalesServiceService, pb.InventoryServiceService, pb.AdminServiceService];
  for (const service of services) {
    server.addService(service, echoHandlers(service, canned, sink));
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${args.host}:${args.port}`, credentials, (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  process.stderr.write(`echo: TLS with the development CA; clients trust ${tls.caFile}\n`);
  process.stderr.write(`echo: serving gRPC on ${args.host}:${port}${sink === undefined ? '' : ` through the ${args.engine} engine, ${args.shards} shards, commit ${args.commit}`}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const stopped = () => void control?.close().then(() => sink?.close());
      const timer = setTimeout(() => {
        server.forceShutdown();
        stopped();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        stopped();
      });
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`echo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
