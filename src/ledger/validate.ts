/**
 * Shape and bound checks for every command, run before anything is read or written. Commands
 * arrive from translators (gRPC, TCP) and over thread boundaries, so nothing is trusted: every
 * field is checked for type, range and length, and the first problem is reported with its path.
 */
import { isKnownCurrency } from './currency.js';
import { fail } from './errors.js';
import { limits, tooManyListed } from './limits.js';
import { luhnValid } from '../security/luhn.js';
import { buckets, channels, tenderTypes } from './types.js';
import type { Command, Envelope, Policy, ReturnLine, SaleLine, Tender } from './types.js';

type Unknown = Record<string, unknown>;

function isObject(value: unknown): value is Unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The digits of a text, read the way a person would: full-width and other compatibility digits count, separators do not. */
function digitsOf(text: string): string {
  return text.normalize('NFKC').replace(/\D/g, '');
}

/**
 * Card numbers as people write them: a plain run of 13 to 19 digits, or 4-4-4-x and 4-6-5 groups
 * joined by one space or hyphen each. Digits grouped any other way (dates, sequence numbers) are
 * not read as one number.
 */
const cardShapes = [/(?<!\d)\d{13,19}(?!\d)/g, /(?<!\d)\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}(?!\d)/g, /(?<!\d)\d{4}([ -])\d{6}\1\d{5}(?!\d)/g];

/** Holds a payment card number: one of the card shapes whose digits pass the Luhn check. */
function holdsCardNumber(text: string): boolean {
  const normalized = text.normalize('NFKC');
  return cardShapes.some((shape) => [...normalized.matchAll(shape)].some((match) => luhnValid(match[0].replace(/\D/g, ''))));
}

/**
 * How a refused value is quoted in an error message. Messages reach clients and logs, so a value
 * is quoted only when it is short and holds no run of digits that could be a card number; and a
 * long one never makes a long message (a message travels in gRPC trailers, which have a size limit).
 */
function quoted(value: unknown): string {
  if (typeof value === 'number') return digitsOf(String(value)).length >= 12 ? 'a number too long to quote' : String(value);
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  if (value.length > 24) return `a ${value.length}-character string`;
  if (digitsOf(value).length >= 12) return 'a value with too many digits to quote';
  return JSON.stringify(value);
}

/**
 * A UTF-16 surrogate without its pair: such a string has no UTF-8 form, so the stored record and
 * the journal (both UTF-8) would each hold a replacement character instead, and two different ids
 * could become one. gRPC and the gateway decode bytes and never produce one; in-process callers can.
 */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function refuseLoneSurrogate(text: string, field: string): void {
  if (loneSurrogate.test(text)) fail('INVALID_ARGUMENT', `${field} is not valid Unicode (a lone surrogate)`, field);
}

export function checkId(value: unknown, field: string, lengthMax: number = limits.idLengthMax): string {
  if (typeof value !== 'string' || value.length === 0) fail('INVALID_ARGUMENT', `${field} must be a non-empty string`, field);
  const text = value as string;
  if (text.length > lengthMax) fail('STRING_TOO_LONG', `${field} is ${text.length} characters, more than ${lengthMax}`, field);
  refuseLoneSurrogate(text, field);
  // Control characters in ids break logs, fixed-width records and key ordering.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) fail('INVALID_ARGUMENT', `${field} contains control characters`, field);
  return text;
}

/**
 * Refuses a field the command does not define. Whatever an object carries is stored with it (a
 * receipt keeps its tenders, the journal its actor), so an extra field would reach the disk
 * unchecked: a clear PAN or CVV beside a masked one, a value nested deep enough to overflow the
 * encoder. gRPC and the gateway build commands field by field; an in-process caller may not.
 * A member set to undefined is taken as absent (it is not stored).
 */
function checkKnownFields(value: Unknown, known: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(value)) {
    if (known.has(key) || value[key] === undefined) continue;
    const name = /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(key) ? key : 'unnamed';
    const at = path === '' ? name : `${path}.${name}`;
    fail('INVALID_ARGUMENT', `${at} is not a field of ${path === '' ? 'the command' : path}`, at);
  }
}

