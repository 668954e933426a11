/**
 * `tillgate iso decode|encode`: inspect and build legacy gateway messages offline.
 * decode prints a message as JSON (PAN masked, track / PIN / ICC data redacted unless
 * --show-sensitive); encode prints hex. Both take a shipped dialect name or a dialect JSON file,
 * and the message as an argument, a file, or stdin. Codec errors name the field and byte offset.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  CodecError, decode, decodeLineDecisions, decodeLineItems, encode, fixed, getDialect, lineItemsField, loadDialectFile, redact,
} from '../tcp-gateway/codec/index.js';
import type { Dialect, FieldValue, IsoDialect, IsoMessage } from '../tcp-gateway/codec/index.js';

/** Bound on a message file or stdin: far above any frame the gateway accepts. */
const inputBytesMax = 1024 * 1024;

async function dialectOf(name: string): Promise<Dialect> {
  return getDialect(name) ?? await loadDialectFile(name);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > inputBytesMax) throw new Error(`stdin holds more than ${inputBytesMax} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The argument itself, the file it names, or stdin. */
async function inputOf(argument: string | undefined): Promise<{ bytes: Buffer; fromFile: boolean }> {
  if (argument === undefined || argument === '-') return { bytes: await readStdin(), fromFile: true };
  if (existsSync(argument)) {
    const bytes = readFileSync(argument);
    if (bytes.length > inputBytesMax) throw new Error(`${argument} holds more than ${inputBytesMax} bytes`);
    return { bytes, fromFile: true };
  }
  return { bytes: Buffer.from(argument, 'utf8'), fromFile: false };
}

/** Hex text (spaces and newlines ignored) to bytes; a binary file is taken as it is. */
function messageBytes(input: { bytes: Buffer; fromFile: boolean }): Buffer {
  const text = input.bytes.toString('latin1').replace(/\s+/g, '');
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, 'hex');
  if (!input.fromFile) throw new Error('the message argument is not hex (an even number of 0-9 A-F characters) nor a file');
  return input.bytes;
}

function clearFields(message: IsoMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [number, value] of message.fields) out[number] = typeof value === 'string' ? value : Buffer.from(value).toString('hex').toUpperCase();
  return out;
}

function lineItemsOf(message: IsoMessage): unknown {
  const value = message.fields.get(lineItemsField);
  if (typeof value !== 'string') return undefined;
  try {
    return value.startsWith('LR1') ? decodeLineDecisions(value) : decodeLineItems(value);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function explain(error: unknown): Error {
  if (error instanceof CodecError) {
    const where = error.field === null ? '' : `field ${error.field}, `;
    return new Error(`${error.code} (${where}byte offset ${error.offset}): ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function decodeIso(bytes: Buffer, dialect: IsoDialect, showSensitive: boolean): unknown {
  const message = decode(bytes, dialect);
  const shown = showSensitive ? { mti: message.mti, fields: clearFields(message) } : redact(message, dialect);
  const header = message.header === undefined ? {} : { header: Buffer.from(message.header).toString('hex').toUpperCase() };
  const items = lineItemsOf(message);
  return { dialect: dialect.name, ...header, mti: shown.mti, fields: shown.fields, ...(items === undefined ? {} : { lineItems: items }) };
}

function decodeFixed(bytes: Buffer): unknown {
  return bytes[0] === 0x52 ? fixed.decodeReply(bytes) : fixed.decodeRequest(bytes);
}

function isoFromJson(value: Record<string, unknown>, dialect: IsoDialect): IsoMessage {
  if (typeof value.mti !== 'string') throw new Error('JSON message: "mti" must be a string of four digits');
  const fieldsIn = value.fields;
  if (typeof fieldsIn !== 'object' || fieldsIn === null || Array.isArray(fieldsIn)) throw new Error('JSON message: "fields" must be an object keyed by field number');
  const fields = new Map<number, FieldValue>();
  for (const [key, raw] of Object.entries(fieldsIn as Record<string, unknown>)) {
    const number = Number(key);
    if (typeof raw !== 'string') throw new Error(`JSON message: fields.${key} must be a string (binary fields as hex)`);
    const binary = dialect.fields[number]?.content === 'b';
    fields.set(number, binary ? new Uint8Array(Buffer.from(raw, 'hex')) : raw);
  }
  if (value.header === undefined) return { mti: value.mti, fields };
  if (typeof value.header !== 'string') throw new Error('JSON message: "header" must be hex');
  return { mti: value.mti, header: new Uint8Array(Buffer.from(value.header, 'hex')), fields };
}

function encodeFixed(value: Record<string, unknown>): Uint8Array {
  return 'response' in value ? fixed.encodeReply(value as unknown as fixed.FixedReply) : fixed.encodeRequest(value as unknown as fixed.FixedRequest);
}

async function runDecode(source: string | undefined, flags: { dialect: string; showSensitive?: boolean }): Promise<void> {
  const dialect = await dialectOf(flags.dialect);
  const bytes = messageBytes(await inputOf(source));
  try {
    const result = dialect.kind === 'iso8583' ? decodeIso(bytes, dialect, flags.showSensitive === true) : decodeFixed(bytes);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    throw explain(error);
  }
}

async function runEncode(source: string | undefined, flags: { dialect: string }): Promise<void> {
  const dialect = await dialectOf(flags.dialect);
  const input = await inputOf(source);
  let value: unknown;
  try {
    value = JSON.parse(input.bytes.toString('utf8'));
  } catch (error) {
    throw new Error(`the message is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the message must be a JSON object');
  try {
    const bytes = dialect.kind === 'iso8583' ? encode(isoFromJson(value as Record<string, unknown>, dialect), dialect) : encodeFixed(value as Record<string, unknown>);
    process.stdout.write(`${Buffer.from(bytes).toString('hex').toUpperCase()}\n`);
  } catch (error) {
    throw explain(error);
  }
}

export function addIsoCommands(program: Command): void {
  const iso = program.command('iso').description('ISO 8583 / fixed-v1 tools: decode a message to JSON, encode JSON to hex');
  iso
    .command('decode')
    .description('print a message as JSON (PAN masked, card data redacted unless --show-sensitive)')
    .requiredOption('--dialect <name>', 'shipped dialect (iso87-ascii, iso87-binary, iso87-binary-tpdu, fixed-v1) or a dialect JSON file')
    .option('--show-sensitive', 'show PAN, track, PIN and ICC data in clear (debugging only)')
    .argument('[message]', 'hex, a file (hex text or raw bytes), or - / nothing for stdin')
    .action(runDecode);
  iso
    .command('encode')
    .description('print a message given as JSON ({ "mti", "header"?, "fields": { "3": "000000", ... } }) as hex')
    .requiredOption('--dialect <name>', 'shipped dialect or a dialect JSON file')
    .argument('[message]', 'JSON text, a JSON file, or - / nothing for stdin')
    .action(runEncode);
}
