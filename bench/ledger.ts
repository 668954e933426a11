/**
 * Ledger throughput: durable commands per second, and process CPU per command, at batch sizes 1, 8, 64 and 1024, for a realistic
 * mix (sales, and returns authorized then completed), each run against a fresh LMDB in a temp dir.
 * Beside it, in the same run and interleaved round by round, the bare baseline: raw `lmdb` puts of
 * the same number of records, values of the same size (the ledger's mean journal entry), the same
 * durability settings and commit (overlappingSync, a synchronous transaction that has fsynced when
 * it returns), batched the same way. The ratio ledger ÷ raw is the number that means the same on any machine.
 *
 * Env: BENCH_ROUNDS (5), BENCH_COMMANDS_1 (400), BENCH_COMMANDS_8 (1200), BENCH_COMMANDS_64 (2560), BENCH_COMMANDS_1024 (8192).
 * Results: printed as a table and written to bench/results/ledger.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { Ledger } from '../src/ledger/index.js';
import type { Command, Envelope } from '../src/ledger/index.js';

const roundsCount = Number(process.env.BENCH_ROUNDS ?? 5);
const batchSizes = [1, 8, 64, 1024] as const;
const commandsBySize: Record<(typeof batchSizes)[number], number> = {
  1: Number(process.env.BENCH_COMMANDS_1 ?? 400),
  8: Number(process.env.BENCH_COMMANDS_8 ?? 8 * 150),
  64: Number(process.env.BENCH_COMMANDS_64 ?? 64 * 40),
  1024: Number(process.env.BENCH_COMMANDS_1024 ?? 1024 * 8),
};
const mapSizeBytes = 4 * 1024 ** 3;

/** Sale, sale, authorize a return of the first sale, complete it: half sales, half two-phase returns. */
function workload(count: number): Envelope[] {
  const envelopes: Envelope[] = [];
  const actor = { terminalId: 'BENCH-1' };
  for (let index = 0; envelopes.length < count; index += 1) {
    const quad = Math.floor(index / 4);
    let command: Command;
    switch (index % 4) {
      case 0:
      case 1: {
        const receiptId = `R-${quad}-${index % 4}`;
        const unitPriceMinor = 199 + (index % 37) * 10;
        command = {
          type: 'RecordSale', storeId: 'S1', receiptId, channel: 'STORE', currency: 'USD', customerToken: `C-${index % 97}`,
          lines: [{ lineNo: 1, sku: 'A', quantity: 2, unitPriceMinor }, { lineNo: 2, sku: 'B', quantity: 1, unitPriceMinor: 999 }],
          tenders: [{ tenderType: 'CARD', amountMinor: 2 * unitPriceMinor + 999, cardMasked: '411111******1111' }],
        };
        break;
      }
      case 2:
        command = {
          type: 'AuthorizeReturn', storeId: 'S1', returnId: `RET-${quad}`, receiptId: `R-${quad}-0`,
          lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 'SELLABLE' }],
        };
        break;
      default:
        command = { type: 'CompleteReturn', storeId: 'S1', returnId: `RET-${quad}` };
    }
    envelopes.push({ idempotencyId: `bench-${index}`, actor, command });
  }
  return envelopes;
}

async function openSetUpLedger(path: string): Promise<Ledger> {
  const ledger = Ledger.open({ path, mapSizeBytes, defaultPolicy: { velocityReturnsMax: 0 } });
  const setup: Command[] = [
    { type: 'UpsertStore', storeId: 'S1', name: 'Bench', currency: 'USD' },
    { type: 'UpsertSku', sku: 'A', description: 'a', returnable: true, returnWindowDays: 0 },
    { type: 'UpsertSku', sku: 'B', description: 'b', returnable: true, returnWindowDays: 0 },
    ...Array.from({ length: 20 }, (_, i): Command => ({ type: 'ReceiveStock', storeId: 'S1', sku: i % 2 === 0 ? 'A' : 'B', bucket: 'SELLABLE', quantity: 1_000_000, reference: `PO-${i}` })),
  ];
  const outcomes = await ledger.execute(setup.map((command, index) => ({ idempotencyId: `setup-${index}`, actor: {}, command })));
  if (outcomes.some((outcome) => !outcome.ok)) throw new Error(`setup failed: ${JSON.stringify(outcomes)}`);
  return ledger;
}

interface RunResult {
  opsPerSecond: number;
  /** Process CPU (user + system, all threads) over the timed loop, per command. */
  cpuUsPerCommand: number;
}

const cpuUsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return used.user + used.system;
};

async function runLedger(envelopes: readonly Envelope[], batchSize: number): Promise<RunResult & { failed: number }> {
  const path = mkdtempSync(join(tmpdir(), 'tillgate-bench-ledger-'));
  const ledger = await openSetUpLedger(path);
  let failed = 0;
  try {
    const startedCpu = process.cpuUsage();
    const startedNs = process.hrtime.bigint();
    for (let start = 0; start < envelopes.length; start += batchSize) {
      const outcomes = await ledger.execute(envelopes.slice(start, start + batchSize));
      failed += outcomes.filter((outcome) => !outcome.ok).length;
    }
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    return { opsPerSecond: envelopes.length / seconds, cpuUsPerCommand: cpuUsSince(startedCpu) / envelopes.length, failed };
  } finally {
    await ledger.close();
    rmSync(path, { recursive: true, force: true });
  }
}

