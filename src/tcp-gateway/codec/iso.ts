// ISO 8583 message codec: bytes <-> { mti, header?, fields } driven by a compiled dialect table.
// Pure: no I/O, no logging, no clocks. Every failure is a CodecError with field and byte offset.
import type { IsoDialect } from '../dialect/types.js';
import { fieldNumberMax, messageBytesMaxCeiling } from '../dialect/types.js';
import { CodecError } from './errors.js';
import { ensure, need, readField, writeField } from './fields.js';
import type { FieldValue, Reader, Writer } from './fields.js';
import { compileDialect } from './table.js';
import type { CompiledDialect } from './table.js';

export interface IsoMessage {
  readonly mti: string;
  /** The dialect's fixed header (e.g. TPDU), present exactly when the dialect declares one. */
  readonly header?: Uint8Array;
  /** Field number (2..128) to value: a string, or a Uint8Array for content `b`. */
  readonly fields: ReadonlyMap<number, FieldValue>;
}

const mtiDigitsCount = 4;
const bitmapBytes = 8;
const hexNibble = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) hexNibble[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  hexNibble[0x41 + i] = 10 + i;
  hexNibble[0x61 + i] = 10 + i;
}
const hexDigit = '0123456789ABCDEF';

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads the 4 MTI digits at r.offset, or returns null with r.offset unchanged when they are not digits. */
function readMtiDigits(r: Reader, c: CompiledDialect): string | null {
  const b = r.bytes;
  const at = r.offset;
  let mti = '';
  if (c.mtiEncoding === 'bcd') {
    for (let i = 0; i < 2; i++) {
      const byte = b[at + i]!;
      if (byte >> 4 > 9 || (byte & 0x0f) > 9) return null;
      mti += hexDigit[byte >> 4]! + hexDigit[byte & 0x0f]!;
    }
  } else {
    const zero = c.mtiEncoding === 'ebcdic' ? 0xf0 : 0x30;
    for (let i = 0; i < mtiDigitsCount; i++) {
      const digit = b[at + i]! - zero;
      if (digit < 0 || digit > 9) return null;
      mti += hexDigit[digit]!;
    }
  }
  r.offset = at + c.mtiBytes;
  return mti;
}

/**
 * The MTI of a frame that may be malformed past it, or null when even the MTI is unreadable. Lets
 * the transport answer a format error (response code 30) with the matching response MTI.
 */
export function peekMti(bytes: Uint8Array, dialect: IsoDialect): string | null {
  const c = compileDialect(dialect);
  if (bytes.length < c.headerBytes + c.mtiBytes) return null;
  return readMtiDigits({ bytes: toBuffer(bytes), offset: c.headerBytes }, c);
}

/** Reads one 64-bit bitmap into words[index], words[index + 1] (bit 1 = most significant). */
function readBitmap(r: Reader, c: CompiledDialect, words: Uint32Array, index: number): void {
  const b = r.bytes;
  const at = r.offset;
  if (!c.bitmapHex) {
    need(r, bitmapBytes, 1, 'bitmap');
    words[index] = b.readUInt32BE(at);
    words[index + 1] = b.readUInt32BE(at + 4);
    r.offset = at + bitmapBytes;
    return;
  }
  need(r, bitmapBytes * 2, 1, 'hex bitmap');
  for (let word = 0; word < 2; word++) {
    let value = 0;
    for (let i = 0; i < 8; i++) {
      const nibble = hexNibble[b[at + word * 8 + i]!]!;
      if (nibble < 0) throw new CodecError('BAD_BITMAP', 1, at + word * 8 + i, 'bitmap character is not hex');
      value = (value << 4) | nibble;
    }
    words[index + word] = value >>> 0;
  }
  r.offset = at + bitmapBytes * 2;
}

/** Field numbers announced by the bitmap, ascending; every one must be defined by the dialect. */
function announcedFields(c: CompiledDialect, words: Uint32Array, words64Count: number, bitmapOffset: number): number[] {
  const numbers: number[] = [];
  for (let index = 0; index < words64Count * 2; index++) {
    let word = words[index]! | 0;
    while (word !== 0) {
      const lead = Math.clz32(word);
      word &= ~(0x80000000 >>> lead);
      const number = index * 32 + lead + 1;
      if (number === 1) continue; // the secondary bitmap indicator
      if (c.fields[number] === undefined) {
        throw new CodecError('UNKNOWN_FIELD', number, bitmapOffset, `bitmap announces field ${number}, not in dialect ${c.dialect.name}`);
      }
      numbers.push(number);
    }
  }
  return numbers;
}

