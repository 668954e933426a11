// EBCDIC code pages as 256-entry tables (byte -> Latin-1 code point), taken from the published
// cp037 / cp500 mappings; every EBCDIC byte maps into Latin-1, so a reverse table is exact.
import type { EbcdicCodePage } from '../dialect/types.js';

const cp037Hex =
  '000102039c09867f978d8e0b0c0d0e0f101112139d8508871819928f1c1d1e1f80818283840a171b88898a8b8c0506' +
  '07909116939495960498999a9b14159e1a20a0e2e4e0e1e3e5e7f1a22e3c282b7c26e9eaebe8edeeefecdf21242a29' +
  '3bac2d2fc2c4c0c1c3c5c7d1a62c255f3e3ff8c9cacbc8cdcecfcc603a2340273d22d8616263646566676869abbbf0' +
  'fdfeb1b06a6b6c6d6e6f707172aabae6b8c6a4b57e737475767778797aa1bfd0dddeae5ea3a5b7a9a7b6bcbdbe5b5d' +
  'afa8b4d77b414243444546474849adf4f6f2f3f57d4a4b4c4d4e4f505152b9fbfcf9faff5cf7535455565758595ab2' +
  'd4d6d2d3d530313233343536373839b3dbdcd9da9f';
const cp500Hex =
  '000102039c09867f978d8e0b0c0d0e0f101112139d8508871819928f1c1d1e1f80818283840a171b88898a8b8c0506' +
  '07909116939495960498999a9b14159e1a20a0e2e4e0e1e3e5e7f15b2e3c282b2126e9eaebe8edeeefecdf5d242a29' +
  '3b5e2d2fc2c4c0c1c3c5c7d1a62c255f3e3ff8c9cacbc8cdcecfcc603a2340273d22d8616263646566676869abbbf0' +
  'fdfeb1b06a6b6c6d6e6f707172aabae6b8c6a4b57e737475767778797aa1bfd0dddeaea2a3a5b7a9a7b6bcbdbeac7c' +
  'afa8b4d77b414243444546474849adf4f6f2f3f57d4a4b4c4d4e4f505152b9fbfcf9faff5cf7535455565758595ab2' +
  'd4d6d2d3d530313233343536373839b3dbdcd9da9f';

export interface EbcdicTable {
  /** EBCDIC byte -> character code. */
  readonly toChar: Uint16Array;
  /** Character code (< 256) -> EBCDIC byte. */
  readonly toByte: Uint8Array;
}

function build(hex: string): EbcdicTable {
  const toChar = new Uint16Array(256);
  const toByte = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const char = parseInt(hex.slice(byte * 2, byte * 2 + 2), 16);
    toChar[byte] = char;
    toByte[char] = byte;
  }
  return { toChar, toByte };
}

const tables: Record<EbcdicCodePage, EbcdicTable> = { cp037: build(cp037Hex), cp500: build(cp500Hex) };

export function ebcdicTable(codePage: EbcdicCodePage): EbcdicTable {
  return tables[codePage];
}
