/**
 * Structured logs (pino). Card data never reaches a log: known card fields are redacted by path,
 * and anything that looks like a clear PAN in any string of a line is masked before it is written.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import { alwaysRedactedFields, maskPan, panFields } from '../security/card-data.js';
import { someWindowPassesLuhn } from '../security/luhn.js';

export type { Logger } from 'pino';

const redactPaths = [
  'pan', '*.pan', 'track2', '*.track2', 'track1', '*.track1', 'cvv', '*.cvv', 'pinBlock', '*.pinBlock',
  // ISO 8583 card fields of a message logged whole, at the top of a line or one level down.
  ...[...panFields, ...alwaysRedactedFields].flatMap((field) => [`fields.${field}`, `*.fields.${field}`]),
  'authorization', '*.authorization', 'apiKey', '*.apiKey',
];

/** A card number has 13 to 19 digits (ISO/IEC 7812). */
const panDigitsMin = 13;
const panDigitsMax = 19;

/** Whether some 13 to 19 digits in a row of `digits` pass the Luhn check, as every card number does. */
function holdsPan(digits: string): boolean {
  for (let length = panDigitsMin; length <= Math.min(panDigitsMax, digits.length); length += 1) {
    if (someWindowPassesLuhn(digits, length)) return true;
  }
  return false;
}

/**
 * What may stand between two digits of a card number as it is written or typed: whitespace
 * (Unicode spaces included), '.', ',', '/', '_', dashes (ASCII and Unicode, soft hyphen), the
 * invisible zero-width characters, and, as they appear inside a finished JSON line, the escapes of
 * tab, newline and the other control characters.
 */
const panSeparator = String.raw`(?:[\s.,/_\-\u00ad\u2010-\u2015\u2212\u200b-\u200d\u2060]|\\[bfnrt]|\\u00[01][0-9a-fA-F])`;
/** At most this many separators between two digits of one number: "4111 - 1111" is one, "12.50    4111" is two. */
const panSeparatorsBetweenDigitsMax = 3;
/** The longest such a gap can be in characters: a separator is at most a 6-character JSON escape. */
const panGapCharsMax = panSeparatorsBetweenDigitsMax * 6;
const panGap = new RegExp(String.raw`^${panSeparator}{1,${panSeparatorsBetweenDigitsMax}}$`);
/** A UUID as text writes it: 8-4-4-4-12 hex digits. */
const uuidShape = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
/**
 * A run of digits, or the JSON escape of a control character (its hex digits are not digits of the
 * text). Neither pattern repeats a group, so a run of millions of characters costs no regex stack:
 * a pattern like /\d(?:[ -]?\d)+/ overflows it on a 20 MB run of digits.
 */
const digitsOrEscape = /\\u00[01][0-9a-fA-F]|\d+/g;
const notDigit = /\\u00[01][0-9a-fA-F]|\D/g;

/**
 * Masks possible PANs in text: a run of 13 or more digits, with short runs of separators between
 * them allowed (see panSeparator), wherever it stands (glued to letters as in `PAN4111…`, before a
 * track-2 separator `D` or `=`, inside a longer run such as a raw frame), when 13 to 19 digits of
 * it pass the Luhn check, as a card number's do; it is cut to its first 6 and last 4 digits.
 * Runs no card number could be (most timestamps, UUID tails, EAN codes) and text with fewer than
 * 13 digits in one run (prices, dates, times) stay as they are. Linear in the text's length.
 */
