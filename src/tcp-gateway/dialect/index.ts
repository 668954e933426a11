// Dialect registry: the shipped dialects by name, and vendor dialects loaded from JSON files.
//
// A JSON dialect is either complete, or names a shipped ISO dialect in "extends" and lists only
// what differs: top-level properties replace the base's, each entry of "fields" replaces the
// base's spec for that field, and a field set to null is removed.
import { readFile } from 'node:fs/promises';
import { layoutProblems } from '../fixed/columns.js';
import { fixedV1 } from './fixed-v1.js';
import { iso87Ascii } from './iso87-ascii.js';
import { iso87Binary, iso87BinaryTpdu } from './iso87-binary.js';
import type { Dialect, FieldSpec, FixedDialect, IsoDialect } from './types.js';
import { DialectError, validateIsoDialect } from './types.js';

export type ShippedDialectName = 'iso87-ascii' | 'iso87-binary' | 'iso87-binary-tpdu' | 'fixed-v1';

const shipped: Readonly<Record<ShippedDialectName, Dialect>> = {
  'iso87-ascii': iso87Ascii,
  'iso87-binary': iso87Binary,
  'iso87-binary-tpdu': iso87BinaryTpdu,
  'fixed-v1': fixedV1,
};

/** Bound on a dialect file: a complete 128-field table is about 20 KiB. */
export const dialectFileBytesMax = 1024 * 1024;

export const shippedDialectNames: readonly ShippedDialectName[] = Object.keys(shipped) as ShippedDialectName[];

export function getDialect(name: ShippedDialectName): Dialect;
export function getDialect(name: string): Dialect | undefined;
export function getDialect(name: string): Dialect | undefined {
  return Object.hasOwn(shipped, name) ? shipped[name as ShippedDialectName] : undefined;
}

export function getIsoDialect(name: string): IsoDialect | undefined {
  const dialect = getDialect(name);
  return dialect?.kind === 'iso8583' ? dialect : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Applies "extends" to a parsed JSON dialect; the result still has to pass validation. */
function resolveExtends(value: Record<string, unknown>, source: string): Record<string, unknown> {
  const baseName = value.extends;
  if (baseName === undefined) return value;
  const base = typeof baseName === 'string' ? getIsoDialect(baseName) : undefined;
  if (base === undefined) {
    throw new DialectError(source, [`extends: ${JSON.stringify(baseName)} is not a shipped ISO dialect (${shippedDialectNames.filter((n) => n !== 'fixed-v1').join(', ')})`]);
  }
  const { extends: _extends, fields: overrides, ...rest } = value;
  if (overrides !== undefined && !isRecord(overrides)) throw new DialectError(source, ['fields: expected an object keyed by field number']);
  const fields: Record<string, unknown> = { ...(base.fields as Record<string, FieldSpec>) };
  for (const [key, spec] of Object.entries(overrides ?? {})) {
    if (spec === null) delete fields[key];
    else fields[key] = spec;
  }
  const merged: Record<string, unknown> = { ...base, ...rest, fields };
  return merged;
}

/** Parses and validates a dialect from JSON text; `source` names it in error messages. */
export function parseDialectJson(text: string, source: string): IsoDialect {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DialectError(source, [`not JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  if (!isRecord(value)) throw new DialectError(source, ['expected a JSON object']);
  return Object.freeze(validateIsoDialect(resolveExtends(value, source), source));
}

export async function loadDialectFile(path: string): Promise<IsoDialect> {
  const bytes = await readFile(path);
  if (bytes.length > dialectFileBytesMax) {
    throw new DialectError(path, [`file has ${bytes.length} bytes, dialectFileBytesMax is ${dialectFileBytesMax}`]);
  }
  return parseDialectJson(bytes.toString('utf8'), path);
}

/** Problems in a fixed dialect's layouts (columns that overlap, leave gaps or overrun the record). */
export function fixedDialectProblems(dialect: FixedDialect): string[] {
  return Object.values(dialect.records).flatMap((layout) => layoutProblems(layout));
}

export { fixedV1, iso87Ascii, iso87Binary, iso87BinaryTpdu };
export { DialectError, validateIsoDialect };
export type * from './types.js';
