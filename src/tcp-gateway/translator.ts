// ISO 8583 message <-> ledger command. Pure: no I/O, no clocks, no logging. The session
// (session.ts) submits the envelope through the CommandSink and calls `respond` with the outcome.
//
// Conventions (docs/iso8583-protocol.md section 5): 41 terminal id, 42 store id, 11 STAN, 7
// transmission time, 3 processing code (00xxxx sale, 20xxxx return), 37 receipt id (the sale's own
// receipt, or the original receipt a return refers to), 48 line items (LI1 / LR1), 49 currency,
// 90 original data elements (completion and reversal refer to the authorization). The ledger's
// return id is `<terminal>-<STAN>-<field 7>` of the authorization; the 0110 echoes the STAN in 38.
import type {
  AuthorizeResult, Command, CompleteResult, Envelope, Outcome, SaleResult, Tender,
} from '../ledger/index.js';
import { CodecError, decodeLineItems, encodeLineDecisions, lineItemLimitsDefault, maskPan } from './codec/index.js';
import type { FieldValue, IsoMessage, LineDecision, LineItem } from './codec/index.js';
import { completeLineDecisions, registerIdempotencyId, returnLineDecisions, returnLineOf, saleLineDecisions, saleLineOf } from './mapping.js';
import { codeForDecision, codeForError } from './response-codes.js';
import type { ResponseCode } from './response-codes.js';

export interface SessionState {
  /** A connection must sign on (0800, field 70 = 001) before financial traffic. */
  signedOn: boolean;
}

/** What to do with one decoded request. */
export type IsoPlan =
  | { readonly kind: 'reply'; readonly response: IsoMessage; readonly signOn?: boolean }
  | {
    readonly kind: 'command';
    readonly envelope: Envelope;
    /** Builds the answer from the ledger's outcome (a replayed outcome gives the same answer). */
    readonly respond: (outcome: Outcome) => IsoMessage;
  };

/** Fields a response echoes from its request when present (never 2, 35, 45, 52, 55: card data stays out). */
const echoedFields: readonly number[] = [3, 4, 7, 11, 12, 13, 37, 41, 42, 49, 70, 90];
const tpduBytes = 5;
/** ISO 4217 numeric to alphabetic, for registers that send field 49 as digits. */
const currencyByNumber: Readonly<Record<string, string>> = {
  '036': 'AUD', '048': 'BHD', '124': 'CAD', '156': 'CNY', '203': 'CZK', '208': 'DKK', '344': 'HKD', '348': 'HUF',
  '356': 'INR', '376': 'ILS', '392': 'JPY', '410': 'KRW', '414': 'KWD', '484': 'MXN', '554': 'NZD', '578': 'NOK',
  '682': 'SAR', '702': 'SGD', '710': 'ZAR', '752': 'SEK', '756': 'CHF', '784': 'AED', '826': 'GBP', '840': 'USD',
  '946': 'RON', '949': 'TRY', '978': 'EUR', '985': 'PLN', '986': 'BRL',
};

/** A request the translator refuses before the ledger: answered with `code`. */
export class TranslateError extends Error {
  constructor(readonly code: ResponseCode, readonly field: number | null, detail: string) {
    super(detail);
    this.name = 'TranslateError';
  }
}

/** Response MTI: third digit + 1 (0100 -> 0110, 0420 -> 0430); a response-class MTI is kept. */
export function responseMti(mti: string): string {
  const function_ = Number(mti[2]);
  return function_ % 2 === 0 ? mti.slice(0, 2) + String(function_ + 1) + mti.slice(3) : mti;
}

/** TPDU on replies: the 2-byte destination and source addresses swap; other headers are echoed. */
export function replyHeader(header: Uint8Array | undefined): Uint8Array | undefined {
  if (header?.length !== tpduBytes) return header;
  return Uint8Array.of(header[0]!, header[3]!, header[4]!, header[1]!, header[2]!);
}

/** The fields named that `from` has, in a new map. */
export function pickFields(from: ReadonlyMap<number, FieldValue>, numbers: Iterable<number>): Map<number, FieldValue> {
  const fields = new Map<number, FieldValue>();
  for (const number of numbers) {
    const value = from.get(number);
    if (value !== undefined) fields.set(number, value);
  }
  return fields;
}

/** The answer to `request` with response code `code` and extra fields. */
export function answer(request: IsoMessage, code: ResponseCode, extra: ReadonlyMap<number, FieldValue> = new Map()): IsoMessage {
  const fields = pickFields(request.fields, echoedFields);
  for (const [number, value] of extra) fields.set(number, value);
  fields.set(39, code);
  const header = replyHeader(request.header);
  return header === undefined ? { mti: responseMti(request.mti), fields } : { mti: responseMti(request.mti), header, fields };
}

