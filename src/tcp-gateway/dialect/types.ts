// Declarative dialect tables for the legacy TCP gateway.
//
// A dialect says what the bytes mean; the codec (../codec) is the only code that reads bytes. A new
// register vendor's ISO 8583 flavour is a new table (TypeScript data or a JSON file checked by
// validateIsoDialect), never new codec code.
//
// Glossary: MTI = message type indicator, STAN = system trace audit number, PAN = primary account
// number, TPDU = transport protocol data unit (a fixed routing header in front of the MTI),
// BCD = binary-coded decimal (two digits per byte), SKU = stock keeping unit.

/** How a field's length is known: fixed, or a 2/3/4-digit length prefix in front of the data. */
export type FieldLengthType = 'fixed' | 'LLVAR' | 'LLLVAR' | 'LLLLVAR';

/**
 * What a field holds, checked on encode and decode.
 * - `n`: digits 0-9.
 * - `an`, `ans`: printable ASCII 0x20-0x7E. Registers routinely break the 1987 "an" class, so both
 *   are checked the same way; the distinction is kept only as documentation.
 * - `z`: track data (ISO 7813): printable ASCII; in BCD, digits plus nibbles A-F (`=` encodes as D).
 * - `xn`: a sign `C` (credit) or `D` (debit) followed by digits (ISO 8583 "x+n").
 * - `b`: raw bytes; decoded as a Uint8Array, never as a string.
 */
export type FieldContent = 'n' | 'an' | 'ans' | 'z' | 'xn' | 'b';

/**
 * How a field's data is written.
 * - `ascii`: one byte per character.
 * - `ebcdic`: one byte per character, EBCDIC code page from the dialect (`ebcdicCodePage`).
 * - `bcd`: two digits per byte (for `xn`, the sign stays one ASCII byte, as jPOS IFB_AMOUNT).
 * - `binary`: raw bytes (content `b` only).
 * - `hex-ascii`: raw bytes shown as two uppercase hex characters each (content `b` only).
 */
export type DataEncoding = 'ascii' | 'ebcdic' | 'bcd' | 'binary' | 'hex-ascii';

/** How a variable field's length prefix is written: decimal digits, BCD digits or an unsigned big-endian integer. */
export type PrefixEncoding = 'ascii' | 'ebcdic' | 'bcd' | 'binary';

/**
 * What the length (prefix value and maxLength) counts.
 * - `chars` / `digits`: characters of the value (digits for `n`; hex characters on the wire for
 *   `hex-ascii` binary fields).
 * - `bytes`: bytes of the value's packed form (BCD bytes, raw bytes of a binary field).
 */
export type LengthUnit = 'chars' | 'digits' | 'bytes';

/** What encode does with a fixed field whose value is shorter than the field. */
export type FixedPadding = 'left-zero' | 'right-space' | 'none';

/** Where the filler nibble of an odd number of BCD digits goes. */
export type BcdPadding = 'left' | 'right';

export interface FieldSpec {
  /** Human name, for documentation and error messages only. */
  readonly name?: string;
  readonly type: FieldLengthType;
  /** Exact length for fixed fields, maximum for variable ones, in `lengthUnit`. */
  readonly maxLength: number;
  readonly content: FieldContent;
  readonly encoding: DataEncoding;
  /** Required for variable fields, forbidden for fixed ones. */
  readonly prefix?: PrefixEncoding;
  /** Default: `bytes` for content `b`, `digits` for BCD, `chars` otherwise. */
  readonly lengthUnit?: LengthUnit;
  /** Default: `left-zero` for `n`, `right-space` for text, `none` for `b` and `xn`. */
  readonly padding?: FixedPadding;
  /** Default: `left` for fixed fields (jPOS IFB_NUMERIC), `right` for variable ones (IFB_LLNUM). */
  readonly bcdPadding?: BcdPadding;
  /** Card data that must never reach a log: pan.ts redacts it. */
  readonly sensitive?: boolean;
}