const fieldsOf = (...names: string[]): ReadonlySet<string> => new Set(names);
const envelopeFields = fieldsOf('idempotencyId', 'actor', 'command');
const actorFields = fieldsOf('terminalId', 'operatorId');
const saleLineFields = fieldsOf('lineNo', 'sku', 'quantity', 'unitPriceMinor');
const returnLineFields = fieldsOf('lineNo', 'receiptLineNo', 'sku', 'quantity', 'unitRefundMinor', 'disposition');
const completeLineFields = fieldsOf('lineNo', 'quantity');
const tenderFields = fieldsOf('tenderType', 'amountMinor', 'cardMasked');
const overrideFields = fieldsOf('operatorId', 'reasonCode');
const replacementFields = fieldsOf('receiptId', 'lines');
const receiptCommandFields = ['type', 'storeId', 'receiptId', 'channel', 'currency', 'lines', 'tenders', 'customerToken'];
const returnCommandFields = ['type', 'storeId', 'returnId', 'receiptId', 'customerToken', 'lines', 'override', 'replacement'];
const commandFields: Record<Command['type'], ReadonlySet<string>> = {
  UpsertStore: fieldsOf('type', 'storeId', 'name', 'currency', 'policy'),
  UpsertSku: fieldsOf('type', 'sku', 'description', 'returnable', 'returnWindowDays'),
  ReceiveStock: fieldsOf('type', 'storeId', 'sku', 'bucket', 'quantity', 'reference'),
  AdjustStock: fieldsOf('type', 'storeId', 'sku', 'bucket', 'delta', 'reason'),
  CountStock: fieldsOf('type', 'storeId', 'sku', 'bucket', 'countedQuantity'),
  TransferStock: fieldsOf('type', 'storeId', 'sku', 'fromBucket', 'toBucket', 'quantity'),
  RecordSale: fieldsOf(...receiptCommandFields),
  ImportReceipt: fieldsOf(...receiptCommandFields, 'soldAtMs'),
  AuthorizeReturn: fieldsOf(...returnCommandFields),
  Exchange: fieldsOf(...returnCommandFields),
  CompleteReturn: fieldsOf('type', 'storeId', 'returnId', 'lines'),
  VoidReturn: fieldsOf('type', 'storeId', 'returnId', 'reason'),
};

/**
 * Issuer ranges of the payment cards in use, by length (Luhn aside): 14 digits are Diners (300-305,
 * 36, 38, 39); 15 are Amex (34, 37) or UATP (1); 16 to 19 are Visa (4), Mastercard (2, 5), Discover,
 * UnionPay, RuPay and Maestro (6, 5), JCB and Diners (3), RuPay (81, 82) and Troy (9792), with 17 and
 * 18 only in the 3, 5 and 6 ranges. Numbers outside these (an EAN-13, a GTIN-14 of another
 * indicator, an SSCC outside 3, 5 and 6) are product or shipping codes, though a tenth of them pass
 * the Luhn check. Left out on purpose: 13 digits (Visa's long-retired 13-digit cards share EAN-13's
 * German range 400-440) and Maestro's 12 and 13; the logs mask those too.
 */
function isPaymentCardShape(digits: string): boolean {
  const length = digits.length;
  const first = digits.charCodeAt(0) - 48;
  const two = Number(digits.slice(0, 2));
  const three = Number(digits.slice(0, 3));
  if (length === 14) return two === 36 || two === 38 || two === 39 || (three >= 300 && three <= 305);
  if (length === 15) return two === 34 || two === 37 || first === 1;
  if (length === 17 || length === 18) return first === 3 || first === 5 || first === 6;
  if (length === 16 || length === 19) return (first >= 2 && first <= 6) || two === 81 || two === 82 || digits.startsWith('9792');
  return false;
}

/** Groups of digits joined by single spaces, dots or dashes: a number as it is printed or typed, however grouped. */
const digitGroups = /\d+(?:[ .-]\d+)*/g;

/**
 * Holds a payment card number: whole groups of a run of digits (any grouping: 4-4-4-4, Diners'
 * 4-6-4, UATP's 4-5-6, dots) that together have a card's length and issuer range and pass the
 * Luhn check. Whole groups only, so a card number is found beside other numbers in the same run
 * ("qty 2 4111 1111 1111 1111") without reading the digits of a longer code as one.
 */
function holdsPaymentCardNumber(text: string): boolean {
  for (const match of text.normalize('NFKC').matchAll(digitGroups)) {
    const groups = match[0].split(/[ .-]/);
    for (let first = 0; first < groups.length; first += 1) {
      let digits = '';
      for (let last = first; last < groups.length && digits.length < 19; last += 1) {
        digits += groups[last];
        if (digits.length >= 14 && digits.length <= 19 && isPaymentCardShape(digits) && luhnValid(digits)) return true;
      }
    }
  }
  return false;
}

