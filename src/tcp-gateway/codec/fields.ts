// Field-level reads and writes for the ISO 8583 codec. Every read is bounds-checked by need()
// before it touches bytes, which is why indexed reads below use non-null assertions.
import { CodecError } from './errors.js';
import type { CompiledField } from './table.js';
import {
  classAmount, classDigits, classPrintable, classTrack, kindAscii, kindBcd, kindBcdAmount, kindBinary,
  kindEbcdic, kindHex,
} from './table.js';

export type FieldValue = string | Uint8Array;

/** Largest decoded string: a 4-digit BCD length counted in packed bytes gives 2 * 9999 digits. */
const charsScratchMax = 2 * 9999 + 2;
// One scratch area for building decoded strings; decode is synchronous, so it is never shared.
const chars = Buffer.allocUnsafe(charsScratchMax);

const hexValue = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) hexValue[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  hexValue[0x41 + i] = 10 + i;
  hexValue[0x61 + i] = 10 + i;
}
const hexDigit = new Uint8Array([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46]);

export interface Reader {
  readonly bytes: Buffer;
  offset: number;
}

export interface Writer {
  readonly bytes: Buffer;
  offset: number;
  readonly limit: number;
}

export function need(r: Reader, count: number, field: number | null, what: string): void {
  const left = r.bytes.length - r.offset;
  if (count > left) {
    throw new CodecError('TRUNCATED', field, r.offset, `${what} needs ${count} bytes, ${left} left`);
  }
}

export function ensure(w: Writer, count: number, field: number): void {
  if (w.offset + count > w.limit) {
    throw new CodecError('MESSAGE_TOO_LONG', field, w.offset, `message would exceed messageBytesMax ${w.limit}`);
  }
}

/** True when the character code belongs to the class at position `index` of the value. */
function allowed(charClass: number, code: number, index: number): boolean {
  switch (charClass) {
    case classDigits: return code >= 0x30 && code <= 0x39;
    case classAmount:
      return index === 0 ? code === 0x43 || code === 0x44 : code >= 0x30 && code <= 0x39;
    case classPrintable:
    case classTrack:
    default:
      return code >= 0x20 && code <= 0x7e;
  }
}