export type MtiEncoding = 'ascii' | 'ebcdic' | 'bcd';

/** `binary`: 8 raw bytes per bitmap; `hex-ascii`: 16 hex characters per bitmap. */
export type BitmapEncoding = 'binary' | 'hex-ascii';

export type EbcdicCodePage = 'cp037' | 'cp500';

export interface IsoDialect {
  readonly kind: 'iso8583';
  readonly name: string;
  readonly description?: string;
  readonly mtiEncoding: MtiEncoding;
  readonly bitmapEncoding: BitmapEncoding;
  /** Fixed-length header (e.g. a 5-byte TPDU) in front of the MTI, passed through as bytes. */
  readonly headerBytes?: number;
  /** Default cp500 (the code page jPOS and most hosts use for ISO 8583). */
  readonly ebcdicCodePage?: EbcdicCodePage;
  /** Bound on one encoded message, header included. Default messageBytesMaxDefault. */
  readonly messageBytesMax?: number;
  /** Field number (2..128) to its spec. Field 1 is the secondary bitmap and is never listed. */
  readonly fields: Readonly<Record<number, FieldSpec>>;
}

/** Default bound on one message; ISO 8583:1987 LLLVAR fields keep real messages far below it. */
export const messageBytesMaxDefault = 8192;
/** Hard ceiling for messageBytesMax: the largest value a 2-byte length header can carry. */
export const messageBytesMaxCeiling = 65535;
export const fieldNumberMax = 128;

// ---------------------------------------------------------------------------------------------
// fixed-v1: tillgate's own fixed-length record format (declared in fixed-v1.ts, codec in ../fixed).

/**
 * A column of a fixed-length record.
 * - `n`: zero-filled digits, value a number (a safe integer).
 * - `digits`: zero-filled digits kept as a string (times, codes whose leading zeros matter).
 * - `text`: blank-filled printable ASCII, right-trimmed on decode.
 * - `code`: text limited to `values`.
 * - `money`: zero-filled minor units with `impliedDecimals` implied decimals; value a number.
 * - `signed-money`: a sign column (`+` or `-`) then a `money` column; `length` counts both.
 */
export type FixedColumnType = 'n' | 'digits' | 'text' | 'code' | 'money' | 'signed-money';

export interface FixedColumn {
  readonly name: string;
  /** 1-based first column, as vendors' documents count. */
  readonly start: number;
  readonly length: number;
  readonly type: FixedColumnType;
  readonly values?: readonly string[];
  readonly impliedDecimals?: number;
  readonly description: string;
}

export interface FixedRecordLayout {
  readonly recordType: string;
  readonly description: string;
  readonly lengthChars: number;
  readonly columns: readonly FixedColumn[];
}

export interface FixedDialect {
  readonly kind: 'fixed';
  readonly name: string;
  readonly description?: string;
  readonly records: Readonly<Record<string, FixedRecordLayout>>;
}

export type Dialect = IsoDialect | FixedDialect;

// ---------------------------------------------------------------------------------------------
// Validation of dialects that arrive as data (JSON files): every problem found, each with its path.

