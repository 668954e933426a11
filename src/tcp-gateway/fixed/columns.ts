// Column-level codec for fixed-length records, driven by a FixedRecordLayout table.
// Pure; failures are CodecErrors whose `field` is the 1-based record number in the message.
import { CodecError } from '../codec/errors.js';
import type { FixedColumn, FixedRecordLayout } from '../dialect/types.js';

export type ColumnValue = string | number;
export type ColumnValues = Record<string, ColumnValue>;

/** Largest integer a numeric column may hold without losing precision as a JS number. */
const integerDigitsMax = 15;

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

function columnError(column: FixedColumn, record: number, offset: number, detail: string): CodecError {
  return new CodecError('BAD_COLUMN', record, offset + column.start - 1, `column ${column.name} (${column.start}-${column.start + column.length - 1}): ${detail}`);
}

/** Value of one column from its text; `offset` is where the record starts in the message. */
function decodeColumn(column: FixedColumn, text: string, record: number, offset: number): ColumnValue {
  switch (column.type) {
    case 'n':
    case 'money':
      if (!isDigits(text)) throw columnError(column, record, offset, `${JSON.stringify(text)} is not zero-filled digits`);
      if (text.length > integerDigitsMax) throw columnError(column, record, offset, 'too many digits for an integer');
      return Number(text);
    case 'signed-money': {
      const sign = text[0];
      const digits = text.slice(1);
      if ((sign !== '+' && sign !== '-') || !isDigits(digits)) {
        throw columnError(column, record, offset, `${JSON.stringify(text)} is not a sign (+/-) and digits`);
      }
      const value = Number(digits);
      return sign === '-' && value !== 0 ? -value : value;
    }
    case 'digits':
      if (!isDigits(text)) throw columnError(column, record, offset, `${JSON.stringify(text)} is not digits`);
      return text;
    case 'code':
    case 'text': {
      if (!isPrintable(text)) throw columnError(column, record, offset, 'holds a byte outside printable ASCII');
      const trimmed = text.trimEnd();
      if (column.type === 'code' && !(column.values ?? []).includes(trimmed)) {
        throw columnError(column, record, offset, `${JSON.stringify(trimmed)} is not one of ${(column.values ?? []).join(', ')}`);
      }
      return trimmed;
    }
  }
}

function encodeNumber(column: FixedColumn, value: ColumnValue, record: number): string {
  const digitsLength = column.type === 'signed-money' ? column.length - 1 : column.length;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw columnError(column, record, 0, `${JSON.stringify(value)} is not an integer`);
  }
  const magnitude = Math.abs(value);
  const digits = String(magnitude);
  if (digits.length > digitsLength) throw columnError(column, record, 0, `${value} does not fit ${digitsLength} digits`);
  if (column.type !== 'signed-money' && value < 0) throw columnError(column, record, 0, `${value} is negative`);
  const filled = digits.padStart(digitsLength, '0');
  return column.type === 'signed-money' ? (value < 0 ? '-' : '+') + filled : filled;
}

function encodeColumn(column: FixedColumn, value: ColumnValue | undefined, record: number): string {
  if (value === undefined) throw columnError(column, record, 0, 'missing value');
  if (column.type === 'n' || column.type === 'money' || column.type === 'signed-money') {
    return encodeNumber(column, value, record);
  }
  if (typeof value !== 'string') throw columnError(column, record, 0, `${JSON.stringify(value)} is not a string`);
  if (value.length > column.length) throw columnError(column, record, 0, `${value.length} characters, column holds ${column.length}`);
  if (column.type === 'digits') {
    if (!isDigits(value)) throw columnError(column, record, 0, `${JSON.stringify(value)} is not digits`);
    return value.padStart(column.length, '0');
  }
  if (!isPrintable(value)) throw columnError(column, record, 0, 'holds a character outside printable ASCII');
  if (column.type === 'code' && !(column.values ?? []).includes(value)) {
    throw columnError(column, record, 0, `${JSON.stringify(value)} is not one of ${(column.values ?? []).join(', ')}`);
  }
  return value.padEnd(column.length, ' ');
}

/** Column values of one record's text (without its line end). */
export function decodeColumns(layout: FixedRecordLayout, text: string, record: number, offset: number): ColumnValues {
  if (text.length !== layout.lengthChars) {
    throw new CodecError('BAD_RECORD', record, offset, `${layout.recordType} record has ${text.length} characters, needs ${layout.lengthChars}`);
  }
  const values: ColumnValues = {};
  for (const column of layout.columns) {
    values[column.name] = decodeColumn(column, text.slice(column.start - 1, column.start - 1 + column.length), record, offset);
  }
  return values;
}

/** Text of one record (without its line end). */
export function encodeColumns(layout: FixedRecordLayout, values: Readonly<Record<string, ColumnValue | undefined>>, record: number): string {
  let text = '';
  for (const column of layout.columns) text += encodeColumn(column, values[column.name], record);
  return text;
}

/** Checks that a layout's columns tile the record exactly; run by tests and by the registry. */
export function layoutProblems(layout: FixedRecordLayout): string[] {
  const problems: string[] = [];
  let next = 1;
  for (const column of layout.columns) {
    if (column.start !== next) problems.push(`${layout.recordType}.${column.name} starts at ${column.start}, expected ${next}`);
    next = column.start + column.length;
  }
  if (next - 1 !== layout.lengthChars) problems.push(`${layout.recordType} columns end at ${next - 1}, record is ${layout.lengthChars}`);
  return problems;
}
