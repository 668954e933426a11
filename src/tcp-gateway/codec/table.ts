// Compiles a declarative dialect into per-field records the hot path can use without re-reading
// defaults or branching on strings. Compiled once per dialect object and cached.
import type { FieldSpec, FixedPadding, IsoDialect, PrefixEncoding } from '../dialect/types.js';
import { fieldNumberMax, messageBytesMaxDefault, prefixDigitsOf } from '../dialect/types.js';
import { ebcdicTable } from './ebcdic.js';
import type { EbcdicTable } from './ebcdic.js';

/** Wire forms, as small integers so the field loops switch on numbers, not strings. */
export const kindAscii = 0;
export const kindEbcdic = 1;
export const kindBcd = 2;
export const kindBcdAmount = 3;
export const kindBinary = 4;
export const kindHex = 5;

/** Character classes checked on every text byte. */
export const classDigits = 0;
export const classPrintable = 1;
export const classTrack = 2;
export const classAmount = 3;

export interface CompiledField {
  readonly number: number;
  readonly spec: FieldSpec;
  readonly kind: number;
  readonly charClass: number;
  readonly fixed: boolean;
  readonly maxLength: number;
  readonly prefixDigits: number;
  readonly prefixEncoding: PrefixEncoding;
  readonly prefixBytes: number;
  /** lengthUnit 'bytes' on a BCD or hex-ascii field: counts packed bytes, not characters. */
  readonly countsPackedBytes: boolean;
  readonly padding: FixedPadding;
  readonly bcdPadLeft: boolean;
  readonly ebcdic: EbcdicTable | null;
}

export interface CompiledDialect {
  readonly dialect: IsoDialect;
  /** Indexed by field number; index 0 and 1 are always undefined. */
  readonly fields: readonly (CompiledField | undefined)[];
  readonly headerBytes: number;
  readonly mtiEncoding: IsoDialect['mtiEncoding'];
  readonly mtiBytes: number;
  readonly bitmapHex: boolean;
  readonly ebcdic: EbcdicTable;
  readonly messageBytesMax: number;
}

function kindOf(spec: FieldSpec): number {
  switch (spec.encoding) {
    case 'ascii': return kindAscii;
    case 'ebcdic': return kindEbcdic;
    case 'bcd': return spec.content === 'xn' ? kindBcdAmount : kindBcd;
    case 'binary': return kindBinary;
    case 'hex-ascii': return kindHex;
  }
}

function classOf(spec: FieldSpec): number {
  switch (spec.content) {
    case 'n': return classDigits;
    case 'z': return classTrack;
    case 'xn': return classAmount;
    default: return classPrintable;
  }
}

function defaultPadding(spec: FieldSpec): FixedPadding {
  if (spec.content === 'n') return 'left-zero';
  if (spec.content === 'b' || spec.content === 'xn') return 'none';
  return 'right-space';
}

function prefixBytesOf(digits: number, encoding: PrefixEncoding): number {
  if (digits === 0) return 0;
  if (encoding === 'bcd') return Math.ceil(digits / 2);
  if (encoding === 'binary') return digits === 2 ? 1 : 2;
  return digits;
}

export function compileField(number: number, spec: FieldSpec, dialect: IsoDialect): CompiledField {
  const kind = kindOf(spec);
  const prefixDigits = prefixDigitsOf(spec.type);
  const prefixEncoding = spec.prefix ?? 'ascii';
  const packed = kind === kindBcd || kind === kindHex;
  return {
    number,
    spec,
    kind,
    charClass: classOf(spec),
    fixed: spec.type === 'fixed',
    maxLength: spec.maxLength,
    prefixDigits,
    prefixEncoding,
    prefixBytes: prefixBytesOf(prefixDigits, prefixEncoding),
    countsPackedBytes: packed && (spec.lengthUnit ?? (spec.content === 'b' ? 'bytes' : 'digits')) === 'bytes',
    padding: spec.padding ?? defaultPadding(spec),
    bcdPadLeft: (spec.bcdPadding ?? (spec.type === 'fixed' ? 'left' : 'right')) === 'left',
    ebcdic: kind === kindEbcdic ? ebcdicTable(dialect.ebcdicCodePage ?? 'cp500') : null,
  };
}

const cache = new WeakMap<IsoDialect, CompiledDialect>();

/** The compiled form of a dialect; dialects are treated as immutable once used. */
export function compileDialect(dialect: IsoDialect): CompiledDialect {
  const cached = cache.get(dialect);
  if (cached !== undefined) return cached;
  const fields: (CompiledField | undefined)[] = new Array<CompiledField | undefined>(fieldNumberMax + 1).fill(undefined);
  for (const [key, spec] of Object.entries(dialect.fields)) {
    const number = Number(key);
    fields[number] = compileField(number, spec, dialect);
  }
  const compiled: CompiledDialect = {
    dialect,
    fields,
    headerBytes: dialect.headerBytes ?? 0,
    mtiEncoding: dialect.mtiEncoding,
    mtiBytes: dialect.mtiEncoding === 'bcd' ? 2 : 4,
    bitmapHex: dialect.bitmapEncoding === 'hex-ascii',
    ebcdic: ebcdicTable(dialect.ebcdicCodePage ?? 'cp500'),
    messageBytesMax: dialect.messageBytesMax ?? messageBytesMaxDefault,
  };
  cache.set(dialect, compiled);
  return compiled;
}
