// fixed-v1: tillgate's own fixed-length record format for registers that cannot speak ISO 8583.
//
// A request is one H (header) record, 0..n I (item) records, 0..n T (tender) records and one Z
// (trailer) record, in that order. A reply is one R (response) record followed by as many D
// (line decision) records as R announces. Records are ASCII, one per line (CR LF) or carried
// together in one length-prefixed frame, each line still ending in CR LF.
// Numbers are zero-filled on the left, text is blank-filled on the right, money is an integer of
// minor units with 2 implied decimals ("00000001999" = 19.99), signed money has a sign column
// (`+` / `-`) in front of its digits. Columns count from 1, as vendors' documents do.
import type { FixedDialect, FixedRecordLayout } from './types.js';

export const fixedOperations = {
  SA: 'sale',
  RA: 'return authorize',
  RC: 'return complete',
  VD: 'void',
  SO: 'sign-on',
  EC: 'echo',
  SF: 'sign-off',
} as const;
export const fixedTenderTypes = {
  CA: 'cash',
  CC: 'credit card',
  DC: 'debit card',
  GC: 'gift card',
  SC: 'store credit',
  OT: 'other',
} as const;
/** R marks an exchange's replacement line on a return authorization (RA); the rest are dispositions. */
export const fixedDispositions = { S: 'sellable', D: 'damaged', Q: 'quarantine', R: 'replacement (exchange)' } as const;
export const fixedDecisions = { A: 'approved', P: 'partially approved', D: 'declined' } as const;

const header: FixedRecordLayout = {
  recordType: 'H',
  description: 'Header: who sends, which operation, which receipts',
  lengthChars: 104,
  columns: [
    { name: 'recordType', start: 1, length: 1, type: 'code', values: ['H'], description: 'record type H' },
    { name: 'version', start: 2, length: 2, type: 'digits', description: 'format version, 01' },
    { name: 'terminalId', start: 4, length: 8, type: 'text', description: 'terminal id' },
    { name: 'storeId', start: 12, length: 8, type: 'text', description: 'store id' },
    { name: 'stan', start: 20, length: 6, type: 'n', description: 'system trace audit number, unique per terminal per day' },
    { name: 'transmissionTime', start: 26, length: 14, type: 'digits', description: 'transmission time, UTC, YYYYMMDDhhmmss' },
    { name: 'operation', start: 40, length: 2, type: 'code', values: Object.keys(fixedOperations), description: 'operation code (see operations)' },
    { name: 'receiptId', start: 42, length: 20, type: 'text', description: 'receipt id of this transaction' },
    { name: 'originalReceiptId', start: 62, length: 20, type: 'text', description: 'original sale receipt id (returns, voids); blank if none' },
    { name: 'returnId', start: 82, length: 20, type: 'text', description: 'return id from the authorization (return complete, void); blank if none' },
    { name: 'currency', start: 102, length: 3, type: 'text', description: 'ISO 4217 alphabetic currency code, e.g. EUR' },
  ],
};

const item: FixedRecordLayout = {
  recordType: 'I',
  description: 'Item: one receipt line',
  lengthChars: 44,
  columns: [
    { name: 'recordType', start: 1, length: 1, type: 'code', values: ['I'], description: 'record type I' },
    { name: 'lineNo', start: 2, length: 3, type: 'n', description: 'line number on this receipt, 001..999' },
    { name: 'sku', start: 5, length: 20, type: 'text', description: 'SKU' },
    { name: 'quantity', start: 25, length: 5, type: 'n', description: 'quantity, whole units' },
    { name: 'unitPrice', start: 30, length: 11, type: 'money', impliedDecimals: 2, description: 'unit price, minor units' },
    { name: 'disposition', start: 41, length: 1, type: 'code', values: Object.keys(fixedDispositions), description: 'S sellable, D damaged, Q quarantine; R = replacement line of an exchange (RA only)' },
    { name: 'originalLineNo', start: 42, length: 3, type: 'n', description: 'line on the original receipt; 000 if none' },
  ],
};

const tender: FixedRecordLayout = {
  recordType: 'T',
  description: 'Tender: one payment or refund',
  lengthChars: 16,
  columns: [
    { name: 'recordType', start: 1, length: 1, type: 'code', values: ['T'], description: 'record type T' },
    { name: 'tenderType', start: 2, length: 2, type: 'code', values: Object.keys(fixedTenderTypes), description: 'tender type (see tender types)' },
    { name: 'amount', start: 4, length: 13, type: 'signed-money', impliedDecimals: 2, description: 'sign (column 4) then amount in minor units (columns 5-16); - for refunds' },
  ],
};

const trailer: FixedRecordLayout = {
  recordType: 'Z',
  description: 'Trailer: control counts and total',
  lengthChars: 19,
  columns: [
    { name: 'recordType', start: 1, length: 1, type: 'code', values: ['Z'], description: 'record type Z' },
    { name: 'itemCount', start: 2, length: 3, type: 'n', description: 'number of I records' },
    { name: 'tenderCount', start: 5, length: 2, type: 'n', description: 'number of T records' },
    { name: 'tenderTotal', start: 7, length: 13, type: 'signed-money', impliedDecimals: 2, description: 'sign (column 7) then the sum of T amounts (columns 8-19)' },
  ],
};

const response: FixedRecordLayout = {
  recordType: 'R',
  description: 'Response: the answer to one request',
  lengthChars: 72,
  columns: [
    { name: 'recordType', start: 1, length: 1, type: 'code', values: ['R'], description: 'record type R' },
    { name: 'stan', start: 2, length: 6, type: 'n', description: 'STAN of the request' },
    { name: 'responseCode', start: 8, length: 2, type: 'digits', description: 'response code, as ISO 8583 field 39 (00 approved, ...)' },
    { name: 'returnId', start: 10, length: 20, type: 'text', description: 'return id assigned or echoed; blank if none' },
    { name: 'decisionCount', start: 30, length: 3, type: 'n', description: 'number of D records that follow' },
    { name: 'message', start: 33, length: 40, type: 'text', description: 'short text for the register display' },
  ],
};

const decision: FixedRecordLayout = {
  recordType: 'D',
  description: 'Line decision: the answer for one item line',
  lengthChars: 12,
  columns: [
    { name: 'recordType', start: 1, length: 1, type: 'code', values: ['D'], description: 'record type D' },
    { name: 'lineNo', start: 2, length: 3, type: 'n', description: 'line number of the I record' },
    { name: 'decision', start: 5, length: 1, type: 'code', values: Object.keys(fixedDecisions), description: 'A approved, P partially approved, D declined' },
    { name: 'reason', start: 6, length: 2, type: 'text', description: 'reason code, as the line-item sub-format (00 ok, ...)' },
    { name: 'approvedQuantity', start: 8, length: 5, type: 'n', description: 'quantity approved' },
  ],
};

export const fixedV1: FixedDialect = {
  kind: 'fixed',
  name: 'fixed-v1',
  description: "tillgate's fixed-length record format, version 01",
  records: { H: header, I: item, T: tender, Z: trailer, R: response, D: decision },
};
