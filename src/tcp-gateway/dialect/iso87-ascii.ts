// ISO 8583:1987 as jPOS's ISO87APackager lays it out: every field ASCII, lengths as ASCII digits,
// bitmaps as 16 hex characters, binary fields (52, 64, 65, 96, 128) as hex characters.
//
// The field list below (number, shape, length, name) is shared with iso87-binary.ts, because
// jPOS's ISO87BPackager has the same shapes and lengths and differs only in how each is written.
import type { FieldSpec, IsoDialect } from './types.js';

/**
 * Field shapes of ISO 8583:1987 (jPOS names in brackets):
 * - `N`: fixed numeric (IFA_NUMERIC / IFB_NUMERIC)
 * - `LLN`: LL numeric (IFA_LLNUM / IFB_LLNUM)
 * - `Z`: LL track 2, numeric with the `=`/`D` separator (IFA_LLNUM / IFB_LLNUM)
 * - `LLC`, `LLLC`: LL / LLL characters (IFA_LLCHAR, IFA_LLLCHAR / IFB_LLCHAR, IFB_LLLCHAR)
 * - `C`: fixed characters (IF_CHAR)
 * - `B`: fixed binary, length in bytes (IFA_BINARY / IFB_BINARY)
 * - `AMT`: sign C/D plus digits, length counts the sign (IFA_AMOUNT / IFB_AMOUNT)
 */
export type Iso87Shape = 'N' | 'LLN' | 'Z' | 'LLC' | 'LLLC' | 'C' | 'B' | 'AMT';
export type Iso87Row = readonly [number: number, shape: Iso87Shape, length: number, name: string];

/** Track data, PIN block and ICC data: never logged (pan.ts). Field 2 is masked, not hidden. */
export const iso87SensitiveFields: ReadonlySet<number> = new Set([35, 36, 45, 52, 55]);

const rows: readonly Iso87Row[] = [
  [2, 'LLN', 19, 'primary account number'],
  [3, 'N', 6, 'processing code'],
  [4, 'N', 12, 'amount, transaction'],
  [5, 'N', 12, 'amount, settlement'],
  [6, 'N', 12, 'amount, cardholder billing'],
  [7, 'N', 10, 'transmission date and time'],
  [8, 'N', 8, 'amount, cardholder billing fee'],
  [9, 'N', 8, 'conversion rate, settlement'],
  [10, 'N', 8, 'conversion rate, cardholder billing'],
  [11, 'N', 6, 'system trace audit number'],
  [12, 'N', 6, 'time, local transaction'],
  [13, 'N', 4, 'date, local transaction'],
  [14, 'N', 4, 'date, expiration'],
  [15, 'N', 4, 'date, settlement'],
  [16, 'N', 4, 'date, conversion'],
  [17, 'N', 4, 'date, capture'],
  [18, 'N', 4, 'merchant type'],
  [19, 'N', 3, 'acquiring institution country code'],
  [20, 'N', 3, 'PAN extended country code'],
  [21, 'N', 3, 'forwarding institution country code'],
  [22, 'N', 3, 'point of service entry mode'],
  [23, 'N', 3, 'card sequence number'],
  [24, 'N', 3, 'network international identifier'],
  [25, 'N', 2, 'point of service condition code'],
  [26, 'N', 2, 'point of service PIN capture code'],
  [27, 'N', 1, 'authorization identification response length'],
  [28, 'AMT', 9, 'amount, transaction fee'],
  [29, 'AMT', 9, 'amount, settlement fee'],
  [30, 'AMT', 9, 'amount, transaction processing fee'],
  [31, 'AMT', 9, 'amount, settlement processing fee'],
  [32, 'LLN', 11, 'acquiring institution identification code'],
  [33, 'LLN', 11, 'forwarding institution identification code'],
  [34, 'LLC', 28, 'PAN extended'],
  [35, 'Z', 37, 'track 2 data'],
  [36, 'LLLC', 104, 'track 3 data'],
  [37, 'C', 12, 'retrieval reference number'],
  [38, 'C', 6, 'authorization identification response'],
  [39, 'C', 2, 'response code'],
  [40, 'C', 3, 'service restriction code'],
  [41, 'C', 8, 'card acceptor terminal identification'],
  [42, 'C', 15, 'card acceptor identification code'],
  [43, 'C', 40, 'card acceptor name/location'],
  [44, 'LLC', 25, 'additional response data'],
  [45, 'LLC', 76, 'track 1 data'],
  [46, 'LLLC', 999, 'additional data - ISO'],
  [47, 'LLLC', 999, 'additional data - national'],
  [48, 'LLLC', 999, 'additional data - private (tillgate line items)'],
  [49, 'C', 3, 'currency code, transaction'],
  [50, 'C', 3, 'currency code, settlement'],
  [51, 'C', 3, 'currency code, cardholder billing'],
  [52, 'B', 8, 'PIN data'],
  [53, 'N', 16, 'security related control information'],
  [54, 'LLLC', 120, 'additional amounts'],
  [55, 'LLLC', 999, 'reserved ISO (ICC data)'],
  [56, 'LLLC', 999, 'reserved ISO'],
  [57, 'LLLC', 999, 'reserved national'],
  [58, 'LLLC', 999, 'reserved national'],
  [59, 'LLLC', 999, 'reserved national'],
  [60, 'LLLC', 999, 'reserved private'],
  [61, 'LLLC', 999, 'reserved private'],
  [62, 'LLLC', 999, 'reserved private'],
  [63, 'LLLC', 999, 'reserved private'],
  [64, 'B', 8, 'message authentication code'],
  [65, 'B', 1, 'bitmap, extended'],
  [66, 'N', 1, 'settlement code'],
  [67, 'N', 2, 'extended payment code'],
  [68, 'N', 3, 'receiving institution country code'],
  [69, 'N', 3, 'settlement institution country code'],
  [70, 'N', 3, 'network management information code'],
  [71, 'N', 4, 'message number'],
  [72, 'N', 4, 'message number, last'],
  [73, 'N', 6, 'date, action'],
  [74, 'N', 10, 'credits, number'],
  [75, 'N', 10, 'credits, reversal number'],
  [76, 'N', 10, 'debits, number'],
  [77, 'N', 10, 'debits, reversal number'],
  [78, 'N', 10, 'transfer, number'],
  [79, 'N', 10, 'transfer, reversal number'],
  [80, 'N', 10, 'inquiries, number'],
  [81, 'N', 10, 'authorizations, number'],
  [82, 'N', 12, 'credits, processing fee amount'],
  [83, 'N', 12, 'credits, transaction fee amount'],
  [84, 'N', 12, 'debits, processing fee amount'],
  [85, 'N', 12, 'debits, transaction fee amount'],
  [86, 'N', 16, 'credits, amount'],
  [87, 'N', 16, 'credits, reversal amount'],
  [88, 'N', 16, 'debits, amount'],
  [89, 'N', 16, 'debits, reversal amount'],
  [90, 'N', 42, 'original data elements'],
  [91, 'C', 1, 'file update code'],
  [92, 'C', 2, 'file security code'],
  [93, 'C', 6, 'response indicator'],
  [94, 'C', 7, 'service indicator'],
  [95, 'C', 42, 'replacement amounts'],
  [96, 'B', 16, 'message security code'],
  [97, 'AMT', 17, 'amount, net settlement'],
  [98, 'C', 25, 'payee'],
  [99, 'LLN', 11, 'settlement institution identification code'],
  [100, 'LLN', 11, 'receiving institution identification code'],
  [101, 'LLC', 17, 'file name'],
  [102, 'LLC', 28, 'account identification 1'],
  [103, 'LLC', 28, 'account identification 2'],
  [104, 'LLLC', 100, 'transaction description'],
  ...range(105, 111).map((n): Iso87Row => [n, 'LLLC', 999, 'reserved ISO']),
  ...range(112, 119).map((n): Iso87Row => [n, 'LLLC', 999, 'reserved national']),
  ...range(120, 127).map((n): Iso87Row => [n, 'LLLC', 999, 'reserved private']),
  [128, 'B', 8, 'message authentication code 2'],
];

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

