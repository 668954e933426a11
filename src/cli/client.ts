/** Shared client options for the CLI commands that talk to a running node. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TillgateClient } from '../client/index.js';
import { ConfigError, decimalNumber } from '../config/index.js';

export interface ClientFlags {
  address: string;
  ca?: string;
  insecure?: boolean;
  dataDir: string;
  terminal?: string;
  deadlineMs: string;
}

export function addClientOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'address of the tillgate node', 'localhost:50051')
    .option('--ca <file>', 'CA certificate to trust (default: <data-dir>/tls/dev-ca.pem when it exists)')
    .option('--insecure', 'plaintext, for a node started with --insecure on loopback')
    .option('--data-dir <dir>', 'data directory of a local node (for its development CA)', './data')
    .option('--terminal <id>', 'terminal id to send as the actor')
    .option('--deadline-ms <ms>', 'deadline per call', '5000');
}

export function clientFrom(flags: ClientFlags): TillgateClient {
  const devCa = join(flags.dataDir, 'tls', 'dev-ca.pem');
  const caFile = flags.ca ?? (existsSync(devCa) ? devCa : undefined);
  return new TillgateClient({
    address: flags.address,
    ...(flags.insecure === true ? { insecure: true } : {}),
    ...(caFile === undefined ? {} : { caFile }),
    ...(flags.terminal === undefined ? {} : { terminalId: flags.terminal }),
    deadlineMs: wholeNumber(flags.deadlineMs, '--deadline-ms', 1),
  });
}

/**
 * A command-line number: decimal digits only, from `min` to `max`. Anything else is an argument
 * error naming the option, not a NaN sent on (which the server or the encoder answers as INTERNAL).
 */
export function wholeNumber(text: string | undefined, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = decimalNumber(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text) ?? 'nothing'}`);
  }
  return value;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