export function decode(bytes: Uint8Array, dialect: IsoDialect): IsoMessage {
  const c = compileDialect(dialect);
  // The dialect's bound holds for what it reads as for what it writes, whatever the framing allowed.
  if (bytes.length > c.messageBytesMax) {
    throw new CodecError('MESSAGE_TOO_LONG', null, c.messageBytesMax, `message of ${bytes.length} bytes exceeds messageBytesMax ${c.messageBytesMax}`);
  }
  const r: Reader = { bytes: toBuffer(bytes), offset: 0 };
  let header: Uint8Array | undefined;
  if (c.headerBytes > 0) {
    need(r, c.headerBytes, null, 'header');
    header = Uint8Array.prototype.slice.call(r.bytes, 0, c.headerBytes);
    r.offset = c.headerBytes;
  }
  need(r, c.mtiBytes, 0, 'MTI');
  const mtiOffset = r.offset;
  const mti = readMtiDigits(r, c);
  if (mti === null) throw new CodecError('BAD_MTI', 0, mtiOffset, 'MTI is not four digits');
  const bitmapOffset = r.offset;
  const words = new Uint32Array(4);
  readBitmap(r, c, words, 0);
  const hasSecondary = (words[0]! & 0x80000000) !== 0;
  if (hasSecondary) readBitmap(r, c, words, 2);
  const fields = new Map<number, FieldValue>();
  for (const number of announcedFields(c, words, hasSecondary ? 2 : 1, bitmapOffset)) {
    fields.set(number, readField(r, c.fields[number]!));
  }
  if (r.offset !== r.bytes.length) {
    throw new CodecError('TRAILING_BYTES', null, r.offset, `${r.bytes.length - r.offset} bytes after the last field`);
  }
  return header === undefined ? { mti, fields } : { mti, header, fields };
}

// One output scratch area, sized for the largest allowed message; encode is synchronous, so it is
// never shared, and each result is copied out of it.
const output = Buffer.allocUnsafe(messageBytesMaxCeiling);

function writeMti(w: Writer, c: CompiledDialect, mti: string): void {
  if (mti.length !== mtiDigitsCount || !/^[0-9]{4}$/.test(mti)) {
    throw new CodecError('BAD_MTI', 0, w.offset, `MTI ${JSON.stringify(mti)} is not four digits`);
  }
  ensure(w, c.mtiBytes, 0);
  const b = w.bytes;
  const at = w.offset;
  if (c.mtiEncoding === 'bcd') {
    b[at] = ((mti.charCodeAt(0) - 0x30) << 4) | (mti.charCodeAt(1) - 0x30);
    b[at + 1] = ((mti.charCodeAt(2) - 0x30) << 4) | (mti.charCodeAt(3) - 0x30);
  } else {
    const shift = c.mtiEncoding === 'ebcdic' ? 0xc0 : 0; // EBCDIC digits are 0xF0..0xF9
    for (let i = 0; i < mtiDigitsCount; i++) b[at + i] = mti.charCodeAt(i) + shift;
  }
  w.offset = at + c.mtiBytes;
}

function writeBitmap(w: Writer, c: CompiledDialect, high: number, low: number): void {
  const b = w.bytes;
  const at = w.offset;
  if (!c.bitmapHex) {
    ensure(w, bitmapBytes, 1);
    b.writeUInt32BE(high >>> 0, at);
    b.writeUInt32BE(low >>> 0, at + 4);
    w.offset = at + bitmapBytes;
    return;
  }
  ensure(w, bitmapBytes * 2, 1);
  for (let i = 0; i < 8; i++) {
    b[at + i] = hexDigit.charCodeAt((high >>> (28 - 4 * i)) & 0x0f);
    b[at + 8 + i] = hexDigit.charCodeAt((low >>> (28 - 4 * i)) & 0x0f);
  }
  w.offset = at + bitmapBytes * 2;
}

/** Sorted field numbers of a message, each checked against the dialect. */
function fieldNumbersOf(c: CompiledDialect, message: IsoMessage, offset: number): number[] {
  const numbers = Array.from(message.fields.keys()).sort((a, b) => a - b);
  for (const number of numbers) {
    if (!Number.isInteger(number) || number < 2 || number > fieldNumberMax || c.fields[number] === undefined) {
      const why = number === 1 ? 'field 1 is the secondary bitmap, derived from the fields' : `not in dialect ${c.dialect.name}`;
      throw new CodecError('UNKNOWN_FIELD', number, offset, why);
    }
  }
  return numbers;
}

function writeHeader(w: Writer, c: CompiledDialect, header: Uint8Array | undefined): void {
  if (c.headerBytes === 0) {
    if (header !== undefined) throw new CodecError('BAD_HEADER', null, 0, `dialect ${c.dialect.name} has no header`);
    return;
  }
  if (header?.length !== c.headerBytes) {
    throw new CodecError('BAD_HEADER', null, 0, `dialect ${c.dialect.name} needs a ${c.headerBytes}-byte header`);
  }
  ensure(w, c.headerBytes, 0);
  w.bytes.set(header, 0);
  w.offset = c.headerBytes;
}

export function encode(message: IsoMessage, dialect: IsoDialect): Uint8Array {
  const c = compileDialect(dialect);
  const w: Writer = { bytes: output, offset: 0, limit: c.messageBytesMax };
  writeHeader(w, c, message.header);
  writeMti(w, c, message.mti);
  const numbers = fieldNumbersOf(c, message, w.offset);
  const words = new Uint32Array(4);
  for (const number of numbers) words[(number - 1) >> 5]! |= 0x80000000 >>> ((number - 1) & 31);
  // The secondary bitmap travels only when a field above 64 does.
  const hasSecondary = (words[2]! | words[3]!) !== 0;
  if (hasSecondary) words[0]! |= 0x80000000;
  writeBitmap(w, c, words[0]!, words[1]!);
  if (hasSecondary) writeBitmap(w, c, words[2]!, words[3]!);
  for (const number of numbers) writeField(w, c.fields[number]!, message.fields.get(number)!);
  return Uint8Array.prototype.slice.call(output, 0, w.offset);
}
