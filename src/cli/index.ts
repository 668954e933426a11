/**
 * The `tillgate` command line: serve, status, drain, stock, receipt, return, simulate, iso.
 * Every command has --help. Errors print one clear line and exit non-zero.
 */
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/index.js';
import { controlRequest } from '../control/index.js';
import { TillgateError, pb } from '../client/index.js';
import { startNode } from '../main.js';
import { limits } from '../ledger/index.js';
import { runSimulation, simulatedRateMax } from '../simulate/index.js';
import { addClientOptions, clientFrom, printJson, wholeNumber } from './client.js';
import type { ClientFlags } from './client.js';
import { addIsoCommands } from './iso.js';

const program = new Command('tillgate').description('tillgate: the POS-to-returns bridge').showHelpAfterError();

program
  .command('serve')
  .description('run a node: gRPC (TLS) on the embedded LMDB ledger')
  .option('--config <file>', 'JSON config file')
  .option('--data-dir <dir>', 'data directory (default ./data)')
  .option('--host <host>', 'gRPC listen host (default 0.0.0.0)')
  .option('--port <port>', 'gRPC listen port (default 50051; 0 picks a free one)')
  .option('--shards <n>', 'shard count for a new data directory (default: number of cores)')
  .option('--insecure', 'plaintext gRPC, allowed on a loopback host only')
  .option('--engine <engine>', "'pool' (a writer thread per shard, default) or 'inline' (ledger on the main thread)")
  .option('--tls-cert <file>', 'server certificate chain (PEM)')
  .option('--tls-key <file>', 'server private key (PEM)')
  .option('--metrics-port <port>', 'serve Prometheus metrics on this port')
  .option('--tcp-port <port>', 'start the legacy register gateway (ISO 8583 / fixed-v1) on this port')
  .option('--tcp-dialect <name>', 'register dialect: iso87-ascii, iso87-binary, iso87-binary-tpdu, fixed-v1 or a dialect file')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
  .action(async (flags: Record<string, string | boolean | undefined>) => {
    const config = loadConfig({
      file: flags.config as string | undefined,
      env: process.env,
      flags: {
        dataDir: flags.dataDir, 'grpc.host': flags.host, 'grpc.port': flags.port, shards: flags.shards,
        'grpc.insecure': flags.insecure, 'grpc.certFile': flags.tlsCert, 'grpc.keyFile': flags.tlsKey,
        'metrics.port': flags.metricsPort, logLevel: flags.logLevel, engine: flags.engine,
        'tcp.port': flags.tcpPort, 'tcp.dialect': flags.tcpDialect,
      },
    });
    const node = await startNode(config);
    if (node.caFile !== undefined) process.stderr.write(`tillgate: TLS with the development CA; clients trust ${node.caFile}\n`);
    process.stderr.write(`tillgate: serving gRPC on ${config.grpc.host}:${node.grpcPort}\n`);
    if (node.tcpPort !== undefined) process.stderr.write(`tillgate: register gateway (${config.tcp.dialect}) on ${config.tcp.host}:${node.tcpPort}\n`);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void node.stop(signal));
    await node.stopped;
  });

for (const [command, description] of [
  ['status', "show a running node's live state through its control socket"],
  ['drain', 'start a graceful shutdown of a running node (health NOT_SERVING, finish in-flight calls, close)'],
] as const) {
  program
    .command(command)
    .description(description)
    .option('--data-dir <dir>', 'data directory of the node (default: TILLGATE_DATA_DIR, the config file, or ./data)')
    .option('--socket <path>', 'control socket path (default: TILLGATE_CONTROL_SOCKET, the config file, or <data-dir>/tillgate.sock)')
    .action(async (flags: ControlFlags) => {
      printControlAnswer(await controlRequest(controlSocketOf(flags), { command }));
    });
}

interface ControlFlags {
  dataDir?: string;
  socket?: string;
}

/** Prints the node's answer; one that reports an error makes the command fail. */
function printControlAnswer(answer: unknown): void {
  printJson(answer);
  if ((answer as { ok?: unknown } | null)?.ok === false) process.exitCode = 1;
}

