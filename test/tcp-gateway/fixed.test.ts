// fixed-v1 records: exact column layout, round trips, and errors with record number and offset.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { CodecError, fixed } from '../../src/tcp-gateway/codec/index.js';
import type { CodecErrorCode } from '../../src/tcp-gateway/codec/index.js';
import { ascii } from './helpers.js';

const request: fixed.FixedRequest = {
  header: {
    recordType: 'H', version: '01', terminalId: 'TERM0001', storeId: 'STORE042', stan: 123,
    transmissionTime: '20251128101530', operation: 'RA', receiptId: 'R-2025-000777',
    originalReceiptId: 'R-2025-000555', returnId: '', currency: 'EUR',
  },
  items: [
    { recordType: 'I', lineNo: 1, sku: 'SKU-RED-SHIRT-M', quantity: 2, unitPrice: 1999, disposition: 'S', originalLineNo: 3 },
    { recordType: 'I', lineNo: 2, sku: '4006381333931', quantity: 1, unitPrice: 250, disposition: 'D', originalLineNo: 1 },
  ],
  tenders: [{ recordType: 'T', tenderType: 'CC', amount: -4248 }],
};

// Worked out column by column from the layout in docs/iso8583-protocol.md.
const requestLines = [
  'H' + '01' + 'TERM0001' + 'STORE042' + '000123' + '20251128101530' + 'RA' + 'R-2025-000777       ' +
    'R-2025-000555       ' + '                    ' + 'EUR',
  'I' + '001' + 'SKU-RED-SHIRT-M     ' + '00002' + '00000001999' + 'S' + '003',
  'I' + '002' + '4006381333931       ' + '00001' + '00000000250' + 'D' + '001',
  'T' + 'CC' + '-' + '000000004248',
  'Z' + '002' + '01' + '-' + '000000004248',
];
const requestText = requestLines.join('\r\n') + '\r\n';

const reply: fixed.FixedReply = {
  response: { recordType: 'R', stan: 123, responseCode: '00', returnId: 'RT-000042', decisionCount: 2, message: 'RETURN APPROVED' },
  decisions: [
    { recordType: 'D', lineNo: 1, decision: 'A', reason: '00', approvedQuantity: 2 },
    { recordType: 'D', lineNo: 2, decision: 'D', reason: '61', approvedQuantity: 0 },
  ],
};
const replyText = [
  'R' + '000123' + '00' + 'RT-000042           ' + '002' + 'RETURN APPROVED                         ',
  'D' + '001' + 'A' + '00' + '00002',
  'D' + '002' + 'D' + '61' + '00000',
].join('\r\n') + '\r\n';

function codecError(t: ExecutionContext, run: () => unknown, code: CodecErrorCode, field: number | null, offset: number): void {
  const error = t.throws(run, { instanceOf: CodecError });
  t.is(error?.code, code, error?.message);
  t.is(error?.field, field, error?.message);
  t.is(error?.offset, offset, error?.message);
}

test('a request encodes to the documented columns, with the trailer computed', (t) => {
  t.deepEqual(requestLines.map((line) => line.length), [104, 44, 44, 16, 19]);
  t.is(Buffer.from(fixed.encodeRequest(request)).toString('latin1'), requestText);
});

test('a request decodes back to the same values', (t) => {
  t.deepEqual(fixed.decodeRequest(ascii(requestText)), request);
  t.deepEqual(fixed.decodeRequest(ascii(requestLines.join('\n') + '\n')), request, 'bare LF line ends');
});

test('a reply round-trips through the documented columns', (t) => {
  t.is(Buffer.from(fixed.encodeReply(reply)).toString('latin1'), replyText);
  t.deepEqual(fixed.decodeReply(ascii(replyText)), reply);
});

