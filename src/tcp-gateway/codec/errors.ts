// The one place where codec errors are made. Codes are stable: the translator maps them to ISO
// response code 30 (format error) and metrics count them by code.

export type CodecErrorCode =
  | 'TRUNCATED' // the bytes end inside a field, length prefix, bitmap, MTI or header
  | 'TRAILING_BYTES' // bytes remain after the last field the bitmap announced
  | 'BAD_MTI' // the MTI is not four digits
  | 'BAD_BITMAP' // bitmap not hex, or it announces a field the dialect cannot place
  | 'BAD_LENGTH' // a length prefix that is not a number, or a value of the wrong length
  | 'BAD_ENCODING' // a byte or character that the field's content or encoding forbids
  | 'BAD_VALUE' // a value of the wrong type (string for a binary field, or the reverse)
  | 'FIELD_TOO_LONG' // longer than the field's maxLength
  | 'UNKNOWN_FIELD' // a field number the dialect does not define
  | 'MESSAGE_TOO_LONG' // the message (read or written) exceeds messageBytesMax
  | 'BAD_HEADER' // header/TPDU missing or of the wrong length
  | 'BAD_RECORD' // fixed-v1: unknown record type, wrong record length or order
  | 'BAD_COLUMN' // fixed-v1: a column that does not match its type
  | 'LIMIT_EXCEEDED'; // a named limit (linesMax, skuLengthMax, ...) was exceeded

/**
 * A codec failure. `field` is the ISO field number (0 = MTI, 1 = bitmap, null = the message as a
 * whole; for fixed-v1 and line items it is the 1-based record or line number) and `offset` is the
 * byte offset in the message where the problem starts (in the output buffer when encoding).
 */
export class CodecError extends Error {
  readonly code: CodecErrorCode;
  readonly field: number | null;
  readonly offset: number;
  constructor(code: CodecErrorCode, field: number | null, offset: number, detail: string) {
    const where = field === null ? '' : ` field ${field}`;
    super(`${code}${where} at byte ${offset}: ${detail}`);
    this.name = 'CodecError';
    this.code = code;
    this.field = field;
    this.offset = offset;
  }
}
