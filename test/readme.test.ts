import test from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The fenced blocks of one README section, in order. */
function blocks(section: string, language: string): string[] {
  const start = readme.indexOf(`## ${section}\n`);
  if (start < 0) throw new Error(`README has no section ${section}`);
  const end = readme.indexOf('\n## ', start + 4);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => (match[1] ?? '').trim());
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, detached = false): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(read: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = read().match(pattern);
    if (match !== null) return match;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${String(pattern)}; output so far:\n${read()}`);
}

test('the README quick start works as written: npm start serves TLS gRPC, simulate and status talk to it, the SDK example runs', async (t) => {
  t.timeout(240_000);
  const [setup, simulate, status] = blocks('Quick start', 'sh');
  t.deepEqual(setup?.split('\n'), ['npm install', 'npm start']);
  t.deepEqual(blocks('Tests', 'sh'), ['npm test']);
  // Same commands; only the data directory and port are moved aside so the test runs beside others.
  const dataDir = tempDir(t);
  const env = { TILLGATE_DATA_DIR: dataDir, TILLGATE_GRPC_PORT: '0', TILLGATE_GRPC_HOST: '127.0.0.1', TILLGATE_SHUTDOWN_NOT_SERVING_MS: '0' };
  // Its own process group, like a terminal's foreground job, so Ctrl-C can be sent to the whole job.
  const server = run('npm', ['start'], env, true);
  const group = -(server.child.pid ?? 0);
  t.teardown(() => {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const port = (await waitFor(server.output, /serving gRPC on [^:\s]+:(\d+)/, 120_000))[1] ?? '';
  t.regex(server.output(), new RegExp(`clients trust ${dataDir}/tls/dev-ca.pem`));
  const clientFlags = ['--address', `localhost:${port}`, '--data-dir', dataDir];

  const simulateArgs = (simulate ?? '').split(/\s+/).slice(1).map((arg) => (arg === '10' ? '2' : arg));
  t.deepEqual(simulateArgs.slice(0, 4), ['run', 'tillgate', '--', 'simulate']);
  const simulation = run('npm', [...simulateArgs, ...clientFlags], {});
  t.is(await simulation.exited, 0, simulation.output());
  t.regex(simulation.output(), /operations \(\d+\/s\)/);
  t.regex(simulation.output(), /errors:\n {2}none/);

  const statusArgs = (status ?? '').split(/\s+/).slice(1);
  const statusRun = run('npm', [...statusArgs, '--data-dir', dataDir], {});
  t.is(await statusRun.exited, 0, statusRun.output());
  t.regex(statusRun.output(), /"commitsPerSecond"/);

  // The SDK example, with the address and CA of this node; it returns against a simulated receipt.
  const [example] = blocks('Client SDK', 'ts');
  const receiptSetup = `
const setup = new TillgateClient({ address: 'localhost:${port}', caFile: '${dataDir}/tls/dev-ca.pem' });
await setup.recordSale({ storeId: 'SIM-STORE-000', receiptId: 'R-000987', channel: pb.Channel.CHANNEL_STORE, currency: 'USD',
  lines: [{ lineNo: 1, sku: 'SIM-SKU-0001', quantity: 1, unitPriceMinor: 1000 }], tenders: [{ tenderType: pb.TenderType.TENDER_TYPE_CASH, amountMinor: 1000 }] });
setup.close();
`;
  const code = (example ?? '').replace("'localhost:50051'", `'localhost:${port}'`).replace("'data/tls/dev-ca.pem'", `'${dataDir}/tls/dev-ca.pem'`);
  const lines = code.split('\n');
  const exampleFile = join(root, '.tmp', `readme-example-${process.pid}.ts`);
  mkdirSync(join(root, '.tmp'), { recursive: true });
  writeFileSync(exampleFile, [lines[0], receiptSetup, ...lines.slice(1)].join('\n'));
  t.teardown(() => rmSync(exampleFile, { force: true }));
  const sdk = run(process.execPath, ['--import', 'tsx', exampleFile], {});
  t.is(await sdk.exited, 0, sdk.output());
  t.regex(sdk.output(), /refund 1000 event RETURN_EVENT_RETURN_FULL/);

  // Ctrl-C: the node drains, closes its ledger and logs that it stopped.
  process.kill(group, 'SIGINT');
  await server.exited;
  await waitFor(server.output, /"msg":"stopped"/, 20_000);
});
