/**
 * The single writer of one shard, run in its own worker thread. It drains its queue in batches
 * (bounded by batchCommandsMax; time-bounded because a batch is cut as soon as the one before it
 * is durable) and commits each batch as one durable LMDB transaction, then answers every command
 * in it. It also releases expired holds on a timer. Nothing else ever writes this shard.
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Ledger } from '../ledger/index.js';
import type { BatchLedger, Outcome, Policy } from '../ledger/index.js';
import { decodeMessage, faultText, postEncoded } from './messages.js';
import type { FromWriter, ToWriter } from './messages.js';

export interface WriterData {
  shard: number;
  path: string;
  /** The pool's bound in force (batchBound), which its messages never exceed. */
  batchCommandsMax: number;
  expirySweepIntervalMs: number;
  defaultPolicy: Partial<Policy>;
  idempotencyRetentionMs: number;
  idempotencyRecordsMax: number;
  mapSizeBytes?: number;
  /**
   * Benchmarks only (the node never sets it): a module whose openBatchLedger(data) gives the ledger
   * this writer runs in place of the real one, with the same batching, messages and commits around it.
   */
  ledgerModule?: { url: string; options?: unknown };
}

/** What a ledgerModule exports. */
export type OpenBatchLedger = (data: WriterData) => BatchLedger;

const port = parentPort;
if (port === null) throw new Error('shard-worker must run in a worker thread');
const data = workerData as WriterData;
const ledger: BatchLedger = data.ledgerModule === undefined
  ? Ledger.open({
    path: data.path,
    defaultPolicy: data.defaultPolicy,
    idempotencyRetentionMs: data.idempotencyRetentionMs,
    idempotencyRecordsMax: data.idempotencyRecordsMax,
    ...(data.mapSizeBytes === undefined ? {} : { mapSizeBytes: data.mapSizeBytes }),
  })
  : ((await import(data.ledgerModule.url)) as { openBatchLedger: OpenBatchLedger }).openBatchLedger(data);
const batchCommandsMax = data.batchCommandsMax;
const pending: { id: number; envelopes: unknown[] }[] = [];
let batchRunning = false;
let pumpScheduled = false;
let closing = false;
let shutDown = false;

function send(message: FromWriter): void {
  if (port !== null) postEncoded(port, message);
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
 * Runs one batch at a time. The commit is synchronous (it holds this thread through the fsync), so
 * a second batch in flight could not overlap it; instead, what arrives during a batch (usually one
 * message: the pool gathers the rest; more while the pool closes) becomes the next batches. The pump runs from setImmediate, after every message already
 * delivered this turn, so a burst becomes one batch rather than a batch of one and then the rest.
 */
function schedulePump(): void {
  if (pumpScheduled || batchRunning) return;
  pumpScheduled = true;
  setImmediate(pump);
}

function pump(): void {
  pumpScheduled = false;
  if (batchRunning) return;
  if (pending.length > 0) {
    const requests = takeBatch();
    batchRunning = true;
    const envelopes = requests.flatMap((request) => request.envelopes);
    void ledger.execute(envelopes).catch((error: unknown) => {
      // A fault outside any one command (a read of the expiry index or the journal failed): nothing
      // of the batch was committed, and its callers hear so now rather than when the thread dies.
      const message = faultText.batch(error);
      send({ kind: 'fault', message });
      return envelopes.map((): Outcome => ({ ok: false, error: { code: 'INTERNAL', message } }));
    }).then((outcomes) => {
      // One message per batch: every request's outcomes, and the commit count for the pool's stats.
      send({ kind: 'results', requests: requests.map((request) => request.id), counts: requests.map((request) => request.envelopes.length), outcomes });
      batchRunning = false;
      // A commit failed (disk full, I/O error): this ledger refuses every write from now on. The
      // writer stops, so the pool fails what it holds as retryable and starts a new writer, which
      // reopens the shard from what is durable (and stops again while the disk still fails).
      if (ledger.failed) {
        void stopAfterFailure();
        return;
      }
      if (pending.length > 0) schedulePump();
      else if (closing) void shutdown();
    });
    return;
  }
  if (closing) void shutdown();
}

async function stopAfterFailure(): Promise<void> {
  shutDown = true;
  clearInterval(sweepTimer);
  await ledger.close().catch(() => undefined);
  process.exit(1);
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
  if (batchRunning || pending.length > 0 || closing || shutDown) return;
  // A sweep is a batch of its own: a fault in it fails nothing else (the next batch sweeps again),
  // and a commit that failed in it stops the writer as after any other batch.
  batchRunning = true;
  void ledger.expireDue().catch((error: unknown) => {
    send({ kind: 'fault', message: faultText.sweep(error) });
  }).then(() => {
    batchRunning = false;
    if (ledger.failed) void stopAfterFailure();
    else schedulePump();
  });
}, data.expirySweepIntervalMs);

port.on('message', (bytes: Uint8Array) => {
  const message = decodeMessage<ToWriter>(bytes);
  if (message.kind === 'execute') {
    pending.push({ id: message.id, envelopes: message.envelopes });
    schedulePump();
  } else {
    closing = true;
    schedulePump();
  }
});

send({ kind: 'ready', shard: data.shard, headSeq: ledger.head().seq, ...threadIdField() });
if (ledger.clockWarning !== undefined) send({ kind: 'fault', message: ledger.clockWarning, clock: true });

/** This thread's Linux task id, from /proc/thread-self (absent off Linux). */
function threadIdField(): { threadId?: number } {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    return Number.isSafeInteger(tid) ? { threadId: tid } : {};
  } catch {
    return {};
  }
}
