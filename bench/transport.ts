/**
 * `npm run bench:transport`: the cost of one round trip to a worker thread carrying a real ledger
 * command, raw MessagePort (what src/workers uses) beside a piscina no-op task, at the same
 * pipelining depth, in the same run, rounds interleaved. It is why the shard writers are plain
 * worker threads: a shard needs exactly one long-lived writer with its own queue, and piscina's
 * per-task machinery costs more per round trip than a MessagePort post.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { decodeMessage, encodeMessage } from '../src/workers/messages.js';
import type { FromWriter } from '../src/workers/messages.js';

const roundTripsPerRound = Number(process.env.BENCH_ROUND_TRIPS ?? 20_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const depth = Number(process.env.BENCH_DEPTH ?? 64);

const envelope = {
  idempotencyId: '2b7f0d4e-8c1a-4a55-9d7e-3f0c9e1b2a44', actor: { terminalId: 'STORE-12-LANE-3' },
  command: {
    type: 'AuthorizeReturn', storeId: 'STORE-0012', returnId: 'RET-000123', receiptId: 'R-000987',
    lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'SKU-0001', quantity: 1, disposition: 'SELLABLE' }, { lineNo: 2, receiptLineNo: 2, sku: 'SKU-0002', quantity: 2, disposition: 'DAMAGED' }],
  },
};
const outcome = { ok: true, replay: false, seq: 123456, result: { type: 'ReturnAuthorized', returnId: 'RET-000123', decision: 'APPROVED', lines: [{ lineNo: 1, decision: 'APPROVED', requestedQuantity: 1, approvedQuantity: 1, refundMinor: 1999 }], refundMinor: 1999, refunds: [{ tenderType: 'CARD', tenderIndex: 0, amountMinor: 1999 }], differenceMinor: 1999, expiresAtMs: 1795843716239, overrideApplied: false } };

// The piscina task file lives under node_modules so that its require('msgpackr') resolves.
// The echo side of each transport: decode the command, encode an outcome of the real size.
const portWorkerSource = `
const { parentPort } = require('node:worker_threads');
const { Packr } = require('msgpackr');
const packr = new Packr({ useRecords: false, moreTypes: false });
const outcome = ${JSON.stringify(outcome)};
parentPort.on('message', (bytes) => {
  const message = packr.unpack(bytes);
  parentPort.postMessage(packr.pack({ kind: 'results', requests: [message.id], counts: [message.envelopes.length], outcomes: message.envelopes.map(() => outcome) }));
});`;

const piscinaTaskSource = `
const { Packr } = require('msgpackr');
const packr = new Packr({ useRecords: false, moreTypes: false });
const outcome = ${JSON.stringify(outcome)};
module.exports = (bytes) => { const message = packr.unpack(bytes); return packr.pack({ kind: 'results', requests: [message.id], counts: [message.envelopes.length], outcomes: message.envelopes.map(() => outcome) }); };`;

async function runPort(worker: Worker, count: number): Promise<number> {
  const pending = new Map<number, () => void>();
  worker.on('message', (bytes: Uint8Array) => {
    const message = decodeMessage<FromWriter>(bytes);
    if (message.kind === 'results') for (const id of message.requests) pending.get(id)?.();
  });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: depth }, async () => {
    while (next < count) {
      const id = next++;
      await new Promise<void>((resolve) => {
        pending.set(id, resolve);
        worker.postMessage(encodeMessage({ kind: 'execute', id, envelopes: [envelope] }));
      });
      pending.delete(id);
    }
  }));
  worker.removeAllListeners('message');
  return (count * 1000) / (performance.now() - started);
}

async function runPiscina(pool: Piscina, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: depth }, async () => {
    while (next < count) {
      const id = next++;
      decodeMessage(await pool.run(encodeMessage({ kind: 'execute', id, envelopes: [envelope] })) as Uint8Array);
    }
  }));
  return (count * 1000) / (performance.now() - started);
}

const dir = mkdtempSync(join(process.cwd(), 'node_modules', '.tillgate-bench-'));
const taskFile = join(dir, 'task.cjs');
writeFileSync(taskFile, piscinaTaskSource);

const worker = new Worker(portWorkerSource, { eval: true });
// One thread, as for a shard writer; every option set explicitly (maxQueue never infinite).
const pool = new Piscina({ filename: taskFile, minThreads: 1, maxThreads: 1, maxQueue: depth * 2, concurrentTasksPerWorker: 1, idleTimeout: 60_000 });
const results = { port: [] as number[], piscina: [] as number[] };
await runPort(worker, 2000);
await runPiscina(pool, 2000);
for (let round = 0; round < rounds; round += 1) {
  results.port.push(await runPort(worker, roundTripsPerRound));
  results.piscina.push(await runPiscina(pool, roundTripsPerRound));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
const port = median(results.port);
const piscina = median(results.piscina);
console.log(`cores ${availableParallelism()}, depth ${depth}, ${rounds} interleaved rounds of ${roundTripsPerRound} round trips, one AuthorizeReturn envelope each`);
console.log(`MessagePort round trips/s  ${port.toFixed(0).padStart(8)}  (rounds ${results.port.map((v) => v.toFixed(0)).join(', ')})`);
console.log(`piscina     round trips/s  ${piscina.toFixed(0).padStart(8)}  (rounds ${results.piscina.map((v) => v.toFixed(0)).join(', ')})`);
console.log(`MessagePort ÷ piscina      ${(port / piscina).toFixed(2)}`);
await worker.terminate();
await pool.destroy();
rmSync(dir, { recursive: true, force: true });
