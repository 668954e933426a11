// Card data kept out of logs: PANs masked to first 6 / last 4, track data, PIN blocks and ICC
// data replaced by their length. Used on every path that would write a message somewhere.
import type { FieldValue } from './codec/fields.js';
import type { IsoMessage } from './codec/iso.js';
import type { IsoDialect } from './dialect/types.js';

/** Fields redacted whatever the dialect says: track 2, track 3, track 1, PIN block, ICC data. */
export const alwaysRedactedFields: ReadonlySet<number> = new Set([35, 36, 45, 52, 55]);
export const panField = 2;
/** Fields that carry a PAN, masked like field 2: the PAN, and the extended PAN (34). */
export const panFields: ReadonlySet<number> = new Set([panField, 34]);
/** Below this length, first 6 + last 4 would reveal too much of the number; only the last 4 show. */
const panLengthForBinMin = 13;

/**
 * Masks a PAN: first 6 and last 4 kept, the rest as '*'. Shorter values (not real PANs, but seen
 * in test traffic) keep only their last 4, and values of 4 or fewer characters are fully masked.
 */
export function maskPan(pan: string): string {
  const length = pan.length;
  if (length >= panLengthForBinMin) return pan.slice(0, 6) + '*'.repeat(length - 10) + pan.slice(-4);
  if (length > 4) return '*'.repeat(length - 4) + pan.slice(-4);
  return '*'.repeat(length);
}

export interface LoggableMessage {
  readonly mti: string;
  readonly header?: string;
  /** Field number to text: binary fields as uppercase hex, sensitive ones as "[REDACTED len=N]". */
  readonly fields: Readonly<Record<string, string>>;
}

function lengthOf(value: FieldValue): number {
  return value.length;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/**
 * A copy of a decoded message that is safe to log: fields 2 and 34 masked, fields 35, 36, 45, 52, 55 and
 * any field the dialect marks sensitive replaced with "[REDACTED len=N]" (N in characters, or
 * bytes for binary values). Plain JSON-friendly data, so any logger can serialise it.
 */
export function redact(message: IsoMessage, dialect?: IsoDialect): LoggableMessage {
  const fields: Record<string, string> = {};
  for (const [number, value] of message.fields) {
    const sensitive = alwaysRedactedFields.has(number) || dialect?.fields[number]?.sensitive === true;
    if (panFields.has(number) && typeof value === 'string') fields[number] = maskPan(value);
    else if (sensitive || panFields.has(number)) fields[number] = `[REDACTED len=${lengthOf(value)}]`;
    else fields[number] = typeof value === 'string' ? value : hex(value);
  }
  return message.header === undefined
    ? { mti: message.mti, fields }
    : { mti: message.mti, header: hex(message.header), fields };
}
