/**
 * Messages between the pool and its shard writers, encoded with msgpackr (compact, typed, far
 * cheaper than JSON for these shapes). Each message is one Uint8Array posted on the worker port.
 */
import { Packr } from 'msgpackr';
import type { Outcome } from '../ledger/index.js';

export type ToWriter =
  | { kind: 'execute'; id: number; envelopes: unknown[] }
  | { kind: 'close' };

export type FromWriter =
  | { kind: 'ready'; shard: number; headSeq: number }
  | { kind: 'result'; id: number; outcomes: Outcome[] }
  | { kind: 'committed'; commands: number; batches: number }
  | { kind: 'closed' };

// Records off: each message stands alone, so no structure table has to be shared across threads.
const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeMessage(message: ToWriter | FromWriter): Uint8Array {
  return packr.pack(message);
}

export function decodeMessage<T extends ToWriter | FromWriter>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
