// Line items in a private ISO 8583 field (field 48, "additional data - private", LLLVAR ans..999
// in iso87-ascii and iso87-binary). Fixed-width ASCII so a register can build it with sprintf.
//
// Request (0100/0200/0120/0220), version tag "LI1":
//   "LI1" count(n2) then per line:
//   lineNo(n3) skuLength(n2) sku(ans, skuLength) quantity(n5) unitPrice(n10, minor units)
//   disposition(a1: S sellable, D damaged, Q quarantine) originalLineNo(n3, 000 = none)
// Response (0110/0210/0130/0230), version tag "LR1":
//   "LR1" count(n2) then per line:
//   lineNo(n3) decision(a1: A approved, P partially approved, D declined) reason(an2)
//   approvedQuantity(n5)
// Errors are CodecErrors whose `field` is the 1-based line (null for the leading tag and count)
// and whose `offset` is the character offset inside the field value.
import { CodecError } from './errors.js';

export type Disposition = 'S' | 'D' | 'Q';
export type LineDecisionCode = 'A' | 'P' | 'D';

export interface LineItem {
  readonly lineNo: number;
  readonly sku: string;
  readonly quantity: number;
  /** Minor units of the transaction currency. */
  readonly unitPrice: number;
  readonly disposition: Disposition;
  /** Line on the original receipt; 0 when there is none (a sale line). */
  readonly originalLineNo: number;
}

export interface LineDecision {
  readonly lineNo: number;
  readonly decision: LineDecisionCode;
  /** Two characters; see lineReasons. */
  readonly reason: string;
  readonly approvedQuantity: number;
}

export interface LineItemLimits {
  /** Lines in one message; at most 99 (two-digit count). */
  readonly linesMax: number;
  /** Characters of one SKU; at most 99 (two-digit length). */
  readonly skuLengthMax: number;
  /** Characters of the whole field value: the carrying field's maxLength. */
  readonly fieldCharsMax: number;
}

/** 20 lines of 20-character SKUs fill 885 of field 48's 999 characters. */
export const lineItemLimitsDefault: LineItemLimits = { linesMax: 20, skuLengthMax: 20, fieldCharsMax: 999 };

/** Reason codes for per-line decisions (the first three mirror ISO 8583 field 39 codes). */
export const lineReasons = {
  '00': 'accepted',
  '13': 'unit price differs from the original sale',
  '25': 'original receipt line not found',
  '57': 'SKU not returnable',
  '61': 'quantity exceeds what remains returnable on the original line',
  '64': 'disposition not allowed for this SKU',
} as const;

export const lineItemsTag = 'LI1';
export const lineDecisionsTag = 'LR1';
const itemFixedChars = 3 + 2 + 5 + 10 + 1 + 3;
const decisionChars = 3 + 1 + 2 + 5;
const headerChars = 3 + 2;

class Cursor {
  offset = 0;
  constructor(readonly text: string, readonly line: number | null = null) {}

