// Small helpers shared by the tcp-gateway tests.
import type { FieldValue, IsoMessage } from '../../src/tcp-gateway/codec/index.js';

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

export function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/** Field values as plain strings (binary as uppercase hex) so assertions compare exact values. */
export function plainFields(message: IsoMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [number, value] of message.fields) out[number] = typeof value === 'string' ? value : toHex(value);
  return out;
}

export function message(mti: string, fields: Record<number, FieldValue>, header?: Uint8Array): IsoMessage {
  const map = new Map<number, FieldValue>(Object.entries(fields).map(([k, v]) => [Number(k), v]));
  return header === undefined ? { mti, fields: map } : { mti, header, fields: map };
}

/** Deterministic pseudo-random numbers (xorshift32), so a failing chunking can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}
