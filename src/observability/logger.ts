/**
 * Structured logs (pino). Card data never reaches a log: known card fields are redacted by path,
 * and anything that looks like a clear PAN in any string of a line is masked before it is written.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import { alwaysRedactedFields, maskPan, panFields } from '../security/card-data.js';
import { luhnValid } from '../security/luhn.js';

export type { Logger } from 'pino';

const redactPaths = [
  'pan', '*.pan', 'track2', '*.track2', 'track1', '*.track1', 'cvv', '*.cvv', 'pinBlock', '*.pinBlock',
  // ISO 8583 card fields of a message logged whole, at the top of a line or one level down.
  ...[...panFields, ...alwaysRedactedFields].flatMap((field) => [`fields.${field}`, `*.fields.${field}`]),
  'authorization', '*.authorization', 'apiKey', '*.apiKey',
];

/** Whether some 13 to 19 digits in a row of `digits` pass the Luhn check, as every card number does. */
function holdsPan(digits: string): boolean {
  for (let length = 13; length <= Math.min(19, digits.length); length += 1) {
    for (let start = 0; start + length <= digits.length; start += 1) if (luhnValid(digits.slice(start, start + length))) return true;
  }
  return false;
}

/**
 * Masks possible PANs in text: a run of 13 or more digits (single spaces or dashes between them
 * allowed), wherever it stands (glued to letters as in `PAN4111…`, before a track-2 separator `D`
 * or `=`, inside a longer run such as a raw frame), when 13 to 19 digits of it pass the Luhn check,
 * as a card number's do; it is cut to its first 6 and last 4 digits. Runs no card number could be
 * (most timestamps, UUID tails, EAN codes) stay as they are.
 */
export function maskPansInText(text: string): string {
  return text.replace(/(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g, (match) => {
    const digits = match.replace(/\D/g, '');
    return holdsPan(digits) ? maskPan(digits) : match;
  });
}

/**
 * The tokens of a finished JSON line that can carry card digits: a string literal (its contents are
 * text that may hold a PAN anywhere), or a number of 13 or more integer digits (a PAN a caller sent
 * as a JSON number). Runs of plain characters are taken whole, so a very long string does not
 * recurse per character. Digits inside a key or a string never match as a number, since the string
 * alternative consumes the whole literal first.
 */
const jsonCardToken = /"(?:[^"\\]+|\\.)*"|(?<![\w.])-?(\d{13,})(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * The finished log line with every string in it masked (nested fields, errors and their stacks
 * included), and every number that may hold a PAN replaced by its masked integer digits as a
 * string, so the line stays valid JSON. A number may hold a PAN when 13 to 19 of its digits pass
 * the Luhn check, or when it is past the integers a double holds exactly: a 19-digit PAN sent as a
 * number arrives with its last digits rounded, so the check no longer passes, but its leading
 * digits are still the card's. Numbers no card number could be (a timestamp in ms) stay numbers.
 */
export function maskLogLine(line: string): string {
  return line.replace(jsonCardToken, (token, integerDigits: string | undefined) => {
    if (integerDigits === undefined) return maskPansInText(token);
    const mayHoldPan = holdsPan(integerDigits) || (integerDigits.length >= 16 && Number(integerDigits) > Number.MAX_SAFE_INTEGER);
    return mayHoldPan ? `"${maskPan(integerDigits)}"` : token;
  });
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