export function maskPansInText(text: string): string {
  // Every string of a log line comes here, keys included: most are too short to hold a card number.
  if (text.length < panDigitsMin) return text;
  const parts: string[] = [];
  let copiedTo = 0;
  let runStart = -1;
  let runEnd = -1;
  let runDigits = 0;
  const endRun = (): void => {
    if (runDigits < panDigitsMin) return;
    const digits = text.slice(runStart, runEnd).replace(notDigit, '');
    if (!holdsPan(digits)) return;
    parts.push(text.slice(copiedTo, runStart), maskPan(digits));
    copiedTo = runEnd;
  };
  // UUIDs (request ids, trace ids) are ids, not numbers: their all-digit groups, joined across
  // the dashes, would pass the Luhn check now and then. Their digits neither start nor join a run.
  const uuids = [...text.matchAll(uuidShape)].map((found) => [found.index, found.index + found[0].length] as const);
  let uuidAt = 0;
  for (const found of text.matchAll(digitsOrEscape)) {
    const token = found[0];
    if (token.startsWith('\\')) continue;
    const start = found.index;
    while (uuidAt < uuids.length && (uuids[uuidAt]?.[1] ?? 0) <= start) uuidAt += 1;
    if ((uuids[uuidAt]?.[0] ?? Number.POSITIVE_INFINITY) <= start) {
      endRun();
      runDigits = 0;
      continue;
    }
    const joins = runDigits > 0 && start - runEnd <= panGapCharsMax && panGap.test(text.slice(runEnd, start));
    if (!joins) {
      endRun();
      runStart = start;
      runDigits = 0;
    }
    runEnd = start + token.length;
    runDigits += token.length;
  }
  endRun();
  return copiedTo === 0 ? text : parts.join('') + text.slice(copiedTo);
}

/**
 * A JSON number at a position of a finished line: its integer digits are captured. Sticky, so it
 * is tried only where the scan stands (outside any string).
 */
const jsonNumber = /-?(\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * A time in ms since 1970 as a JSON number carries it (13 digits leading with 1 to 3: from 2001 to
 * 2096). No card number has that shape (13-digit card numbers are Visa's, which begin with 4), and
 * a tenth of such times pass the Luhn check: they stay numbers.
 */
function isEpochMs(digits: string): boolean {
  return digits.length === 13 && digits[0] !== undefined && digits[0] >= '1' && digits[0] <= '3';
}

/** Where the string literal that opens at `start` (a '"') ends: just past its closing quote. */
function stringEnd(line: string, start: number): number {
  let index = start + 1;
  while (index < line.length) {
    const code = line.charCodeAt(index);
    if (code === 0x5c) index += 2; // a backslash escapes the character after it
    else if (code === 0x22) return index + 1;
    else index += 1;
  }
  return line.length;
}

/**
 * The finished log line with every string in it masked (nested fields, errors and their stacks
 * included), and every number that may hold a PAN replaced by its masked integer digits as a
 * string, so the line stays valid JSON. A number may hold a PAN when 13 to 19 of its digits pass
 * the Luhn check, or when it is past the integers a double holds exactly: a 19-digit PAN sent as a
 * number arrives with its last digits rounded, so the check no longer passes, but its leading
 * digits are still the card's. Numbers no card number could be (a timestamp in ms) stay numbers.
 * One pass over the line, with no regex that repeats per character or escape: a string of
 * millions of escaped characters costs no stack.
 */
export function maskLogLine(line: string): string {
  const parts: string[] = [];
  let copiedTo = 0;
  let index = 0;
  while (index < line.length) {
    const code = line.charCodeAt(index);
    if (code === 0x22) {
      const end = stringEnd(line, index);
      const literal = line.slice(index, end);
      const masked = maskPansInText(literal);
      if (masked !== literal) {
        parts.push(line.slice(copiedTo, index), masked);
        copiedTo = end;
      }
      index = end;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      jsonNumber.lastIndex = index;
      const found = jsonNumber.exec(line);
      if (found === null) {
        index += 1;
        continue;
      }
      const end = index + found[0].length;
      const digits = found[1] ?? '';
      const mayHoldPan = digits.length >= panDigitsMin && !isEpochMs(digits) && (holdsPan(digits) || (digits.length >= 16 && Number(digits) > Number.MAX_SAFE_INTEGER));
      if (mayHoldPan) {
        parts.push(line.slice(copiedTo, index), `"${maskPan(digits)}"`);
        copiedTo = end;
      }
      index = end;
    } else index += 1;
  }
  return copiedTo === 0 ? line : parts.join('') + line.slice(copiedTo);
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'tillgate' },
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    hooks: {
      // Free text anywhere in a line (messages, any field, an error's message and stack, a request
      // id a client chose) can carry what a path-based redaction cannot see: the whole line is masked.
      streamWrite: maskLogLine,
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination as pino.DestinationStream);
}
