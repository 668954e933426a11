// Public surface of the fixed-v1 record codec.
export { decodeColumns, encodeColumns, layoutProblems } from './columns.js';
export type { ColumnValue, ColumnValues } from './columns.js';
export { decodeRecord, encodeRecord, fixedItemsMax, fixedTendersMax, joinRecords, splitRecords } from './records.js';
export type {
  FixedDecision, FixedDisposition, FixedHeader, FixedItem, FixedLineDecision, FixedOperation, FixedRecord,
  FixedResponse, FixedTender, FixedTenderType, FixedTrailer,
} from './records.js';
export { assembleRequest, decodeReply, decodeRequest, encodeReply, encodeRequest } from './messages.js';
export type { FixedReply, FixedRequest, PlacedRecord } from './messages.js';
