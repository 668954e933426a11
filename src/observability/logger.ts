/**
 * Structured logs (pino). Card data never reaches a log: known card fields are redacted by path,
 * and anything that looks like a clear PAN inside a string is masked before it is written.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

const redactPaths = [
  'pan', '*.pan', 'track2', '*.track2', 'track1', '*.track1', 'cvv', '*.cvv', 'pinBlock', '*.pinBlock',
  'fields.2', 'fields.35', 'fields.36', 'fields.45', 'fields.52', 'fields.55',
  '*.fields.2', '*.fields.35', '*.fields.36', '*.fields.45', '*.fields.52', '*.fields.55',
  'authorization', '*.authorization', 'apiKey', '*.apiKey',
];

/** Masks runs of 13–19 digits, with or without space / dash separators (possible PANs), to first 6 / last 4. */
export function maskPansInText(text: string): string {
  return text.replace(/\b\d(?:[ -]?\d){12,18}\b/g, (match) => {
    const digits = match.replace(/\D/g, '');
    return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
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
      // Free text (messages, error strings) can carry what a path-based redaction cannot see.
      logMethod(this: Logger, args: unknown[], method: (...rest: unknown[]) => void) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? maskPansInText(arg) : arg)));
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination as pino.DestinationStream);
}
