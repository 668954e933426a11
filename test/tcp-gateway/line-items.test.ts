// The field 48 line-item sub-format: exact layout, round trips, limits and precise errors.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import {
  CodecError, decode, decodeLineDecisions, decodeLineItems, encode, encodeLineDecisions, encodeLineItems, iso87Binary,
  lineItemChars, lineItemLimitsDefault, lineItemsField,
} from '../../src/tcp-gateway/codec/index.js';
import type { CodecErrorCode, LineDecision, LineItem } from '../../src/tcp-gateway/codec/index.js';
import { message } from './helpers.js';

const items: LineItem[] = [
  { lineNo: 1, sku: 'SKU-1', quantity: 2, unitPrice: 1999, disposition: 'S', originalLineNo: 3 },
  { lineNo: 2, sku: '4006381333931', quantity: 1, unitPrice: 250, disposition: 'D', originalLineNo: 0 },
];
const itemsText =
  'LI1' + '02' +
  '001' + '05' + 'SKU-1' + '00002' + '0000001999' + 'S' + '003' +
  '002' + '13' + '4006381333931' + '00001' + '0000000250' + 'D' + '000';
const decisions: LineDecision[] = [
  { lineNo: 1, decision: 'A', reason: '00', approvedQuantity: 2 },
  { lineNo: 2, decision: 'P', reason: '61', approvedQuantity: 1 },
];
const decisionsText = 'LR1' + '02' + '001' + 'A' + '00' + '00002' + '002' + 'P' + '61' + '00001';

function codecError(t: ExecutionContext, run: () => unknown, code: CodecErrorCode, field: number | null, offset: number): void {
  const error = t.throws(run, { instanceOf: CodecError });
  t.is(error?.code, code, error?.message);
  t.is(error?.field, field, error?.message);
  t.is(error?.offset, offset, error?.message);
}

test('line items encode to the documented layout and decode back', (t) => {
  t.is(encodeLineItems(items), itemsText);
  t.deepEqual(decodeLineItems(itemsText), items);
  t.is(lineItemChars(5), 29);
});

test('line decisions encode to the documented layout and decode back', (t) => {
  t.is(encodeLineDecisions(decisions), decisionsText);
  t.deepEqual(decodeLineDecisions(decisionsText), decisions);
  t.deepEqual(decodeLineDecisions('LR100'), []);
});

test(`line items travel in field ${lineItemsField} of iso87-binary`, (t) => {
  const bytes = encode(message('0200', { 3: '200000', [lineItemsField]: encodeLineItems(items) }), iso87Binary);
  const value = decode(bytes, iso87Binary).fields.get(lineItemsField);
  t.is(value, itemsText);
  t.deepEqual(decodeLineItems(value as string), items);
});

test('linesMax lines with skuLengthMax SKUs fit the 999 characters of field 48', (t) => {
  const full: LineItem[] = Array.from({ length: lineItemLimitsDefault.linesMax }, (_, i) => ({
    lineNo: i + 1, sku: 'S'.repeat(lineItemLimitsDefault.skuLengthMax), quantity: 99999, unitPrice: 9999999999, disposition: 'Q', originalLineNo: 999,
  }));
  const text = encodeLineItems(full);
  t.is(text.length, 5 + 20 * 44);
  t.deepEqual(decodeLineItems(text), full);
  t.notThrows(() => encode(message('0200', { 48: text }), iso87Binary));
});

test('line item decode errors name the line and the character offset', (t) => {
  codecError(t, () => decodeLineItems('LX102'), 'BAD_ENCODING', null, 0);
  codecError(t, () => decodeLineItems('LI121'), 'LIMIT_EXCEEDED', null, 3);
  codecError(t, () => decodeLineItems('LI1' + '01' + '001' + '21' + 'X'.repeat(21) + '00001' + '0000000001' + 'S' + '000'), 'LIMIT_EXCEEDED', 1, 8);
  codecError(t, () => decodeLineItems(itemsText.slice(0, 40)), 'TRUNCATED', 2, 39);
  codecError(t, () => decodeLineItems(itemsText + '0'), 'TRAILING_BYTES', null, itemsText.length);
  codecError(t, () => decodeLineItems(itemsText.replace('1999S', '1999X')), 'BAD_ENCODING', 1, 30);
  codecError(t, () => decodeLineItems(itemsText.replace('00002', '0000A')), 'BAD_ENCODING', 1, 15);
  codecError(t, () => decodeLineItems(itemsText.replace('00002', '00000')), 'BAD_VALUE', 1, 15);
  codecError(t, () => decodeLineItems(itemsText.replace('002' + '13', '001' + '13')), 'BAD_VALUE', 2, 34);
  codecError(t, () => decodeLineDecisions(decisionsText.slice(0, -1)), 'TRUNCATED', null, 26);
  codecError(t, () => decodeLineDecisions(decisionsText.replace('P61', 'X61')), 'BAD_ENCODING', 2, 19);
  codecError(t, () => decodeLineDecisions(decisionsText.replace('A00', 'Aab')), 'BAD_ENCODING', 1, 9);
  codecError(t, () => decodeLineItems('x'.repeat(1000)), 'LIMIT_EXCEEDED', null, 999);
});

test('line item encode errors enforce the same limits', (t) => {
  codecError(t, () => encodeLineItems([{ ...items[0]!, sku: 'X'.repeat(21) }]), 'BAD_VALUE', 1, 0);
  codecError(t, () => encodeLineItems([{ ...items[0]!, sku: '' }]), 'BAD_VALUE', 1, 0);
  codecError(t, () => encodeLineItems([items[0]!, { ...items[1]!, quantity: 0 }]), 'BAD_VALUE', 2, 0);
  codecError(t, () => encodeLineItems([{ ...items[0]!, unitPrice: 10_000_000_000 }]), 'BAD_VALUE', 1, 0);
  codecError(t, () => encodeLineItems(Array.from({ length: 21 }, () => items[0]!)), 'LIMIT_EXCEEDED', null, 0);
  codecError(t, () => encodeLineItems(items, { linesMax: 20, skuLengthMax: 20, fieldCharsMax: 50 }), 'LIMIT_EXCEEDED', null, 50);
  codecError(t, () => encodeLineDecisions([{ ...decisions[0]!, reason: 'x' }]), 'BAD_VALUE', 1, 0);
});
