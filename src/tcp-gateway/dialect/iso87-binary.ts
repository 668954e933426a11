// ISO 8583:1987 as jPOS's ISO87BPackager lays it out: numerics and the MTI in BCD (odd lengths
// padded on the left for fixed fields, on the right for LL numerics), lengths in BCD (LL = 1 byte,
// LLL = 2 bytes), 8-byte binary bitmaps, character fields in ASCII, binary fields raw.
import { fieldsFromRows, iso87Rows } from './iso87-ascii.js';
import type { Iso87Row } from './iso87-ascii.js';
import type { FieldSpec, IsoDialect } from './types.js';

/** Length of the TPDU that terminals put in front of the MTI on dial-up and NAC links. */
export const tpduBytes = 5;

function binarySpec([number, shape, length, name]: Iso87Row): FieldSpec {
  switch (shape) {
    case 'N':
      return { name, type: 'fixed', maxLength: length, content: 'n', encoding: 'bcd', bcdPadding: 'left' };
    case 'LLN':
      return { name, type: 'LLVAR', maxLength: length, content: 'n', encoding: 'bcd', prefix: 'bcd', lengthUnit: 'digits', bcdPadding: 'right' };
    case 'Z':
      return { name, type: 'LLVAR', maxLength: length, content: 'z', encoding: 'bcd', prefix: 'bcd', lengthUnit: 'digits', bcdPadding: 'right' };
    case 'LLC': return { name, type: 'LLVAR', maxLength: length, content: 'ans', encoding: 'ascii', prefix: 'bcd' };
    case 'LLLC': return { name, type: 'LLLVAR', maxLength: length, content: 'ans', encoding: 'ascii', prefix: 'bcd' };
    case 'C': return { name, type: 'fixed', maxLength: length, content: 'ans', encoding: 'ascii' };
    case 'B': return { name, type: 'fixed', maxLength: length, content: 'b', encoding: 'binary', lengthUnit: 'bytes' };
    case 'AMT':
      // jPOS pads 28-31 on the left and 97 on the right; 97 has an even digit count, so only 28-31 differ.
      return { name, type: 'fixed', maxLength: length, content: 'xn', encoding: 'bcd', bcdPadding: number === 97 ? 'right' : 'left' };
  }
}

export const iso87Binary: IsoDialect = {
  kind: 'iso8583',
  name: 'iso87-binary',
  description: 'ISO 8583:1987, BCD numerics and lengths, binary bitmaps (jPOS ISO87BPackager)',
  mtiEncoding: 'bcd',
  bitmapEncoding: 'binary',
  fields: fieldsFromRows(iso87Rows, binarySpec),
};

/** iso87-binary behind a 5-byte TPDU (the header is passed through untouched as bytes). */
export const iso87BinaryTpdu: IsoDialect = {
  ...iso87Binary,
  name: 'iso87-binary-tpdu',
  description: 'iso87-binary preceded by a 5-byte TPDU',
  headerBytes: tpduBytes,
};
