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
  | { kind: 'ready'; shard: number; headSeq: number; threadId?: number }
  /** One durable batch: the ids of the requests in it, how many commands each held, and their outcomes in order. */
  | { kind: 'results'; requests: number[]; counts: number[]; outcomes: Outcome[] }
  | { kind: 'closed' }
  /** A fault outside any one command (a batch or an expiry sweep failed as a whole); the writer goes on. */
  | { kind: 'fault'; message: string; clock?: boolean };

// Records off: each message stands alone, so no structure table has to be shared across threads.
const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeMessage(message: ToWriter | FromWriter): Uint8Array {
  return packr.pack(message);
}

/**
 * Posts a message as its own exact-size buffer, transferred rather than cloned: msgpackr packs into
 * a shared 8 KiB (or larger) scratch buffer, and posting a view of it would copy all of it.
 */
export function postEncoded(port: MessageTarget, message: ToWriter | FromWriter): void {
  postPacked(port, encodeMessage(message));
}

/** Posts bytes from encodeMessage (a view of msgpackr's scratch buffer) as their own transferred copy. */
export function postPacked(port: MessageTarget, packed: Uint8Array): void {
  const bytes = Uint8Array.prototype.slice.call(packed);
  port.postMessage(bytes, [bytes.buffer]);
}

type MessageTarget = { postMessage(value: unknown, transfer?: readonly ArrayBuffer[]): void };

export function decodeMessage<T extends ToWriter | FromWriter>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/**
 * What both engines (a pool writer, the inline engine) say of a fault outside any one command:
 * to the batch's callers, and to onWriterFault.
 */
export const faultText = {
  batch: (error: unknown): string => `the batch failed and nothing of it was committed: ${error instanceof Error ? error.message : String(error)}`,
  sweep: (error: unknown): string => `the expiry sweep failed: ${error instanceof Error ? error.message : String(error)}`,
};
