// fixed-v1 messages: a request is H, I*, T*, Z; a reply is R, D*. The trailer is computed on
// encode and checked on decode, so a truncated or spliced batch of lines is caught.
import { CodecError } from '../codec/errors.js';
import { decodeRecord, encodeRecord, fixedItemsMax, fixedTendersMax, joinRecords, splitRecords } from './records.js';
import type { FixedHeader, FixedItem, FixedLineDecision, FixedRecord, FixedResponse, FixedTender } from './records.js';

export interface FixedRequest {
  readonly header: FixedHeader;
  readonly items: readonly FixedItem[];
  readonly tenders: readonly FixedTender[];
}

export interface FixedReply {
  readonly response: FixedResponse;
  readonly decisions: readonly FixedLineDecision[];
}

export interface PlacedRecord {
  readonly record: FixedRecord;
  /** Byte offset of the record in its message. */
  readonly offset: number;
}

function sumOf(tenders: readonly FixedTender[]): number {
  let total = 0;
  for (const tender of tenders) total += tender.amount;
  return total;
}

export function encodeRequest(request: FixedRequest): Uint8Array {
  if (request.items.length > fixedItemsMax) {
    throw new CodecError('LIMIT_EXCEEDED', null, 0, `${request.items.length} items, fixedItemsMax is ${fixedItemsMax}`);
  }
  if (request.tenders.length > fixedTendersMax) {
    throw new CodecError('LIMIT_EXCEEDED', null, 0, `${request.tenders.length} tenders, fixedTendersMax is ${fixedTendersMax}`);
  }
  const records: FixedRecord[] = [request.header, ...request.items, ...request.tenders, {
    recordType: 'Z',
    itemCount: request.items.length,
    tenderCount: request.tenders.length,
    tenderTotal: sumOf(request.tenders),
  }];
  return joinRecords(records.map((record, index) => encodeRecord(record, index + 1)));
}

function orderError(placed: PlacedRecord, index: number, expected: string): CodecError {
  return new CodecError('BAD_RECORD', index + 1, placed.offset, `record ${placed.record.recordType} where ${expected} was expected`);
}

/** Builds a request from decoded records (from one frame, or collected line by line). */
export function assembleRequest(records: readonly PlacedRecord[]): FixedRequest {
  const first = records[0];
  if (first?.record.recordType !== 'H') {
    throw first === undefined ? new CodecError('TRUNCATED', 1, 0, 'no records') : orderError(first, 0, 'H');
  }
  const items: FixedItem[] = [];
  const tenders: FixedTender[] = [];
  let index = 1;
  for (; index < records.length; index++) {
    const placed = records[index]!;
    const record = placed.record;
    if (record.recordType === 'I' && tenders.length === 0) items.push(record);
    else if (record.recordType === 'T') tenders.push(record);
    else if (record.recordType === 'Z') break;
    else throw orderError(placed, index, tenders.length === 0 ? 'I, T or Z' : 'T or Z');
  }
  const trailerAt = records[index];
  if (trailerAt?.record.recordType !== 'Z') {
    throw new CodecError('TRUNCATED', index + 1, records[records.length - 1]?.offset ?? 0, 'no Z trailer record');
  }
  if (index !== records.length - 1) throw orderError(records[index + 1]!, index + 1, 'nothing after Z');
  const trailer = trailerAt.record;
  if (trailer.itemCount !== items.length || trailer.tenderCount !== tenders.length || trailer.tenderTotal !== sumOf(tenders)) {
    throw new CodecError('BAD_RECORD', index + 1, trailerAt.offset,
      `trailer says ${trailer.itemCount} items, ${trailer.tenderCount} tenders, total ${trailer.tenderTotal}; ` +
      `message has ${items.length}, ${tenders.length}, ${sumOf(tenders)}`);
  }
  return { header: first.record, items, tenders };
}

function decodeAll(bytes: Uint8Array, recordsMax: number): PlacedRecord[] {
  const texts = splitRecords(bytes);
  if (texts.length > recordsMax) {
    throw new CodecError('LIMIT_EXCEEDED', recordsMax + 1, texts[recordsMax]!.offset, `more than ${recordsMax} records`);
  }
  return texts.map(({ text, offset }, index) => ({ record: decodeRecord(text, index + 1, offset), offset }));
}

export function decodeRequest(bytes: Uint8Array): FixedRequest {
  return assembleRequest(decodeAll(bytes, fixedItemsMax + fixedTendersMax + 2));
}

export function encodeReply(reply: FixedReply): Uint8Array {
  if (reply.decisions.length !== reply.response.decisionCount) {
    throw new CodecError('BAD_RECORD', 1, 0, `decisionCount ${reply.response.decisionCount}, ${reply.decisions.length} decisions given`);
  }
  const records: FixedRecord[] = [reply.response, ...reply.decisions];
  return joinRecords(records.map((record, index) => encodeRecord(record, index + 1)));
}

export function decodeReply(bytes: Uint8Array): FixedReply {
  const records = decodeAll(bytes, fixedItemsMax + 1);
  const first = records[0];
  if (first?.record.recordType !== 'R') {
    throw first === undefined ? new CodecError('TRUNCATED', 1, 0, 'no records') : orderError(first, 0, 'R');
  }
  const decisions: FixedLineDecision[] = [];
  for (let index = 1; index < records.length; index++) {
    const placed = records[index]!;
    if (placed.record.recordType !== 'D') throw orderError(placed, index, 'D');
    decisions.push(placed.record);
  }
  if (decisions.length !== first.record.decisionCount) {
    throw new CodecError('BAD_RECORD', 1, first.offset, `R announces ${first.record.decisionCount} decisions, ${decisions.length} follow`);
  }
  return { response: first.record, decisions };
}
