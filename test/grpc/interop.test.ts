import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pb } from '../../src/client/index.js';
import { seed, startTestNode } from '../helpers/node.js';

const systemPython = '/usr/bin/python3';
const script = fileURLToPath(new URL('./foreign_client.py', import.meta.url));

function pythonHasGrpc(): boolean {
  return existsSync(systemPython) && spawnSync(systemPython, ['-c', 'import grpc'], { encoding: 'utf8' }).status === 0;
}

function runPython(input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(systemPython, [script], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

// CI installs python3-grpcio (.ci/run); on a developer machine without it the test says so.
const interop = pythonHasGrpc() || process.env.CI === 'true' ? test : test.skip;

interop('a foreign gRPC stack (python grpcio over TLS) sells and authorizes a return, and sees reasons on errors', async (t) => {
  t.true(pythonHasGrpc(), 'python3-grpcio must be installed (apt-get install python3-grpcio)');
  const { node, client } = await startTestNode(t);
  await seed(client, ['S1'], ['A'], 10);
  const sale = pb.RecordSaleRequest.encode(pb.RecordSaleRequest.fromPartial({
    context: { idempotencyId: 'py-1', terminalId: 'PY-T1' }, storeId: 'S1', receiptId: 'PY-R1', channel: 1, currency: 'USD',
    lines: [{ lineNo: 1, sku: 'A', quantity: 2, unitPriceMinor: 250 }], tenders: [{ tenderType: 2, amountMinor: 500, cardMasked: '411111******1111' }],
  })).finish();
  const authorize = pb.AuthorizeReturnRequest.encode(pb.AuthorizeReturnRequest.fromPartial({
    context: { idempotencyId: 'py-2' }, storeId: 'S1', returnId: 'PY-RET', receiptId: 'PY-R1', lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 1 }],
  })).finish();
  const unknownStore = pb.GetStockRequest.encode({ storeId: 'NOWHERE', sku: 'A' }).finish();
  const input = JSON.stringify({
    address: `localhost:${node.grpcPort}`, ca_file: node.caFile,
    calls: [
      { method: '/tillgate.v1.SalesService/RecordSale', request_hex: Buffer.from(sale).toString('hex') },
      { method: '/tillgate.v1.ReturnsService/AuthorizeReturn', request_hex: Buffer.from(authorize).toString('hex') },
      { method: '/tillgate.v1.InventoryService/GetStock', request_hex: Buffer.from(unknownStore).toString('hex') },
    ],
  });
  // Asynchronous: the server under test runs in this process and must keep serving.
  const run = await runPython(input);
  t.is(run.status, 0, run.stderr);
  const results = JSON.parse(run.stdout) as { code: string; response_hex: string; reason: string | null }[];
  t.is(results[0]?.code, 'OK');
  t.is(pb.RecordSaleResponse.decode(Buffer.from(results[0]?.response_hex ?? '', 'hex')).decision, pb.Decision.DECISION_APPROVED);
  const authorization = pb.AuthorizeReturnResponse.decode(Buffer.from(results[1]?.response_hex ?? '', 'hex')).authorization;
  t.deepEqual([authorization?.decision, authorization?.refundMinor], [pb.Decision.DECISION_APPROVED, 250]);
  t.deepEqual([results[2]?.code, results[2]?.reason], ['NOT_FOUND', 'STORE_NOT_FOUND']);
});

test('server reflection lists the tillgate services and health', async (t) => {
  const { node } = await startTestNode(t);
  const reflectionDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
  const definition = loadSync(join(reflectionDir, 'grpc/reflection/v1/reflection.proto'), { includeDirs: [reflectionDir], keepCase: true });
  const loaded = loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: unknown) => { ServerReflectionInfo(): ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>; close(): void } } } } };
  const reflection = new loaded.grpc.reflection.v1.ServerReflection(`localhost:${node.grpcPort}`, credentials.createSsl(readFileSync(node.caFile ?? '')));
  t.teardown(() => reflection.close());
  const names = await new Promise<string[]>((resolve, reject) => {
    const stream = reflection.ServerReflectionInfo();
    stream.on('data', (response: { list_services_response?: { service: { name: string }[] } }) => {
      resolve(response.list_services_response?.service.map((entry) => entry.name) ?? []);
      stream.end();
    });
    stream.on('error', (error: ServiceError) => reject(error));
    stream.write({ list_services: '' });
  });
  for (const service of ['tillgate.v1.ReturnsService', 'tillgate.v1.SalesService', 'tillgate.v1.InventoryService', 'tillgate.v1.AdminService', 'grpc.health.v1.Health']) {
    t.true(names.includes(service), `${service} in ${names.join(', ')}`);
  }
});