/**
 * Free text (names, descriptions, references, reasons) is stored and journalled as written, so
 * one that holds a payment card number is refused: card data is never stored. Only issuer ranges
 * count here (isPaymentCardShape), so most EANs, GTINs and shipping codes that catalog and
 * goods-receipt text carries pass (a 16-digit order number in a card range that passes the Luhn
 * check is refused: it cannot be told from a card). Ids are not read this way at all: a numeric
 * receipt id passes the Luhn check one time in ten and is no card number.
 */
function refuseCardNumber(text: string, field: string): void {
  if (holdsPaymentCardNumber(text)) fail('INVALID_ARGUMENT', `${field} holds what looks like a payment card number; card data is never stored`, field);
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string') fail('INVALID_ARGUMENT', `${field} must be a string`, field);
  const text = value as string;
  if (text.length > limits.textLengthMax) fail('STRING_TOO_LONG', `${field} is ${text.length} characters, more than ${limits.textLengthMax}`, field);
  refuseLoneSurrogate(text, field);
  refuseCardNumber(text, field);
  return text;
}

function checkOptionalId(value: unknown, field: string): void {
  if (value !== undefined) checkId(value, field);
}

export function checkQuantity(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail('QUANTITY_INVALID', `${field} must be a positive integer, got ${quoted(value)}`, field);
  }
  if ((value as number) > limits.quantityMax) fail('QUANTITY_INVALID', `${field} ${quoted(value)} is more than ${limits.quantityMax}`, field);
  return value as number;
}

function checkSignedQuantity(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value === 0) {
    fail('QUANTITY_INVALID', `${field} must be a non-zero integer, got ${quoted(value)}`, field);
  }
  if (Math.abs(value as number) > limits.quantityMax) fail('QUANTITY_INVALID', `${field} ${quoted(value)} is beyond ±${limits.quantityMax}`, field);
  return value as number;
}

function checkCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > limits.positionAbsMax) {
    fail('QUANTITY_INVALID', `${field} must be an integer from 0 to ${limits.positionAbsMax}, got ${quoted(value)}`, field);
  }
  return value as number;
}

export function checkAmount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > limits.amountMinorMax) {
    fail('AMOUNT_INVALID', `${field} must be an integer amount in minor units from 0 to ${limits.amountMinorMax}, got ${quoted(value)}`, field);
  }
  return value as number;
}

function checkEnum<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail('INVALID_ARGUMENT', `${field} must be one of ${allowed.join(', ')}, got ${quoted(value)}`, field);
  }
  return value as T;
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') fail('INVALID_ARGUMENT', `${field} must be a boolean`, field);
  return value as boolean;
}

function checkCurrency(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isKnownCurrency(value)) {
    fail('CURRENCY_UNKNOWN', `${field} ${quoted(value)} is not an ISO 4217 currency code`, field);
  }
  return value as string;
}

function checkLines<T>(value: unknown, field: string, fields: ReadonlySet<string>, each: (line: Unknown, path: string) => T, allowEmpty = false): T[] {
  if (!Array.isArray(value)) fail('INVALID_ARGUMENT', `${field} must be a list`, field);
  const list = value as unknown[];
  if (list.length === 0 && !allowEmpty) fail('INVALID_ARGUMENT', `${field} must have at least one line`, field);
  const tooMany = tooManyListed(field, list.length, 'lines');
  if (tooMany !== undefined) fail('TOO_MANY_LINES', tooMany, field);
  const seen = new Set<number>();
  const checked: T[] = [];
  // By index, not map/forEach, which skip the holes of a sparse list: a hole is a missing line.
  for (let index = 0; index < list.length; index += 1) {
    const line = list[index];
    const path = `${field}[${index}]`;
    if (!isObject(line)) fail('INVALID_ARGUMENT', `${path} must be an object`, path);
    checkKnownFields(line as Unknown, fields, path);
    const lineNo = (line as Unknown).lineNo;
    if (typeof lineNo !== 'number' || !Number.isSafeInteger(lineNo) || lineNo < 1 || lineNo > 9999) {
      fail('INVALID_ARGUMENT', `${path}.lineNo must be an integer from 1 to 9999`, `${path}.lineNo`);
    }
    if (seen.has(lineNo as number)) fail('DUPLICATE_LINE_NUMBER', `${path}.lineNo ${String(lineNo)} appears twice`, `${path}.lineNo`);
    seen.add(lineNo as number);
    checked.push(each(line as Unknown, path));
  }
  return checked;
}