function text(request: IsoMessage, field: number): string | undefined {
  const value = request.fields.get(field);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TranslateError('30', field, `field ${field} must be text`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function required(request: IsoMessage, field: number, what: string): string {
  const value = text(request, field);
  if (value === undefined) throw new TranslateError('30', field, `field ${field} (${what}) is required`);
  return value;
}

function currencyOf(request: IsoMessage): string {
  const value = required(request, 49, 'currency');
  if (/^[0-9]{3}$/.test(value)) {
    const alpha = currencyByNumber[value];
    if (alpha === undefined) throw new TranslateError('30', 49, `currency ${value} is not a supported ISO 4217 numeric code`);
    return alpha;
  }
  return value.toUpperCase();
}

/** Line items in the LI1 sub-format: field 48 (the lines), or field 63 (an exchange's replacement). */
function lineItemsOf(request: IsoMessage, field: 48 | 63 = 48): LineItem[] {
  const value = required(request, field, field === 48 ? 'line items' : 'replacement items');
  try {
    return decodeLineItems(value, lineItemLimitsDefault);
  } catch (error) {
    if (error instanceof CodecError) throw new TranslateError('30', field, `field ${field}: ${error.message}`);
    throw error;
  }
}

interface Keys {
  storeId: string;
  terminalId: string;
  stan: string;
  transmissionTime: string;
  idempotencyId: string;
}

function keysOf(request: IsoMessage): Keys {
  const storeId = required(request, 42, 'store id');
  const terminalId = required(request, 41, 'terminal id');
  const stan = required(request, 11, 'STAN');
  const transmissionTime = required(request, 7, 'transmission date and time');
  return { storeId, terminalId, stan, transmissionTime, idempotencyId: registerIdempotencyId(storeId, terminalId, stan, transmissionTime) };
}

/** The ledger return id of an authorization: `<terminal>-<STAN>-<field 7>`. */
export function isoReturnId(terminalId: string, stan: string, transmissionTime: string): string {
  return `${terminalId}-${stan}-${transmissionTime}`;
}

/** Field 90: original MTI (4), STAN (6), transmission time (10), then acquirer / forwarder ids. */
function originalOf(request: IsoMessage): { mti: string; stan: string; transmissionTime: string } {
  const value = required(request, 90, 'original data elements');
  if (!/^[0-9]{20}/.test(value)) throw new TranslateError('30', 90, 'field 90 must start with original MTI, STAN and transmission time');
  return { mti: value.slice(0, 4), stan: value.slice(4, 10), transmissionTime: value.slice(10, 20) };
}

function amountOf(request: IsoMessage): number | undefined {
  const value = text(request, 4);
  return value === undefined ? undefined : Number(value);
}

function tenderOf(request: IsoMessage, amountMinor: number): Tender {
  const pan = request.fields.get(2);
  if (typeof pan === 'string') return { tenderType: 'CARD', amountMinor, cardMasked: maskPan(pan) };
  if (request.fields.has(35) || request.fields.has(55)) return { tenderType: 'CARD', amountMinor };
  return { tenderType: 'CASH', amountMinor };
}

function field4(amountMinor: number): string {
  return String(Math.max(0, amountMinor)).padStart(12, '0');
}

function lr1(decisions: readonly LineDecision[]): string {
  return encodeLineDecisions(decisions.slice(0, lineItemLimitsDefault.linesMax), lineItemLimitsDefault);
}

function failureAnswer(request: IsoMessage, outcome: Outcome & { ok: false }): IsoMessage {
  return answer(request, codeForError(outcome.error.code));
}

function planSale(request: IsoMessage, keys: Keys): IsoPlan {
  const items = lineItemsOf(request);
  if (items.length === 0) throw new TranslateError('30', 48, 'a sale needs at least one line');
  const totalMinor = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  const amount = amountOf(request);
  if (amount !== undefined && amount !== totalMinor) {
    throw new TranslateError('13', 4, `field 4 is ${amount}, the lines total ${totalMinor}`);
  }
  const command: Command = {
    type: 'RecordSale', storeId: keys.storeId, receiptId: required(request, 37, 'receipt id'),
    channel: 'STORE', currency: currencyOf(request),
    lines: items.map(saleLineOf),
    tenders: [tenderOf(request, totalMinor)],
  };
  const respond = (outcome: Outcome): IsoMessage => {
    if (!outcome.ok) return failureAnswer(request, outcome);
    const result = outcome.result as SaleResult;
    return answer(request, codeForDecision(result), new Map([[48, lr1(saleLineDecisions(result, items))]]));
  };
  return { kind: 'command', envelope: { idempotencyId: keys.idempotencyId, actor: { terminalId: keys.terminalId }, command }, respond };
}

function planReturnAuthorization(request: IsoMessage, keys: Keys): IsoPlan {
  const items = lineItemsOf(request);
  if (items.length === 0) throw new TranslateError('30', 48, 'a return needs at least one line');
  const receiptId = text(request, 37);
  const command: Command = {
    type: 'AuthorizeReturn', storeId: keys.storeId,
    returnId: isoReturnId(keys.terminalId, keys.stan, keys.transmissionTime),
    lines: items.map((item) => returnLineOf(item, item.disposition, receiptId !== undefined)),
  };
  if (receiptId !== undefined) command.receiptId = receiptId;
  // An exchange: the replacement's lines travel in field 63 and are reserved with the hold; the
  // completion (0200) posts the return and sells the replacement as receipt `<return id>-X`.
  if (request.fields.has(63)) {
    const replacement = lineItemsOf(request, 63);
    if (replacement.length === 0) throw new TranslateError('30', 63, 'an exchange needs at least one replacement line');
    command.replacement = {
      receiptId: `${command.returnId}-X`,
      lines: replacement.map(saleLineOf),
    };
  }
  const respond = (outcome: Outcome): IsoMessage => {
    if (!outcome.ok) return failureAnswer(request, outcome);
    const result = outcome.result as AuthorizeResult;
    const extra = new Map<number, FieldValue>([[4, field4(result.refundMinor)], [48, lr1(returnLineDecisions(result))]]);
    if (result.decision !== 'DECLINED') extra.set(38, keys.stan);
    return answer(request, codeForDecision(result), extra);
  };
  return { kind: 'command', envelope: { idempotencyId: keys.idempotencyId, actor: { terminalId: keys.terminalId }, command }, respond };
}

function planReturnCompletion(request: IsoMessage, keys: Keys): IsoPlan {
  const original = originalOf(request);
  if (original.mti !== '0100' && original.mti !== '0120') {
    throw new TranslateError('12', 90, `a return completion refers to its authorization (0100 or 0120), not ${original.mti}`);
  }
  const command: Command = {
    type: 'CompleteReturn', storeId: keys.storeId,
    returnId: isoReturnId(keys.terminalId, original.stan, original.transmissionTime),
  };
  if (request.fields.has(48)) command.lines = lineItemsOf(request).map((item) => ({ lineNo: item.lineNo, quantity: item.quantity }));
  const respond = (outcome: Outcome): IsoMessage => {
    if (!outcome.ok) return failureAnswer(request, outcome);
    const result = outcome.result as CompleteResult;
    return answer(request, '00', new Map<number, FieldValue>([[4, field4(result.refundMinor)], [38, original.stan], [48, lr1(completeLineDecisions(result))]]));
  };
  return { kind: 'command', envelope: { idempotencyId: keys.idempotencyId, actor: { terminalId: keys.terminalId }, command }, respond };
}

function planReversal(request: IsoMessage, keys: Keys): IsoPlan {
  const original = originalOf(request);
  if (!required(request, 3, 'processing code').startsWith('20')) {
    throw new TranslateError('57', 3, 'a sale is not reversed; it is returned (processing code 20xxxx)');
  }
  const command: Command = {
    type: 'VoidReturn', storeId: keys.storeId,
    returnId: isoReturnId(keys.terminalId, original.stan, original.transmissionTime), reason: `iso ${request.mti} reversal`,
  };
  const respond = (outcome: Outcome): IsoMessage => (outcome.ok ? answer(request, '00') : failureAnswer(request, outcome));
  return { kind: 'command', envelope: { idempotencyId: keys.idempotencyId, actor: { terminalId: keys.terminalId }, command }, respond };
}

function planNetwork(request: IsoMessage): IsoPlan {
  required(request, 11, 'STAN');
  required(request, 7, 'transmission date and time');
  const code = required(request, 70, 'network management code');
  if (code === '001') return { kind: 'reply', response: answer(request, '00'), signOn: true };
  if (code === '002') return { kind: 'reply', response: answer(request, '00'), signOn: false };
  if (code === '301') return { kind: 'reply', response: answer(request, '00') };
  return { kind: 'reply', response: answer(request, '12') };
}

function planFinancial(request: IsoMessage): IsoPlan {
  const keys = keysOf(request);
  const processing = required(request, 3, 'processing code');
  const klass = request.mti.slice(0, 3);
  const isReturn = processing.startsWith('20');
  if (!isReturn && !processing.startsWith('00')) throw new TranslateError('12', 3, `processing code ${processing} is neither 00xxxx (sale) nor 20xxxx (return)`);
  if (klass === '040' || klass === '042') return planReversal(request, keys);
  if (!isReturn) return planSale(request, keys);
  // 0100 / 0120 authorize a return; 0200 / 0220 complete one that was authorized.
  return klass === '010' || klass === '012' ? planReturnAuthorization(request, keys) : planReturnCompletion(request, keys);
}

const financialMtis: ReadonlySet<string> = new Set(['0100', '0120', '0200', '0220', '0400', '0420']);

/** Decides what a decoded request becomes. Never throws: refusals come back as a reply. */
export function planIso(request: IsoMessage, session: Readonly<SessionState>): IsoPlan {
  try {
    if (request.mti === '0800') return planNetwork(request);
    if (!financialMtis.has(request.mti)) throw new TranslateError('12', 0, `MTI ${request.mti} is not a request tillgate serves`);
    if (!session.signedOn) return { kind: 'reply', response: answer(request, '58') };
    return planFinancial(request);
  } catch (error) {
    if (error instanceof TranslateError) return { kind: 'reply', response: answer(request, error.code) };
    return { kind: 'reply', response: answer(request, '96') };
  }
}
