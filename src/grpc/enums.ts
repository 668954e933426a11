/**
 * Proto enums ⇄ ledger string unions. Generated enum members are the ledger names with a prefix
 * (BUCKET_SELLABLE ⇄ SELLABLE), so one pair of functions maps them all; an unset or unknown value
 * is an INVALID_ARGUMENT naming the field.
 */
import { RequestError } from './errors.js';

type ProtoEnum = Record<string, string | number>;

export function fromProto<T extends string>(enumObject: ProtoEnum, prefix: string, allowed: readonly T[], value: number, field: string): T {
  const name = enumObject[value];
  const short = typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
  if (short === undefined || !(allowed as readonly string[]).includes(short)) {
    throw new RequestError('INVALID_ARGUMENT', `${field} must be one of ${allowed.map((a) => prefix + a).join(', ')}`, field);
  }
  return short as T;
}

export function toProto(enumObject: ProtoEnum, prefix: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const number = enumObject[prefix + value];
  return typeof number === 'number' ? number : 0;
}

/** Drops undefined members: proto optionals arrive as `undefined`, the ledger wants them absent. */
export function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = member;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}