function checkSaleLine(line: Unknown, path: string): SaleLine {
  checkId(line.sku, `${path}.sku`);
  checkQuantity(line.quantity, `${path}.quantity`);
  checkAmount(line.unitPriceMinor, `${path}.unitPriceMinor`);
  return line as unknown as SaleLine;
}

function checkReturnLine(line: Unknown, path: string): ReturnLine {
  checkId(line.sku, `${path}.sku`);
  checkQuantity(line.quantity, `${path}.quantity`);
  checkEnum(line.disposition, buckets, `${path}.disposition`);
  if (line.receiptLineNo !== undefined && (typeof line.receiptLineNo !== 'number' || !Number.isSafeInteger(line.receiptLineNo) || line.receiptLineNo < 1)) {
    fail('INVALID_ARGUMENT', `${path}.receiptLineNo must be a positive integer`, `${path}.receiptLineNo`);
  }
  if (line.unitRefundMinor !== undefined) checkAmount(line.unitRefundMinor, `${path}.unitRefundMinor`);
  return line as unknown as ReturnLine;
}

function checkTenders(value: unknown, field: string, totalMinor: number): Tender[] {
  if (!Array.isArray(value) || value.length === 0) fail('INVALID_ARGUMENT', `${field} must be a non-empty list`, field);
  const list = value as unknown[];
  const tooMany = tooManyListed(field, list.length, 'tenders');
  if (tooMany !== undefined) fail('TOO_MANY_LINES', tooMany, field);
  let sumMinor = 0;
  // By index: forEach would skip the holes of a sparse list.
  for (let index = 0; index < list.length; index += 1) {
    const tender = list[index];
    const path = `${field}[${index}]`;
    if (!isObject(tender)) fail('INVALID_ARGUMENT', `${path} must be an object`, path);
    const t = tender as Unknown;
    checkKnownFields(t, tenderFields, path);
    checkEnum(t.tenderType, tenderTypes, `${path}.tenderType`);
    sumMinor += checkAmount(t.amountMinor, `${path}.amountMinor`);
    if (t.cardMasked !== undefined) checkMaskedPan(t.cardMasked, `${path}.cardMasked`);
  }
  if (sumMinor !== totalMinor) {
    fail('TENDER_TOTAL_MISMATCH', `${field} add up to ${sumMinor}, but the lines total ${totalMinor}`, field);
  }
  return list as Tender[];
}

/** A card reference must already be masked or tokenized: a clear PAN is refused, never stored. */
function checkMaskedPan(value: unknown, field: string): void {
  checkId(value, field, 32);
  // No separator makes a card number safe (4111-1111-1111-1111, 4111_1111_..., 4111/1111/...,
  // full-width digits): with separators taken out, 12 digits in a row are refused, which takes in
  // every card shape (holdsCardNumber). A mask (first 6 or 8 / last 4) breaks the run; a token's letters too.
  const joined = (value as string).normalize('NFKC').replace(/[\s.,_/\\-]/g, '');
  if (/\d{12,}/.test(joined)) {
    fail('INVALID_ARGUMENT', `${field} looks like a clear card number; send it masked (first 6 / last 4) or tokenized`, field);
  }
}

export function linesTotalMinor(lines: readonly { quantity: number; unitPriceMinor: number }[], field: string): number {
  let total = 0;
  for (const line of lines) total += line.quantity * line.unitPriceMinor;
  if (!Number.isSafeInteger(total) || total > limits.amountMinorMax) {
    // Past 2^53 the sum is no longer exact, so it is not quoted.
    fail('AMOUNT_INVALID', `${field} total ${Number.isSafeInteger(total) ? `${total} ` : ''}is more than ${limits.amountMinorMax}`, field);
  }
  return total;
}

