/**
 * The single writer of one shard, run in its own worker thread. It drains its queue in batches
 * (bounded by batchCommandsMax; time-bounded because a batch is cut as soon as a pipeline slot
 * frees, i.e. when the commit before it ends) and commits each batch as one durable LMDB transaction, then answers every command
 * in it. It also releases expired holds on a timer. Nothing else ever writes this shard.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ledger, limits } from '../ledger/index.js';
import type { Policy } from '../ledger/index.js';
import { decodeMessage, encodeMessage } from './messages.js';
import type { FromWriter, ToWriter } from './messages.js';

export interface WriterData {
  shard: number;
  path: string;
  batchCommandsMax: number;
  expirySweepIntervalMs: number;
  defaultPolicy: Partial<Policy>;
  idempotencyRetentionMs: number;
  idempotencyRecordsMax: number;
}

const port = parentPort;
if (port === null) throw new Error('shard-worker must run in a worker thread');
const data = workerData as WriterData;
const ledger = Ledger.open({
  path: data.path,
  defaultPolicy: data.defaultPolicy,
  idempotencyRetentionMs: data.idempotencyRetentionMs,
  idempotencyRecordsMax: data.idempotencyRecordsMax,
});
const batchCommandsMax = Math.min(data.batchCommandsMax, limits.batchCommandsMax);
const pending: { id: number; envelopes: unknown[] }[] = [];
const batchesInFlightMax = 2;
let batchesInFlight = 0;
let closing = false;
let shutDown = false;

function send(message: FromWriter): void {
  port?.postMessage(encodeMessage(message));
}

/** Takes whole requests from the queue up to the batch bound (a lone oversized request goes alone). */
function takeBatch(): { id: number; envelopes: unknown[] }[] {
  const taken: { id: number; envelopes: unknown[] }[] = [];
  let count = 0;
  while (pending.length > 0) {
    const next = pending[0];
    if (next === undefined || (taken.length > 0 && count + next.envelopes.length > batchCommandsMax)) break;
    taken.push(next);
    count += next.envelopes.length;
    pending.shift();
  }
  return taken;
}

/**
 * Starts batches while fewer than batchesInFlightMax are in flight: one commits while the next is
 * decided (the ledger pipelines them), and what arrives meanwhile gathers into the batch after.
 */
function pump(): void {
  while (pending.length > 0 && batchesInFlight < batchesInFlightMax) {
    const requests = takeBatch();
    batchesInFlight += 1;
    void ledger.execute(requests.flatMap((request) => request.envelopes)).then((outcomes) => {
      let offset = 0;
      for (const request of requests) {
        send({ kind: 'result', id: request.id, outcomes: outcomes.slice(offset, offset + request.envelopes.length) });
        offset += request.envelopes.length;
      }
      send({ kind: 'committed', commands: outcomes.length, batches: 1 });
      batchesInFlight -= 1;
      pump();
    });
  }
  if (closing && batchesInFlight === 0 && pending.length === 0) void shutdown();
}

async function shutdown(): Promise<void> {
  if (shutDown) return;
  shutDown = true;
  clearInterval(sweepTimer);
  await ledger.close();
  send({ kind: 'closed' });
  port?.close();
}

const sweepTimer = setInterval(() => {
  if (batchesInFlight === 0 && pending.length === 0 && !closing) void ledger.expireDue();
}, data.expirySweepIntervalMs);

port.on('message', (bytes: Uint8Array) => {
  const message = decodeMessage<ToWriter>(bytes);
  if (message.kind === 'execute') {
    pending.push({ id: message.id, envelopes: message.envelopes });
    pump();
  } else {
    closing = true;
    pump();
  }
});

send({ kind: 'ready', shard: data.shard, headSeq: ledger.head().seq });