/** The node's control socket as `serve` would configure it: flags, then the environment (and TILLGATE_CONFIG), then defaults. */
function controlSocketOf(flags: ControlFlags): string {
  return flags.socket ?? loadConfig({ env: process.env, flags: { dataDir: flags.dataDir } }).controlSocket;
}

addClientOptions(program.command('stock').description('stock position of a SKU in a store').argument('<store>').argument('<sku>'))
  .action(async (storeId: string, sku: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    try {
      printJson(await client.getStock({ storeId, sku }));
    } finally {
      client.close();
    }
  });

addClientOptions(program.command('receipt').description('a receipt with its returnable quantities').argument('<store>').argument('<receipt>'))
  .action(async (storeId: string, receiptId: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    try {
      printJson(pb.GetReceiptResponse.toJSON(await client.getReceipt({ storeId, receiptId })));
    } finally {
      client.close();
    }
  });

const returns = program.command('return').description('authorize, complete or void a return');
addClientOptions(returns.command('authorize').description('authorize a return of receipt lines: --line <receiptLine>:<sku>:<qty>[:disposition]'))
  .requiredOption('--store <id>').requiredOption('--return-id <id>').option('--receipt <id>', 'receipt returned against (omit for non-receipted)')
  .option('--line <spec...>', 'receiptLine:sku:quantity[:SELLABLE|DAMAGED|QUARANTINE] (non-receipted: sku:quantity:unitRefundMinor)')
  .action(async (flags: ClientFlags & { store: string; returnId: string; receipt?: string; line?: string[] }) => {
    const lines = (flags.line ?? []).map((spec, index) => parseReturnLine(spec, index + 1, flags.receipt !== undefined));
    await withClient(flags, async (client) => pb.AuthorizeReturnResponse.toJSON(await client.authorizeReturn({ storeId: flags.store, returnId: flags.returnId, ...(flags.receipt === undefined ? {} : { receiptId: flags.receipt }), lines })));
  });
addClientOptions(returns.command('complete').description('complete (post) a held return; all held units unless --line lineNo:qty'))
  .requiredOption('--store <id>').requiredOption('--return-id <id>').option('--line <spec...>', 'lineNo:quantity')
  .action(async (flags: ClientFlags & { store: string; returnId: string; line?: string[] }) => {
    const lines = (flags.line ?? []).map((spec) => {
      const parts = spec.split(':');
      if (parts.length !== 2) throw new ConfigError(`--line ${spec}: expected lineNo:quantity`);
      return { lineNo: wholeNumber(parts[0], `--line ${spec}: lineNo`, 1, lineNoMax), quantity: lineQuantity(spec, parts[1]) };
    });
    await withClient(flags, async (client) => pb.CompleteReturnResponse.toJSON(await client.completeReturn({ storeId: flags.store, returnId: flags.returnId, lines })));
  });
addClientOptions(returns.command('void').description('void (release) a held return'))
  .requiredOption('--store <id>').requiredOption('--return-id <id>').option('--reason <text>', 'why', 'voided at the register')
  .action(async (flags: ClientFlags & { store: string; returnId: string; reason: string }) => {
    await withClient(flags, async (client) => pb.VoidReturnResponse.toJSON(await client.voidReturn({ storeId: flags.store, returnId: flags.returnId, reason: flags.reason })));
  });