const policyChecks: Record<keyof Policy, (value: unknown, field: string) => void> = {
  returnWindowDays: (v, f) => checkRange(v, f, 0, limits.returnWindowDaysMax),
  nonReceiptedAmountMaxMinor: (v, f) => checkAmount(v, f),
  velocityReturnsMax: (v, f) => checkRange(v, f, 0, limits.velocityReturnsMax),
  velocityPeriodMs: (v, f) => checkRange(v, f, 1000, 366 * 24 * 3600 * 1000),
  holdTtlMs: (v, f) => checkRange(v, f, limits.holdTtlMsMin, limits.holdTtlMsMax),
  backorderAllowed: (v, f) => checkBoolean(v, f),
  offlineFloorLimitMinor: (v, f) => checkAmount(v, f),
  refundToOriginalTender: (v, f) => checkBoolean(v, f),
};

function checkRange(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail('INVALID_ARGUMENT', `${field} must be an integer from ${min} to ${max}, got ${quoted(value)}`, field);
  }
}

export function checkPolicy(value: unknown, field: string): Partial<Policy> {
  if (!isObject(value)) fail('INVALID_ARGUMENT', `${field} must be an object`, field);
  for (const [key, fieldValue] of Object.entries(value as Unknown)) {
    if (fieldValue === undefined) continue;
    // Own settings only: inherited members (toString, __proto__, ...) are not policy settings.
    const check = Object.hasOwn(policyChecks, key) ? policyChecks[key as keyof Policy] : undefined;
    if (check === undefined) fail('INVALID_ARGUMENT', `${field}.${key} is not a policy setting`, `${field}.${key}`);
    else check(fieldValue, `${field}.${key}`);
  }
  return value as Partial<Policy>;
}

function checkOverride(value: unknown): void {
  if (value === undefined) return;
  if (!isObject(value)) fail('INVALID_ARGUMENT', 'override must be an object', 'override');
  checkKnownFields(value as Unknown, overrideFields, 'override');
  checkId((value as Unknown).operatorId, 'override.operatorId');
  refuseCardNumber(checkId((value as Unknown).reasonCode, 'override.reasonCode'), 'override.reasonCode');
}

function checkReplacement(value: unknown, required: boolean): void {
  if (value === undefined) {
    if (required) fail('INVALID_ARGUMENT', 'replacement is required for an exchange', 'replacement');
    return;
  }
  if (!isObject(value)) fail('INVALID_ARGUMENT', 'replacement must be an object', 'replacement');
  const replacement = value as Unknown;
  checkKnownFields(replacement, replacementFields, 'replacement');
  checkId(replacement.receiptId, 'replacement.receiptId');
  const lines = checkLines(replacement.lines, 'replacement.lines', saleLineFields, checkSaleLine);
  linesTotalMinor(lines, 'replacement.lines');
}

type Checker = (c: Unknown) => void;

const checkers: Record<Command['type'], Checker> = {
  UpsertStore: (c) => {
    checkId(c.storeId, 'storeId');
    checkText(c.name, 'name');
    checkCurrency(c.currency, 'currency');
    if (c.policy !== undefined) checkPolicy(c.policy, 'policy');
  },
  UpsertSku: (c) => {
    checkId(c.sku, 'sku');
    checkText(c.description, 'description');
    checkBoolean(c.returnable, 'returnable');
    checkRange(c.returnWindowDays, 'returnWindowDays', 0, limits.returnWindowDaysMax);
  },
  ReceiveStock: (c) => {
    checkStoreSku(c);
    checkEnum(c.bucket, buckets, 'bucket');
    checkQuantity(c.quantity, 'quantity');
    checkText(c.reference, 'reference');
  },
  AdjustStock: (c) => {
    checkStoreSku(c);
    checkEnum(c.bucket, buckets, 'bucket');
    checkSignedQuantity(c.delta, 'delta');
    refuseCardNumber(checkId(c.reason, 'reason', limits.textLengthMax), 'reason');
  },
  CountStock: (c) => {
    checkStoreSku(c);
    checkEnum(c.bucket, buckets, 'bucket');
    checkCount(c.countedQuantity, 'countedQuantity');
  },
  TransferStock: (c) => {
    checkStoreSku(c);
    checkEnum(c.fromBucket, buckets, 'fromBucket');
    checkEnum(c.toBucket, buckets, 'toBucket');
    if (c.fromBucket === c.toBucket) fail('INVALID_ARGUMENT', 'fromBucket and toBucket must differ', 'toBucket');
    checkQuantity(c.quantity, 'quantity');
  },
  RecordSale: (c) => checkReceiptCommand(c),
  ImportReceipt: (c) => {
    checkReceiptCommand(c);
    checkRange(c.soldAtMs, 'soldAtMs', 0, Number.MAX_SAFE_INTEGER);
  },
  AuthorizeReturn: (c) => checkReturnCommand(c, false),
  Exchange: (c) => checkReturnCommand(c, true),
  CompleteReturn: (c) => {
    checkId(c.storeId, 'storeId');
    checkId(c.returnId, 'returnId');
    if (c.lines !== undefined) {
      checkLines(c.lines, 'lines', completeLineFields, (line, path) => checkQuantity(line.quantity, `${path}.quantity`));
    }
  },
  VoidReturn: (c) => {
    checkId(c.storeId, 'storeId');
    checkId(c.returnId, 'returnId');
    checkText(c.reason, 'reason');
  },
};

