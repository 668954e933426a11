// Card data kept out of logs: PANs masked to first 6 / last 4, track data, PIN blocks and ICC
// data replaced by their length. Used on every path that would write a message somewhere.
import type { FieldValue } from './codec/fields.js';
import type { IsoMessage } from './codec/iso.js';
import type { IsoDialect } from './dialect/types.js';
import { alwaysRedactedFields, maskPan, panFields } from '../security/card-data.js';

export { alwaysRedactedFields, maskPan } from '../security/card-data.js';

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
    const pan = panFields.has(number);
    const sensitive = pan || alwaysRedactedFields.has(number) || dialect?.fields[number]?.sensitive === true;
    if (pan && typeof value === 'string') fields[number] = maskPan(value);
    else if (sensitive) fields[number] = `[REDACTED len=${lengthOf(value)}]`;
    else fields[number] = typeof value === 'string' ? value : hex(value);
  }
  return message.header === undefined
    ? { mti: message.mti, fields }
    : { mti: message.mti, header: hex(message.header), fields };
}