addClientOptions(program.command('simulate').description('N simulated terminals in M stores running a realistic mix; prints a live line and a summary'))
  .option('--terminals <n>', 'simulated terminals', '8').option('--stores <n>', 'stores', '4').option('--skus <n>', 'SKUs', '50')
  .option('--duration <seconds>', 'how long to run', '10').option('--rate <ops>', 'offered operations per second (open loop); default closed loop')
  .option('--json', 'print the summary as JSON')
  .action(async (flags: ClientFlags & { terminals: string; stores: string; skus: string; duration: string; rate?: string; json?: boolean }) => {
    await withClient(flags, async (client) => {
      const summary = await runSimulation({
        client, terminals: positive(flags.terminals, 'terminals'), stores: positive(flags.stores, 'stores'), skus: positive(flags.skus, 'skus'),
        durationMs: positive(flags.duration, 'duration', 7 * 24 * 3600) * 1000, ...(flags.rate === undefined ? {} : { ratePerSecond: positive(flags.rate, 'rate', simulatedRateMax) }),
        onProgress: (p) => process.stderr.write(`\r${(p.elapsedMs / 1000).toFixed(0)}s  ${p.operations} ops  ${p.opsPerSecond} ops/s  p99 ${p.p99Ms.toFixed(1)} ms  errors ${p.errors}   `),
      });
      process.stderr.write('\n');
      if (flags.json === true) return summary;
      printSummary(summary);
      return undefined;
    });
  });

addIsoCommands(program);

/** Line numbers a register prints (receipt lines, return lines). */
const lineNoMax = 9999;

/** The quantity of a --line spec, within what the ledger takes on one line. */
function lineQuantity(spec: string, text: string | undefined): number {
  return wholeNumber(text, `--line ${spec}: quantity`, 1, limits.quantityMax);
}

function positive(text: string, name: string, max?: number): number {
  return wholeNumber(text, `--${name}`, 1, max);
}

function parseReturnLine(spec: string, lineNo: number, receipted: boolean) {
  const parts = spec.split(':');
  const bucketName = parts[3] ?? 'SELLABLE';
  const disposition = pb.Bucket[`BUCKET_${bucketName.toUpperCase()}` as keyof typeof pb.Bucket] as number | undefined;
  if (disposition === undefined) throw new ConfigError(`--line ${spec}: unknown disposition ${bucketName}`);
  const sku = (at: number): string => {
    const value = parts[at] ?? '';
    if (value === '') throw new ConfigError(`--line ${spec}: the SKU is missing`);
    return value;
  };
  if (receipted) return { lineNo, receiptLineNo: wholeNumber(parts[0], `--line ${spec}: receipt line`, 1, lineNoMax), sku: sku(1), quantity: lineQuantity(spec, parts[2]), disposition };
  return { lineNo, sku: sku(0), quantity: lineQuantity(spec, parts[1]), unitRefundMinor: wholeNumber(parts[2], `--line ${spec}: unit refund`, 0), disposition };
}

async function withClient(flags: ClientFlags, run: (client: ReturnType<typeof clientFrom>) => Promise<unknown>): Promise<void> {
  const client = clientFrom(flags);
  try {
    const output = await run(client);
    if (output !== undefined) printJson(output);
  } finally {
    client.close();
  }
}

function printSummary(summary: Awaited<ReturnType<typeof runSimulation>>): void {
  const lines = [
    `duration ${(summary.durationMs / 1000).toFixed(1)} s, ${summary.operations} operations (${summary.opsPerSecond.toFixed(0)}/s), ${summary.rpcs} RPCs (${summary.rpcsPerSecond.toFixed(0)}/s)`,
    'latency (ms)            count      p50      p99     p999      max',
    ...Object.entries(summary.latencyMs).map(([name, l]) => `  ${name.padEnd(18)} ${String(l.count).padStart(8)} ${l.p50.toFixed(2).padStart(8)} ${l.p99.toFixed(2).padStart(8)} ${l.p999.toFixed(2).padStart(8)} ${l.max.toFixed(2).padStart(8)}`),
    'outcomes:',
    ...Object.entries(summary.outcomes).sort().map(([name, count]) => `  ${name.padEnd(48)} ${count}`),
    'errors:',
    ...(Object.keys(summary.errors).length === 0 ? ['  none'] : Object.entries(summary.errors).sort().map(([name, count]) => `  ${name.padEnd(48)} ${count}`)),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof TillgateError ? `${error.reason}${error.field === undefined ? '' : ` (${error.field})`}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`tillgate: ${message}\n`);
  process.exitCode = 1;
});