test('single records decode and encode on their own (line framer path)', (t) => {
  t.deepEqual(fixed.decodeRecord(requestLines[3]!), { recordType: 'T', tenderType: 'CC', amount: -4248 });
  t.is(fixed.encodeRecord({ recordType: 'T', tenderType: 'CA', amount: 500 }), 'TCA+000000000500');
  const placed = requestLines.map((text, index) => ({ record: fixed.decodeRecord(text, index + 1), offset: 0 }));
  t.deepEqual(fixed.assembleRequest(placed), request);
});

function withLine(index: number, line: string): Uint8Array {
  const lines = [...requestLines];
  lines[index] = line;
  return ascii(lines.join('\r\n') + '\r\n');
}

test('record errors name the record and its byte offset', (t) => {
  // Offsets: H at 0, first I at 106, second I at 152, T at 198, Z at 216.
  codecError(t, () => fixed.decodeRequest(withLine(1, requestLines[1]!.slice(0, 43))), 'BAD_RECORD', 2, 106);
  codecError(t, () => fixed.decodeRequest(withLine(1, 'X' + requestLines[1]!.slice(1))), 'BAD_RECORD', 2, 106);
  codecError(t, () => fixed.decodeRequest(withLine(2, requestLines[2]!.replace('00001', '0000A'))), 'BAD_COLUMN', 3, 152 + 24);
  codecError(t, () => fixed.decodeRequest(withLine(0, requestLines[0]!.replace('RA', 'XX'))), 'BAD_COLUMN', 1, 39);
  codecError(t, () => fixed.decodeRequest(withLine(3, 'TCC*000000004248')), 'BAD_COLUMN', 4, 198 + 3);
  codecError(t, () => fixed.decodeRequest(withLine(4, 'Z00201-000000004247')), 'BAD_RECORD', 5, 216);
  codecError(t, () => fixed.decodeRequest(ascii(requestLines.slice(0, 4).join('\r\n') + '\r\n')), 'TRUNCATED', 5, 198);
  codecError(t, () => fixed.decodeRequest(ascii(requestText.slice(0, -2))), 'TRUNCATED', 5, 216);
  const tenderFirst = [requestLines[0], requestLines[3], requestLines[1], requestLines[4]].join('\r\n') + '\r\n';
  codecError(t, () => fixed.decodeRequest(ascii(tenderFirst)), 'BAD_RECORD', 3, 124);
  codecError(t, () => fixed.decodeRequest(ascii(replyText)), 'BAD_RECORD', 1, 0);
  codecError(t, () => fixed.decodeReply(ascii(replyText.split('\r\n').slice(0, 2).join('\r\n') + '\r\n')), 'BAD_RECORD', 1, 0);
});

test('encode rejects values that do not fit their columns', (t) => {
  codecError(t, () => fixed.encodeRecord({ ...request.items[0]!, sku: 'X'.repeat(21) }), 'BAD_COLUMN', 1, 4);
  codecError(t, () => fixed.encodeRecord({ ...request.items[0]!, unitPrice: -1 }), 'BAD_COLUMN', 1, 29);
  codecError(t, () => fixed.encodeRecord({ ...request.items[0]!, quantity: 100000 }), 'BAD_COLUMN', 1, 24);
  codecError(t, () => fixed.encodeRecord({ ...request.items[0]!, quantity: 1.5 }), 'BAD_COLUMN', 1, 24);
  codecError(t, () => fixed.encodeRecord({ ...request.header, terminalId: 'TÉRM' }), 'BAD_COLUMN', 1, 3);
  codecError(t, () => fixed.encodeRecord({ ...request.header, transmissionTime: '2025-11-28' }), 'BAD_COLUMN', 1, 25);
  codecError(t, () => fixed.encodeReply({ ...reply, decisions: [] }), 'BAD_RECORD', 1, 0);
  const tooMany = Array.from({ length: fixed.fixedItemsMax + 1 }, () => request.items[0]!);
  codecError(t, () => fixed.encodeRequest({ ...request, items: tooMany }), 'LIMIT_EXCEEDED', null, 0);
});