async function runRaw(count: number, valueBytes: number, batchSize: number): Promise<RunResult> {
  const path = mkdtempSync(join(tmpdir(), 'tillgate-bench-raw-'));
  const root = open({ path, mapSize: mapSizeBytes, overlappingSync: true, separateFlushed: true, noSync: false, useWritemap: false, compression: false, cache: false });
  const db = root.openDB<Buffer, number>({ name: 'raw', encoding: 'binary', cache: false, compression: false });
  const value = Buffer.alloc(valueBytes, 0x5a);
  try {
    const startedCpu = process.cpuUsage();
    const startedNs = process.hrtime.bigint();
    for (let start = 0; start < count; start += batchSize) {
      const end = Math.min(count, start + batchSize);
      // The ledger's commit: a synchronous durable transaction (fsynced before it returns).
      root.transactionSync(() => {
        for (let key = start; key < end; key += 1) db.putSync(key, value);
      });
    }
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    return { opsPerSecond: count / seconds, cpuUsPerCommand: cpuUsSince(startedCpu) / count };
  } finally {
    await root.close();
    rmSync(path, { recursive: true, force: true });
  }
}

/** Mean stored journal entry (hash + body) for the mix, read from a calibration run's raw bytes. */
async function journalEntryBytes(): Promise<number> {
  const path = mkdtempSync(join(tmpdir(), 'tillgate-bench-calibrate-'));
  const ledger = await openSetUpLedger(path);
  const before = ledger.head().seq;
  await ledger.execute(workload(256));
  await ledger.close();
  const root = open({ path, readOnly: true, maxDbs: 16 });
  const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary' });
  let bytes = 0;
  let entries = 0;
  for (const { value } of journal.getRange({ start: before + 1 })) {
    bytes += value.length;
    entries += 1;
  }
  await root.close();
  rmSync(path, { recursive: true, force: true });
  return Math.round(bytes / entries);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const valueBytes = await journalEntryBytes();
interface Sample {
  ledger: number[];
  raw: number[];
  ledgerCpu: number[];
  rawCpu: number[];
  failed: number;
}
const emptySample = (): Sample => ({ ledger: [], raw: [], ledgerCpu: [], rawCpu: [], failed: 0 });
const samples = new Map<number, Sample>(batchSizes.map((size) => [size, emptySample()]));
const startedMs = Date.now();
for (let round = 0; round < roundsCount; round += 1) {
  for (const batchSize of batchSizes) {
    const count = commandsBySize[batchSize];
    const sample = samples.get(batchSize);
    if (sample === undefined) continue;
    // Alternate which side goes first, so neither always inherits a warm (or busy) disk.
    const ledgerFirst = round % 2 === 0;
    const runOne = async (side: 'ledger' | 'raw') => {
      if (side === 'ledger') {
        const result = await runLedger(workload(count), batchSize);
        sample.ledger.push(result.opsPerSecond);
        sample.ledgerCpu.push(result.cpuUsPerCommand);
        sample.failed += result.failed;
      } else {
        const result = await runRaw(count, valueBytes, batchSize);
        sample.raw.push(result.opsPerSecond);
        sample.rawCpu.push(result.cpuUsPerCommand);
      }
    };
    await runOne(ledgerFirst ? 'ledger' : 'raw');
    await runOne(ledgerFirst ? 'raw' : 'ledger');
  }
  process.stderr.write(`round ${round + 1}/${roundsCount} done\n`);
}

const rows = batchSizes.map((batchSize) => {
  const sample = samples.get(batchSize) ?? emptySample();
  const ledgerOps = median(sample.ledger);
  const rawOps = median(sample.raw);
  return {
    batchSize, commands: commandsBySize[batchSize], ledgerOpsPerSecond: Math.round(ledgerOps), rawOpsPerSecond: Math.round(rawOps), ratio: Number((ledgerOps / rawOps).toFixed(3)),
    ledgerCpuUsPerCommand: Math.round(median(sample.ledgerCpu)), rawCpuUsPerCommand: Math.round(median(sample.rawCpu)),
    ledgerSamples: sample.ledger.map(Math.round), rawSamples: sample.raw.map(Math.round), failedCommands: sample.failed,
  };
});

console.log(`ledger vs raw lmdb puts (${valueBytes}-byte values, durable synchronous commits), median of ${roundsCount} interleaved rounds`);
console.log('batch  commands  ledger ops/s  raw ops/s  ledger÷raw  ledger CPU µs/cmd  raw CPU µs/put');
for (const row of rows) {
  const cells = [
    String(row.batchSize).padStart(5), String(row.commands).padStart(8), String(row.ledgerOpsPerSecond).padStart(12), String(row.rawOpsPerSecond).padStart(9),
    row.ratio.toFixed(3).padStart(10), String(row.ledgerCpuUsPerCommand).padStart(17), String(row.rawCpuUsPerCommand).padStart(14),
  ];
  console.log(cells.join('  '));
}
const resultsDir = new URL('./results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const report = {
  bench: 'ledger', at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown',
  rounds: roundsCount, valueBytes, elapsedMs: Date.now() - startedMs, mix: 'sale, sale, authorize return, complete return', rows,
};
writeFileSync(new URL('ledger.json', resultsDir), `${JSON.stringify(report, null, 2)}\n`);
if (rows.some((row) => row.failedCommands > 0)) {
  console.error('some ledger commands failed: the workload is not what it claims to be');
  process.exitCode = 1;
}