function checkStoreSku(c: Unknown): void {
  checkId(c.storeId, 'storeId');
  checkId(c.sku, 'sku');
}

/** A customer token identifies a customer for velocity limits; it must never be a card number. */
function checkCustomerToken(value: unknown): void {
  if (value === undefined) return;
  checkId(value, 'customerToken');
  if (holdsCardNumber(value as string)) fail('INVALID_ARGUMENT', 'customerToken holds what looks like a card number; send a token, never the number', 'customerToken');
}

function checkReceiptCommand(c: Unknown): void {
  checkId(c.storeId, 'storeId');
  checkId(c.receiptId, 'receiptId');
  checkEnum(c.channel, channels, 'channel');
  checkCurrency(c.currency, 'currency');
  checkCustomerToken(c.customerToken);
  const lines = checkLines(c.lines, 'lines', saleLineFields, checkSaleLine);
  checkTenders(c.tenders, 'tenders', linesTotalMinor(lines, 'lines'));
}

function checkReturnCommand(c: Unknown, isExchange: boolean): void {
  checkId(c.storeId, 'storeId');
  checkId(c.returnId, 'returnId');
  checkOptionalId(c.receiptId, 'receiptId');
  checkCustomerToken(c.customerToken);
  const lines = checkLines(c.lines, 'lines', returnLineFields, checkReturnLine);
  if (c.receiptId === undefined) {
    const priced = lines.map((line, index) => {
      if (line.unitRefundMinor === undefined) {
        fail('INVALID_ARGUMENT', `lines[${index}].unitRefundMinor is required for a non-receipted return`, `lines[${index}].unitRefundMinor`);
      }
      return { quantity: line.quantity, unitPriceMinor: line.unitRefundMinor as number };
    });
    // The refund asked for is a money amount like any other: no manager override can take it past
    // the largest amount (or past exact integer arithmetic).
    linesTotalMinor(priced, 'lines');
  } else {
    lines.forEach((line, index) => {
      if (line.receiptLineNo === undefined) {
        fail('INVALID_ARGUMENT', `lines[${index}].receiptLineNo is required for a receipted return`, `lines[${index}].receiptLineNo`);
      }
    });
  }
  checkOverride(c.override);
  checkReplacement(c.replacement, isExchange);
}

/** Checks an envelope and its command; throws LedgerError on the first problem. */
export function validateEnvelope(envelope: unknown): Envelope {
  if (!isObject(envelope)) fail('INVALID_ARGUMENT', 'envelope must be an object', 'envelope');
  const e = envelope as Unknown;
  checkKnownFields(e, envelopeFields, 'envelope');
  checkId(e.idempotencyId, 'idempotencyId', limits.idempotencyIdLengthMax);
  if (!isObject(e.actor)) fail('INVALID_ARGUMENT', 'actor must be an object', 'actor');
  const actor = e.actor as Unknown;
  checkKnownFields(actor, actorFields, 'actor');
  checkOptionalId(actor.terminalId, 'actor.terminalId');
  checkOptionalId(actor.operatorId, 'actor.operatorId');
  if (!isObject(e.command)) fail('INVALID_ARGUMENT', 'command must be an object', 'command');
  const command = e.command as Unknown;
  const checker = checkers[command.type as Command['type']];
  if (checker === undefined || !Object.prototype.hasOwnProperty.call(checkers, command.type as string)) {
    fail('UNKNOWN_COMMAND', `command type ${quoted(command.type)} is not known`, 'command.type');
  }
  checkKnownFields(command, commandFields[command.type as Command['type']], '');
  checker(command);
  return envelope as Envelope;
}
