// Typed fixed-v1 records and messages on top of the column codec.
import { CodecError } from '../codec/errors.js';
import { fixedV1 } from '../dialect/fixed-v1.js';
import type { fixedDecisions, fixedDispositions, fixedOperations, fixedTenderTypes } from '../dialect/fixed-v1.js';
import type { FixedRecordLayout } from '../dialect/types.js';
import { decodeColumns, encodeColumns } from './columns.js';
import type { ColumnValues } from './columns.js';

export type FixedOperation = keyof typeof fixedOperations;
export type FixedTenderType = keyof typeof fixedTenderTypes;
export type FixedDisposition = keyof typeof fixedDispositions;
export type FixedDecision = keyof typeof fixedDecisions;

export interface FixedHeader {
  readonly recordType: 'H';
  readonly version: string;
  readonly terminalId: string;
  readonly storeId: string;
  readonly stan: number;
  readonly transmissionTime: string;
  readonly operation: FixedOperation;
  readonly receiptId: string;
  readonly originalReceiptId: string;
  readonly returnId: string;
  readonly currency: string;
}
export interface FixedItem {
  readonly recordType: 'I';
  readonly lineNo: number;
  readonly sku: string;
  readonly quantity: number;
  /** Minor units (2 implied decimals on the wire). */
  readonly unitPrice: number;
  readonly disposition: FixedDisposition;
  /** 0 when the line refers to no original receipt line. */
  readonly originalLineNo: number;
}
export interface FixedTender {
  readonly recordType: 'T';
  readonly tenderType: FixedTenderType;
  /** Minor units; negative for refunds. */
  readonly amount: number;
}
export interface FixedTrailer {
  readonly recordType: 'Z';
  readonly itemCount: number;
  readonly tenderCount: number;
  readonly tenderTotal: number;
}
export interface FixedResponse {
  readonly recordType: 'R';
  readonly stan: number;
  readonly responseCode: string;
  readonly returnId: string;
  readonly decisionCount: number;
  readonly message: string;
}
export interface FixedLineDecision {
  readonly recordType: 'D';
  readonly lineNo: number;
  readonly decision: FixedDecision;
  readonly reason: string;
  readonly approvedQuantity: number;
}
export type FixedRecord = FixedHeader | FixedItem | FixedTender | FixedTrailer | FixedResponse | FixedLineDecision;

/** Bounds on one message: item lines and tenders, as the trailer's count columns allow. */
export const fixedItemsMax = 999;
export const fixedTendersMax = 99;
const lineEnd = '\r\n';

function layoutOf(recordType: string, record: number, offset: number): FixedRecordLayout {
  const layout = fixedV1.records[recordType];
  if (layout === undefined) {
    throw new CodecError('BAD_RECORD', record, offset, `unknown record type ${JSON.stringify(recordType)}`);
  }
  return layout;
}

/** Decodes one record (its text without line end). `record` and `offset` place it in a message. */
export function decodeRecord(text: string, record = 1, offset = 0): FixedRecord {
  const layout = layoutOf(text.slice(0, 1), record, offset);
  // The column table checked every value's type and every code against its list.
  return decodeColumns(layout, text, record, offset) as unknown as FixedRecord;
}

export function encodeRecord(value: FixedRecord, record = 1): string {
  const layout = layoutOf(value.recordType, record, 0);
  return encodeColumns(layout, value as unknown as ColumnValues, record);
}

/** Splits a message into record texts at CR LF (a bare LF is accepted), with their byte offsets. */
export function splitRecords(bytes: Uint8Array): { text: string; offset: number }[] {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const records: { text: string; offset: number }[] = [];
  let start = 0;
  while (start < all.length) {
    const newline = all.indexOf('\n', start);
    if (newline < 0) throw new CodecError('TRUNCATED', records.length + 1, start, 'last record has no line end');
    const end = newline > start && all.charCodeAt(newline - 1) === 0x0d ? newline - 1 : newline;
    records.push({ text: all.slice(start, end), offset: start });
    start = newline + 1;
  }
  return records;
}

export function joinRecords(texts: readonly string[]): Uint8Array {
  return Buffer.from(texts.join(lineEnd) + lineEnd, 'latin1');
}