function describe(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

function checkClass(f: CompiledField, source: Uint8Array, start: number, count: number, offset: number): void {
  for (let i = 0; i < count; i++) {
    const code = source[start + i]!;
    if (!allowed(f.charClass, code, i)) {
      throw new CodecError('BAD_ENCODING', f.number, offset + i, `${describe(code)} not allowed in ${f.spec.content} data`);
    }
  }
}

function readPrefix(r: Reader, f: CompiledField): number {
  need(r, f.prefixBytes, f.number, 'length prefix');
  const b = r.bytes;
  const at = r.offset;
  let value = 0;
  if (f.prefixEncoding === 'binary') {
    value = f.prefixBytes === 1 ? b[at]! : (b[at]! << 8) | b[at + 1]!;
  } else if (f.prefixEncoding === 'bcd') {
    for (let i = 0; i < f.prefixBytes; i++) {
      const byte = b[at + i]!;
      const high = byte >> 4;
      const low = byte & 0x0f;
      if (high > 9 || low > 9) throw new CodecError('BAD_LENGTH', f.number, at + i, `BCD length byte ${describe(byte)}`);
      value = value * 100 + high * 10 + low;
    }
    if (value >= 10 ** f.prefixDigits) {
      throw new CodecError('BAD_LENGTH', f.number, at, `BCD length ${value} has more than ${f.prefixDigits} digits`);
    }
  } else {
    const zero = f.prefixEncoding === 'ebcdic' ? 0xf0 : 0x30;
    for (let i = 0; i < f.prefixBytes; i++) {
      const digit = b[at + i]! - zero;
      if (digit < 0 || digit > 9) {
        throw new CodecError('BAD_LENGTH', f.number, at + i, `length prefix byte ${describe(b[at + i]!)} is not a digit`);
      }
      value = value * 10 + digit;
    }
  }
  if (value > f.maxLength) {
    throw new CodecError('FIELD_TOO_LONG', f.number, at, `length ${value} exceeds maxLength ${f.maxLength}`);
  }
  r.offset = at + f.prefixBytes;
  return value;
}

function readText(r: Reader, f: CompiledField, count: number): string {
  need(r, count, f.number, 'field data');
  const at = r.offset;
  r.offset = at + count;
  if (f.ebcdic === null) {
    checkClass(f, r.bytes, at, count, at);
    return r.bytes.toString('latin1', at, at + count);
  }
  const toChar = f.ebcdic.toChar;
  for (let i = 0; i < count; i++) chars[i] = toChar[r.bytes[at + i]!]!;
  checkClass(f, chars, 0, count, at);
  return chars.toString('latin1', 0, count);
}

/** Unpacks `digits` BCD digits at r.offset into chars[into..]; skips the filler nibble of an odd count. */
function unpackBcd(r: Reader, f: CompiledField, digits: number, into: number): number {
  const wire = (digits + 1) >> 1;
  need(r, wire, f.number, 'BCD data');
  const b = r.bytes;
  const at = r.offset;
  const odd = (digits & 1) === 1;
  const hexAllowed = f.charClass === classTrack;
  let n = into;
  for (let i = 0; i < wire; i++) {
    const byte = b[at + i]!;
    const skipHigh = odd && f.bcdPadLeft && i === 0;
    const skipLow = odd && !f.bcdPadLeft && i === wire - 1;
    const high = byte >> 4;
    const low = byte & 0x0f;
    if ((!skipHigh && high > 9 && !hexAllowed) || (!skipLow && low > 9 && !hexAllowed)) {
      throw new CodecError('BAD_ENCODING', f.number, at + i, `BCD byte ${describe(byte)} holds a non-digit nibble`);
    }
    if (!skipHigh) chars[n++] = hexDigit[high]!;
    if (!skipLow) chars[n++] = hexDigit[low]!;
  }
  r.offset = at + wire;
  return n;
}

function readBcd(r: Reader, f: CompiledField, count: number): string {
  const digits = f.countsPackedBytes ? count * 2 : count;
  const n = unpackBcd(r, f, digits, 0);
  return chars.toString('latin1', 0, n);
}

function readBcdAmount(r: Reader, f: CompiledField, count: number): string {
  need(r, 1, f.number, 'amount sign');
  const sign = r.bytes[r.offset]!;
  if (sign !== 0x43 && sign !== 0x44) {
    throw new CodecError('BAD_ENCODING', f.number, r.offset, `amount sign ${describe(sign)} is not C or D`);
  }
  chars[0] = sign;
  r.offset += 1;
  const n = unpackBcd(r, f, count - 1, 1);
  return chars.toString('latin1', 0, n);
}

function readBinary(r: Reader, f: CompiledField, count: number): Uint8Array {
  need(r, count, f.number, 'binary data');
  const at = r.offset;
  r.offset = at + count;
  // A copy: the caller's frame buffer may be reused, a decoded message must not change under it.
  return Uint8Array.prototype.slice.call(r.bytes, at, at + count);
}

function readHex(r: Reader, f: CompiledField, count: number): Uint8Array {
  if (!f.countsPackedBytes && (count & 1) === 1) {
    throw new CodecError('BAD_LENGTH', f.number, r.offset, `odd hex character count ${count}`);
  }
  const size = f.countsPackedBytes ? count : count >> 1;
  need(r, size * 2, f.number, 'hex data');
  const b = r.bytes;
  const at = r.offset;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const high = hexValue[b[at + 2 * i]!]!;
    const low = hexValue[b[at + 2 * i + 1]!]!;
    if (high < 0 || low < 0) throw new CodecError('BAD_ENCODING', f.number, at + 2 * i, 'not a hex digit pair');
    out[i] = (high << 4) | low;
  }
  r.offset = at + size * 2;
  return out;
}

export function readField(r: Reader, f: CompiledField): FieldValue {
  const count = f.fixed ? f.maxLength : readPrefix(r, f);
  switch (f.kind) {
    case kindAscii:
    case kindEbcdic: return readText(r, f, count);
    case kindBcd: return readBcd(r, f, count);
    case kindBcdAmount: return readBcdAmount(r, f, count);
    case kindBinary: return readBinary(r, f, count);
    case kindHex:
    default: return readHex(r, f, count);
  }
}

// ---------------------------------------------------------------------------------------------
// Writes.

function writePrefix(w: Writer, f: CompiledField, count: number): void {
  ensure(w, f.prefixBytes, f.number);
  const b = w.bytes;
  const at = w.offset;
  if (f.prefixEncoding === 'binary') {
    if (f.prefixBytes === 1) b[at] = count;
    else {
      b[at] = count >> 8;
      b[at + 1] = count & 0xff;
    }
  } else if (f.prefixEncoding === 'bcd') {
    let rest = count;
    for (let i = f.prefixBytes - 1; i >= 0; i--) {
      const pair = rest % 100;
      rest = Math.floor(rest / 100);
      b[at + i] = ((pair / 10) << 4) | pair % 10;
    }
  } else {
    const zero = f.prefixEncoding === 'ebcdic' ? 0xf0 : 0x30;
    let rest = count;
    for (let i = f.prefixBytes - 1; i >= 0; i--) {
      b[at + i] = zero + (rest % 10);
      rest = Math.floor(rest / 10);
    }
  }
  w.offset = at + f.prefixBytes;
}

function writeText(w: Writer, f: CompiledField, text: string): void {
  const count = text.length;
  ensure(w, count, f.number);
  const b = w.bytes;
  const at = w.offset;
  const toByte = f.ebcdic === null ? null : f.ebcdic.toByte;
  for (let i = 0; i < count; i++) {
    const code = text.charCodeAt(i);
    if (!allowed(f.charClass, code, i)) {
      throw new CodecError('BAD_ENCODING', f.number, at + i, `character ${describe(code)} not allowed in ${f.spec.content} data`);
    }
    b[at + i] = toByte === null ? code : toByte[code]!;
  }
  w.offset = at + count;
}

