/**
 * A load-generator child of bench/run.ts: one SDK client (one TLS channel) driving either the
 * `simulate` mix (Simulation) or the focused returns workload (ReturnsLoop), closed loop or open
 * loop at its share of the offered rate. Commands arrive as JSON lines on stdin; replies (the run
 * summary with its histograms) leave as JSON lines on stdout. See bench/lib/protocol.ts.
 *
 *   node --import tsx bench/load.ts --address 127.0.0.1:PORT --ca-file DIR/tls/dev-ca.pem --index 0
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { TillgateClient, pb } from '../src/client/index.js';
import { Simulation } from '../src/simulate/index.js';
import type { CannedResponse, Fixture, LoadCommand, LoadReply } from './lib/protocol.js';
import { ReturnsLoop } from './lib/returns-loop.js';

/** A generator outlives no benchmark: past this it exits on its own, even if its parent hangs. */
const lifetimeMsMax = 30 * 60 * 1000;
/** Responses kept per RPC while capturing (their median size is the one served by the echo server). */
const captureSamplesMax = 256;
/** Terminals per generator while capturing: enough to hit every RPC of the mix in a second or two. */
const captureTerminals = 8;

const { values: args } = parseArgs({ options: { address: { type: 'string' }, 'ca-file': { type: 'string' }, index: { type: 'string', default: '0' } } });
if (args.address === undefined || args['ca-file'] === undefined) throw new Error('load.ts needs --address and --ca-file');
const generatorIndex = Number(args.index);
const client = new TillgateClient({ address: args.address, caFile: args['ca-file'], terminalId: `BENCH-LOAD-${generatorIndex}`, deadlineMs: 30_000, attemptsMax: 1 });

type Prepared = { run: (durationMs: number, ratePerSecond: number | undefined, inflightMax: number) => ReturnType<Simulation['run']> };
let prepared: Prepared | undefined;

function reply(message: LoadReply): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function simulation(fixture: Fixture, terminals: number, durationMs: number, ratePerSecond: number | undefined, inflightMax: number): Simulation {
  return new Simulation({
    client, terminals, stores: fixture.stores, skus: fixture.skus, durationMs, skipSetup: true, inflightMax,
    ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
  });
}

async function prepare(command: Extract<LoadCommand, { op: 'prepare' }>): Promise<void> {
  if (command.workload === 'mix') {
    // Simulation seeds its few past receipts at the start of run(); that is a handful of RPCs.
    prepared = { run: (durationMs, ratePerSecond, inflightMax) => simulation(command.fixture, command.terminals, durationMs, ratePerSecond, inflightMax).run() };
    return;
  }
  const loop = new ReturnsLoop({ client, fixture: command.fixture, terminals: command.terminals, receiptsPerTerminal: command.receiptsPerTerminal, runId: `${generatorIndex}-${randomUUID().slice(0, 8)}` });
  await loop.prepare();
  prepared = { run: (durationMs, ratePerSecond, inflightMax) => loop.run(durationMs, ratePerSecond, inflightMax) };
}

const definitions = { ...pb.ReturnsServiceService, ...pb.SalesServiceService, ...pb.InventoryServiceService, ...pb.AdminServiceService } as unknown as Record<string, { responseSerialize: (value: unknown) => Buffer }>;

/** Wraps every RPC method of the client so its responses are kept, encoded, for the echo server. */
function recordResponses(target: TillgateClient): () => Record<string, CannedResponse> {
  const seen = new Map<string, Buffer[]>();
  const methods = target as unknown as Record<string, (input: unknown) => Promise<unknown>>;
  for (const [name, definition] of Object.entries(definitions)) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = async (input: unknown) => {
      const response = await original.call(target, input);
      const kept = seen.get(name) ?? [];
      // A declined answer would steer the workload down another path against the echo server.
      if (kept.length < captureSamplesMax && !isDeclined(response)) kept.push(definition.responseSerialize(response));
      seen.set(name, kept);
      return response;
    };
  }
  return () => Object.fromEntries([...seen].filter(([, kept]) => kept.length > 0).map(([name, kept]) => [name, canned(kept)]));
}

function isDeclined(response: unknown): boolean {
  const declined = pb.Decision.DECISION_DECLINED;
  const record = response as { decision?: number; authorization?: { decision?: number } };
  return record.decision === declined || record.authorization?.decision === declined;
}

function canned(kept: Buffer[]): CannedResponse {
  const sorted = [...kept].sort((a, b) => a.length - b.length);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Buffer.alloc(0);
  return { base64: median.toString('base64'), bytes: median.length, samples: sorted.length, bytesMin: sorted[0]?.length ?? 0, bytesMax: sorted[sorted.length - 1]?.length ?? 0 };
}

async function capture(command: Extract<LoadCommand, { op: 'capture' }>): Promise<Record<string, CannedResponse>> {
  const take = recordResponses(client);
  await new Simulation({ client, terminals: captureTerminals, stores: command.fixture.stores, skus: command.fixture.skus, durationMs: 1 }).setup();
  await simulation(command.fixture, captureTerminals, command.durationMs, undefined, captureTerminals).run();
  const loop = new ReturnsLoop({ client, fixture: command.fixture, terminals: captureTerminals, receiptsPerTerminal: 1, runId: `capture-${randomUUID().slice(0, 8)}` });
  await loop.prepare();
  await loop.run(Math.ceil(command.durationMs / 2), undefined, captureTerminals);
  return take();
}

async function handle(command: LoadCommand): Promise<void> {
  switch (command.op) {
    case 'setup':
      await new Simulation({ client, terminals: 1, stores: command.fixture.stores, skus: command.fixture.skus, durationMs: 1 }).setup();
      reply({ type: 'done', op: 'setup' });
      return;
    case 'capture':
      reply({ type: 'captured', responses: await capture(command) });
      return;
    case 'prepare':
      await prepare(command);
      reply({ type: 'ready' });
      return;
    case 'run': {
      if (prepared === undefined) throw new Error('run before prepare');
      const summary = await prepared.run(command.durationMs, command.ratePerSecond, command.inflightMax);
      prepared = undefined;
      reply({ type: 'summary', summary });
      return;
    }
    case 'exit':
      client.close();
      process.exit(0);
  }
}

setTimeout(() => {
  process.stderr.write(`load ${generatorIndex}: lifetime bound of ${lifetimeMsMax} ms reached; exiting\n`);
  process.exit(2);
}, lifetimeMsMax).unref();

// Commands run one at a time, in order; a failed command is reported, and the generator carries on.
let queue = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  queue = queue.then(() => handle(JSON.parse(line) as LoadCommand)).catch((error: unknown) => {
    reply({ type: 'error', message: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) });
  });
});
lines.on('close', () => {
  client.close();
  process.exit(0);
});