export const iso87Rows: readonly Iso87Row[] = rows;

/** Builds a dialect's field table from the shared rows and a per-shape writer. */
export function fieldsFromRows(rowsIn: readonly Iso87Row[], specOf: (row: Iso87Row) => FieldSpec): Record<number, FieldSpec> {
  const fields: Record<number, FieldSpec> = {};
  for (const row of rowsIn) {
    const spec = specOf(row);
    fields[row[0]] = iso87SensitiveFields.has(row[0]) ? { ...spec, sensitive: true } : spec;
  }
  return fields;
}

function asciiSpec([, shape, length, name]: Iso87Row): FieldSpec {
  switch (shape) {
    case 'N': return { name, type: 'fixed', maxLength: length, content: 'n', encoding: 'ascii' };
    case 'LLN': return { name, type: 'LLVAR', maxLength: length, content: 'n', encoding: 'ascii', prefix: 'ascii' };
    case 'Z': return { name, type: 'LLVAR', maxLength: length, content: 'z', encoding: 'ascii', prefix: 'ascii' };
    case 'LLC': return { name, type: 'LLVAR', maxLength: length, content: 'ans', encoding: 'ascii', prefix: 'ascii' };
    case 'LLLC': return { name, type: 'LLLVAR', maxLength: length, content: 'ans', encoding: 'ascii', prefix: 'ascii' };
    case 'C': return { name, type: 'fixed', maxLength: length, content: 'ans', encoding: 'ascii' };
    case 'B': return { name, type: 'fixed', maxLength: length, content: 'b', encoding: 'hex-ascii', lengthUnit: 'bytes' };
    case 'AMT': return { name, type: 'fixed', maxLength: length, content: 'xn', encoding: 'ascii' };
  }
}

export const iso87Ascii: IsoDialect = {
  kind: 'iso8583',
  name: 'iso87-ascii',
  description: 'ISO 8583:1987, all ASCII, 16-hex-character bitmaps (jPOS ISO87APackager)',
  mtiEncoding: 'ascii',
  bitmapEncoding: 'hex-ascii',
  fields: fieldsFromRows(rows, asciiSpec),
};