export class DialectError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid dialect ${source}: ${problems.join('; ')}`);
    this.name = 'DialectError';
    this.problems = problems;
  }
}

const fieldLengthTypes: readonly string[] = ['fixed', 'LLVAR', 'LLLVAR', 'LLLLVAR'];
const fieldContents: readonly string[] = ['n', 'an', 'ans', 'z', 'xn', 'b'];
const dataEncodings: readonly string[] = ['ascii', 'ebcdic', 'bcd', 'binary', 'hex-ascii'];
const prefixEncodings: readonly string[] = ['ascii', 'ebcdic', 'bcd', 'binary'];
const lengthUnits: readonly string[] = ['chars', 'digits', 'bytes'];
const fixedPaddings: readonly string[] = ['left-zero', 'right-space', 'none'];
const bcdPaddings: readonly string[] = ['left', 'right'];
const fieldSpecKeys: readonly string[] = [
  'name', 'type', 'maxLength', 'content', 'encoding', 'prefix', 'lengthUnit', 'padding', 'bcdPadding',
  'sensitive',
];
const isoDialectKeys: readonly string[] = [
  'kind', 'name', 'description', 'mtiEncoding', 'bitmapEncoding', 'headerBytes', 'ebcdicCodePage',
  'messageBytesMax', 'fields',
];
/** A TPDU is 5 bytes; vendor headers seen in the field stay well below this bound. */
export const headerBytesMax = 64;

/** Number of decimal digits in a length prefix. */
export function prefixDigitsOf(type: FieldLengthType): number {
  switch (type) {
    case 'fixed': return 0;
    case 'LLVAR': return 2;
    case 'LLLVAR': return 3;
    case 'LLLLVAR': return 4;
  }
}

/** Largest length a prefix can carry: 10^digits - 1 in decimal forms, 2^(8*bytes) - 1 in binary. */
export function prefixCapacity(type: FieldLengthType, prefix: PrefixEncoding): number {
  const digits = prefixDigitsOf(type);
  if (prefix === 'binary') return digits === 2 ? 0xff : 0xffff;
  return 10 ** digits - 1;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkEnum(problems: string[], path: string, value: unknown, allowed: readonly string[], required: boolean): void {
  if (value === undefined) {
    if (required) problems.push(`${path}: required, one of ${allowed.join(' | ')}`);
    return;
  }
  if (typeof value !== 'string' || !allowed.includes(value)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(' | ')}`);
  }
}