function nibbleOf(f: CompiledField, text: string, index: number, offset: number): number {
  const code = text.charCodeAt(index);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (f.charClass === classTrack) {
    if (code >= 0x41 && code <= 0x46) return code - 0x37;
    if (code === 0x3d) return 0x0d; // '=' field separator of track 2 travels as nibble D
  }
  throw new CodecError('BAD_ENCODING', f.number, offset, `character ${describe(code)} cannot be packed as BCD`);
}

/** Packs text[from..] as BCD, filler nibble 0 on the side the field says. */
function packBcd(w: Writer, f: CompiledField, text: string, from: number): void {
  const digits = text.length - from;
  const wire = (digits + 1) >> 1;
  ensure(w, wire, f.number);
  const b = w.bytes;
  const at = w.offset;
  const lead = (digits & 1) === 1 && f.bcdPadLeft ? 1 : 0;
  for (let i = 0; i < wire; i++) {
    const first = 2 * i - lead;
    const second = first + 1;
    const high = first < 0 ? 0 : nibbleOf(f, text, from + first, at + i);
    const low = second >= digits ? 0 : nibbleOf(f, text, from + second, at + i);
    b[at + i] = (high << 4) | low;
  }
  w.offset = at + wire;
}

function writeBcdAmount(w: Writer, f: CompiledField, text: string): void {
  const sign = text.charCodeAt(0);
  if (sign !== 0x43 && sign !== 0x44) {
    throw new CodecError('BAD_ENCODING', f.number, w.offset, `amount must start with C or D, not ${describe(sign)}`);
  }
  ensure(w, 1, f.number);
  w.bytes[w.offset] = sign;
  w.offset += 1;
  packBcd(w, f, text, 1);
}

/** Length of a string value in the field's length unit. */
function countOfText(f: CompiledField, length: number): number {
  return f.kind === kindBcd && f.countsPackedBytes ? (length + 1) >> 1 : length;
}

function padFixed(w: Writer, f: CompiledField, text: string): string {
  const target = f.kind === kindBcd && f.countsPackedBytes ? f.maxLength * 2 : f.maxLength;
  switch (f.padding) {
    case 'left-zero': return '0'.repeat(target - text.length) + text;
    case 'right-space': return text + ' '.repeat(target - text.length);
    case 'none':
    default:
      throw new CodecError('BAD_LENGTH', f.number, w.offset, `fixed field needs ${f.maxLength}, value has ${text.length}`);
  }
}

function writeTextField(w: Writer, f: CompiledField, value: string): void {
  let text = value;
  const count = countOfText(f, text.length);
  if (count > f.maxLength) {
    throw new CodecError('FIELD_TOO_LONG', f.number, w.offset, `length ${count} exceeds maxLength ${f.maxLength}`);
  }
  if (!f.fixed) writePrefix(w, f, count);
  else if (count < f.maxLength) text = padFixed(w, f, text);
  switch (f.kind) {
    case kindBcd: packBcd(w, f, text, 0); return;
    case kindBcdAmount: writeBcdAmount(w, f, text); return;
    default: writeText(w, f, text);
  }
}

function writeBytesField(w: Writer, f: CompiledField, value: Uint8Array): void {
  const size = value.length;
  const count = f.kind === kindHex && !f.countsPackedBytes ? size * 2 : size;
  if (count > f.maxLength) {
    throw new CodecError('FIELD_TOO_LONG', f.number, w.offset, `length ${count} exceeds maxLength ${f.maxLength}`);
  }
  if (f.fixed && count !== f.maxLength) {
    throw new CodecError('BAD_LENGTH', f.number, w.offset, `fixed field needs ${f.maxLength}, value has ${count}`);
  }
  if (!f.fixed) writePrefix(w, f, count);
  const b = w.bytes;
  if (f.kind === kindBinary) {
    ensure(w, size, f.number);
    b.set(value, w.offset);
    w.offset += size;
    return;
  }
  ensure(w, size * 2, f.number);
  const at = w.offset;
  for (let i = 0; i < size; i++) {
    const byte = value[i]!;
    b[at + 2 * i] = hexDigit[byte >> 4]!;
    b[at + 2 * i + 1] = hexDigit[byte & 0x0f]!;
  }
  w.offset = at + size * 2;
}

export function writeField(w: Writer, f: CompiledField, value: FieldValue): void {
  const wantsBytes = f.kind === kindBinary || f.kind === kindHex;
  if (wantsBytes) {
    if (!(value instanceof Uint8Array)) {
      throw new CodecError('BAD_VALUE', f.number, w.offset, 'binary field needs a Uint8Array value');
    }
    writeBytesField(w, f, value);
    return;
  }
  if (typeof value !== 'string') {
    throw new CodecError('BAD_VALUE', f.number, w.offset, `${f.spec.content} field needs a string value`);
  }
  writeTextField(w, f, value);
}