  take(count: number, what: string): string {
    if (this.offset + count > this.text.length) {
      throw new CodecError('TRUNCATED', this.line, this.offset, `${what} needs ${count} characters, ${this.text.length - this.offset} left`);
    }
    const value = this.text.slice(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }

  number(count: number, what: string): number {
    const at = this.offset;
    const value = this.take(count, what);
    if (!/^[0-9]+$/.test(value)) throw new CodecError('BAD_ENCODING', this.line, at, `${what} ${JSON.stringify(value)} is not digits`);
    return Number(value);
  }

  oneOf<T extends string>(count: number, what: string, allowed: readonly T[]): T {
    const at = this.offset;
    const value = this.take(count, what);
    if (!(allowed as readonly string[]).includes(value)) {
      throw new CodecError('BAD_ENCODING', this.line, at, `${what} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    }
    return value as T;
  }
}

function digits(value: number, count: number, what: string, line: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 10 ** count) {
    throw new CodecError('BAD_VALUE', line, 0, `${what} ${value} is not an integer in 0..${10 ** count - 1}`);
  }
  return String(value).padStart(count, '0');
}

function isPrintable(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

function checkCount(count: number, limits: LineItemLimits, offset: number): void {
  if (count > limits.linesMax) {
    throw new CodecError('LIMIT_EXCEEDED', null, offset, `${count} lines, linesMax is ${limits.linesMax}`);
  }
}

function checkFieldChars(text: string, limits: LineItemLimits): string {
  if (text.length > limits.fieldCharsMax) {
    throw new CodecError('LIMIT_EXCEEDED', null, limits.fieldCharsMax, `${text.length} characters, fieldCharsMax is ${limits.fieldCharsMax}`);
  }
  return text;
}

function encodeItem(item: LineItem, line: number, limits: LineItemLimits): string {
  if (item.sku.length === 0 || item.sku.length > limits.skuLengthMax || !isPrintable(item.sku)) {
    throw new CodecError('BAD_VALUE', line, 0, `SKU must be 1..${limits.skuLengthMax} printable ASCII characters`);
  }
  if (item.lineNo < 1) throw new CodecError('BAD_VALUE', line, 0, 'lineNo starts at 1');
  if (item.quantity < 1) throw new CodecError('BAD_VALUE', line, 0, 'quantity is at least 1');
  if (!['S', 'D', 'Q'].includes(item.disposition)) {
    throw new CodecError('BAD_VALUE', line, 0, `disposition ${JSON.stringify(item.disposition)} is not S, D or Q`);
  }
  return digits(item.lineNo, 3, 'lineNo', line) + digits(item.sku.length, 2, 'SKU length', line) + item.sku +
    digits(item.quantity, 5, 'quantity', line) + digits(item.unitPrice, 10, 'unitPrice', line) + item.disposition +
    digits(item.originalLineNo, 3, 'originalLineNo', line);
}

export function encodeLineItems(items: readonly LineItem[], limits: LineItemLimits = lineItemLimitsDefault): string {
  checkCount(items.length, limits, 0);
  const parts = [lineItemsTag, digits(items.length, 2, 'line count', 0)];
  items.forEach((item, index) => parts.push(encodeItem(item, index + 1, limits)));
  return checkFieldChars(parts.join(''), limits);
}

function decodeItem(text: string, start: number, line: number, limits: LineItemLimits, seen: Set<number>): { item: LineItem; end: number } {
  const c = new Cursor(text, line);
  c.offset = start;
  const lineNo = c.number(3, 'lineNo');
  if (lineNo < 1 || seen.has(lineNo)) throw new CodecError('BAD_VALUE', line, start, `lineNo ${lineNo} is 0 or repeated`);
  seen.add(lineNo);
  const skuAt = c.offset;
  const skuLength = c.number(2, 'SKU length');
  if (skuLength === 0 || skuLength > limits.skuLengthMax) {
    throw new CodecError('LIMIT_EXCEEDED', line, skuAt, `SKU length ${skuLength} is not in 1..skuLengthMax ${limits.skuLengthMax}`);
  }
  const sku = c.take(skuLength, 'SKU');
  if (!isPrintable(sku)) throw new CodecError('BAD_ENCODING', line, skuAt + 2, 'SKU holds a character outside printable ASCII');
  const quantityAt = c.offset;
  const quantity = c.number(5, 'quantity');
  if (quantity === 0) throw new CodecError('BAD_VALUE', line, quantityAt, 'quantity is 0');
  const unitPrice = c.number(10, 'unitPrice');
  const disposition = c.oneOf<Disposition>(1, 'disposition', ['S', 'D', 'Q']);
  const originalLineNo = c.number(3, 'originalLineNo');
  return { item: { lineNo, sku, quantity, unitPrice, disposition, originalLineNo }, end: c.offset };
}

function decodeHeader(text: string, tag: string, limits: LineItemLimits): number {
  checkFieldChars(text, limits);
  const c = new Cursor(text);
  c.oneOf(3, 'version tag', [tag]);
  const count = c.number(2, 'line count');
  checkCount(count, limits, 3);
  return count;
}

export function decodeLineItems(text: string, limits: LineItemLimits = lineItemLimitsDefault): LineItem[] {
  const count = decodeHeader(text, lineItemsTag, limits);
  const items: LineItem[] = [];
  const seen = new Set<number>();
  let offset = headerChars;
  for (let line = 1; line <= count; line++) {
    const { item, end } = decodeItem(text, offset, line, limits, seen);
    items.push(item);
    offset = end;
  }
  if (offset !== text.length) throw new CodecError('TRAILING_BYTES', null, offset, `${text.length - offset} characters after line ${count}`);
  return items;
}

export function encodeLineDecisions(decisions: readonly LineDecision[], limits: LineItemLimits = lineItemLimitsDefault): string {
  checkCount(decisions.length, limits, 0);
  const parts = [lineDecisionsTag, digits(decisions.length, 2, 'line count', 0)];
  decisions.forEach((d, index) => {
    const line = index + 1;
    if (!['A', 'P', 'D'].includes(d.decision)) throw new CodecError('BAD_VALUE', line, 0, `decision ${JSON.stringify(d.decision)} is not A, P or D`);
    if (!/^[0-9A-Z]{2}$/.test(d.reason)) throw new CodecError('BAD_VALUE', line, 0, `reason ${JSON.stringify(d.reason)} is not two digits or capitals`);
    parts.push(digits(d.lineNo, 3, 'lineNo', line) + d.decision + d.reason + digits(d.approvedQuantity, 5, 'approvedQuantity', line));
  });
  return checkFieldChars(parts.join(''), limits);
}

export function decodeLineDecisions(text: string, limits: LineItemLimits = lineItemLimitsDefault): LineDecision[] {
  const count = decodeHeader(text, lineDecisionsTag, limits);
  const expected = headerChars + count * decisionChars;
  if (text.length !== expected) {
    const code = text.length < expected ? 'TRUNCATED' : 'TRAILING_BYTES';
    throw new CodecError(code, null, Math.min(text.length, expected), `${count} decisions need ${expected} characters, value has ${text.length}`);
  }
  const decisions: LineDecision[] = [];
  for (let line = 1; line <= count; line++) {
    const c = new Cursor(text, line);
    c.offset = headerChars + (line - 1) * decisionChars;
    const lineNo = c.number(3, 'lineNo');
    const decision = c.oneOf<LineDecisionCode>(1, 'decision', ['A', 'P', 'D']);
    const reasonAt = c.offset;
    const reason = c.take(2, 'reason');
    if (!/^[0-9A-Z]{2}$/.test(reason)) throw new CodecError('BAD_ENCODING', line, reasonAt, `reason ${JSON.stringify(reason)} is not two digits or capitals`);
    decisions.push({ lineNo, decision, reason, approvedQuantity: c.number(5, 'approvedQuantity') });
  }
  return decisions;
}

/** Characters one item line takes on the wire, for callers that plan how many lines fit. */
export function lineItemChars(skuLength: number): number {
  return itemFixedChars + skuLength;
}