function checkInteger(problems: string[], path: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${path}: ${JSON.stringify(value)} is not an integer in ${min}..${max}`);
  }
}

function checkUnknownKeys(problems: string[], path: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.push(`${path}.${key}: unknown property (known: ${known.join(', ')})`);
  }
}

/** Combinations the codec cannot give a meaning to; each is a configuration mistake. */
function checkFieldCombination(problems: string[], path: string, spec: FieldSpec): void {
  const binaryContent = spec.content === 'b';
  const binaryEncoding = spec.encoding === 'binary' || spec.encoding === 'hex-ascii';
  if (binaryContent !== binaryEncoding) {
    problems.push(`${path}: content ${spec.content} cannot use encoding ${spec.encoding}` +
      ' (content b needs binary or hex-ascii; only content b may use them)');
  }
  if (spec.encoding === 'bcd' && !['n', 'z', 'xn'].includes(spec.content)) {
    problems.push(`${path}: encoding bcd holds only content n, z or xn, not ${spec.content}`);
  }
  if (spec.content === 'xn' && spec.encoding === 'bcd' && spec.type !== 'fixed') {
    problems.push(`${path}: content xn in bcd is supported for fixed fields only`);
  }
  if (spec.encoding === 'binary' && spec.lengthUnit !== undefined && spec.lengthUnit !== 'bytes') {
    problems.push(`${path}: a binary field counts bytes, lengthUnit ${spec.lengthUnit} is meaningless`);
  }
  if (spec.encoding === 'hex-ascii' && spec.lengthUnit !== 'bytes' && spec.lengthUnit !== undefined &&
    spec.type === 'fixed' && spec.maxLength % 2 !== 0) {
    problems.push(`${path}: a fixed hex-ascii field counted in chars needs an even maxLength`);
  }
  if (spec.type === 'fixed') {
    if (spec.prefix !== undefined) problems.push(`${path}.prefix: a fixed field has no length prefix`);
  } else if (spec.prefix === undefined) {
    problems.push(`${path}.prefix: required for ${spec.type} fields`);
  } else if (Number.isInteger(spec.maxLength) && spec.maxLength > prefixCapacity(spec.type, spec.prefix)) {
    problems.push(`${path}.maxLength: ${spec.maxLength} exceeds what a ${spec.prefix} ${spec.type} prefix can carry ` +
      `(${prefixCapacity(spec.type, spec.prefix)})`);
  }
  if (spec.content === 'xn' && spec.maxLength < 2) {
    problems.push(`${path}.maxLength: content xn needs a sign and at least one digit`);
  }
}

function validateFieldSpec(problems: string[], path: string, value: unknown): void {
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  const before = problems.length;
  checkUnknownKeys(problems, path, value, fieldSpecKeys);
  checkEnum(problems, `${path}.type`, value.type, fieldLengthTypes, true);
  checkInteger(problems, `${path}.maxLength`, value.maxLength, 1, 9999);
  checkEnum(problems, `${path}.content`, value.content, fieldContents, true);
  checkEnum(problems, `${path}.encoding`, value.encoding, dataEncodings, true);
  checkEnum(problems, `${path}.prefix`, value.prefix, prefixEncodings, false);
  checkEnum(problems, `${path}.lengthUnit`, value.lengthUnit, lengthUnits, false);
  checkEnum(problems, `${path}.padding`, value.padding, fixedPaddings, false);
  checkEnum(problems, `${path}.bcdPadding`, value.bcdPadding, bcdPaddings, false);
  if (value.name !== undefined && typeof value.name !== 'string') problems.push(`${path}.name: expected a string`);
  if (value.sensitive !== undefined && typeof value.sensitive !== 'boolean') {
    problems.push(`${path}.sensitive: expected true or false`);
  }
  // Combinations are only worth checking once every property is individually well-formed.
  if (problems.length === before) checkFieldCombination(problems, path, value as unknown as FieldSpec);
}

function validateFields(problems: string[], value: unknown): void {
  if (!isRecord(value)) {
    problems.push('fields: expected an object keyed by field number');
    return;
  }
  for (const [key, spec] of Object.entries(value)) {
    const number = Number(key);
    if (!/^[0-9]+$/.test(key) || number < 2 || number > fieldNumberMax) {
      problems.push(`fields.${key}: field numbers are 2..${fieldNumberMax} (1 is the secondary bitmap)`);
      continue;
    }
    validateFieldSpec(problems, `fields.${key}`, spec);
  }
}

/**
 * Checks an ISO 8583 dialect that arrived as data. Returns it typed, or throws a DialectError that
 * lists every problem with its path (e.g. `fields.35.prefix: required for LLVAR fields`).
 */
export function validateIsoDialect(value: unknown, source: string): IsoDialect {
  const problems: string[] = [];
  if (!isRecord(value)) throw new DialectError(source, ['expected a JSON object']);
  checkUnknownKeys(problems, 'dialect', value, isoDialectKeys);
  if (value.kind !== 'iso8583') problems.push(`kind: ${JSON.stringify(value.kind)} must be "iso8583"`);
  if (typeof value.name !== 'string' || value.name.length === 0) problems.push('name: required, a non-empty string');
  if (value.description !== undefined && typeof value.description !== 'string') {
    problems.push('description: expected a string');
  }
  checkEnum(problems, 'mtiEncoding', value.mtiEncoding, ['ascii', 'ebcdic', 'bcd'], true);
  checkEnum(problems, 'bitmapEncoding', value.bitmapEncoding, ['binary', 'hex-ascii'], true);
  checkEnum(problems, 'ebcdicCodePage', value.ebcdicCodePage, ['cp037', 'cp500'], false);
  if (value.headerBytes !== undefined) checkInteger(problems, 'headerBytes', value.headerBytes, 0, headerBytesMax);
  if (value.messageBytesMax !== undefined) {
    checkInteger(problems, 'messageBytesMax', value.messageBytesMax, 64, messageBytesMaxCeiling);
  }
  validateFields(problems, value.fields);
  if (problems.length > 0) throw new DialectError(source, problems);
  return value as unknown as IsoDialect;
}
