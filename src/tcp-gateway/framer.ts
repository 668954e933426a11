// Incremental framers: bytes from a socket in chunks of any size in, complete frames out.
// Memory is bounded by frameBytesMax (lineBytesMax for lines): a peer announcing a bigger frame
// gets a typed error, never a bigger buffer. Pure: no I/O, no timers.

/**
 * Length header variants seen on register links:
 * - `binary2`: 2 bytes, unsigned big-endian (0..65535)
 * - `bcd2`: 2 bytes, BCD (0..9999)
 * - `ascii4`: 4 ASCII digits (0..9999)
 */
export type LengthHeader = 'binary2' | 'bcd2' | 'ascii4';

export interface LengthFramerOptions {
  readonly header: LengthHeader;
  /** True when the length value includes the header's own bytes (some hosts count it). */
  readonly headerCountsItself: boolean;
  /** Largest payload accepted or produced, in bytes. */
  readonly frameBytesMax: number;
}

export type FramerErrorCode = 'FRAME_TOO_LARGE' | 'BAD_LENGTH_HEADER' | 'LINE_TOO_LONG' | 'BAD_LINE' | 'FRAMER_FAILED';

export class FramerError extends Error {
  readonly code: FramerErrorCode;
  /** Offset in the stream (bytes pushed so far) where the bad header or line starts. */
  readonly streamOffset: number;
  constructor(code: FramerErrorCode, streamOffset: number, detail: string) {
    super(`${code} at stream byte ${streamOffset}: ${detail}`);
    this.name = 'FramerError';
    this.code = code;
    this.streamOffset = streamOffset;
  }
}

/**
 * What push() yields, in stream order. After an `error` event the framer is failed: the stream
 * cannot be resynchronised, so the transport answers what it can and closes the connection.
 */
export type FrameEvent =
  | { readonly kind: 'frame'; readonly payload: Uint8Array }
  | { readonly kind: 'keep-alive' }
  | { readonly kind: 'error'; readonly error: FramerError };

const headerBytesOf: Record<LengthHeader, number> = { binary2: 2, bcd2: 2, ascii4: 4 };
const headerValueMax: Record<LengthHeader, number> = { binary2: 0xffff, bcd2: 9999, ascii4: 9999 };

/** The largest frame a length header of this form can announce. */
export function lengthFrameBytesCeiling(header: LengthHeader, countsItself: boolean): number {
  return headerValueMax[header] - (countsItself ? headerBytesOf[header] : 0);
}

function checkFrameBytesMax(frameBytesMax: number, header: LengthHeader, countsItself: boolean): void {
  const most = lengthFrameBytesCeiling(header, countsItself);
  if (!Number.isInteger(frameBytesMax) || frameBytesMax < 1 || frameBytesMax > most) {
    throw new RangeError(`frameBytesMax ${frameBytesMax} must be an integer in 1..${most} for a ${header} header`);
  }
}

/** Reads a length header; returns -1 when its bytes are not a valid number in that form. */
function parseHeader(header: LengthHeader, bytes: Uint8Array): number {
  if (header === 'binary2') return (bytes[0]! << 8) | bytes[1]!;
  let value = 0;
  if (header === 'bcd2') {
    for (let i = 0; i < 2; i++) {
      const high = bytes[i]! >> 4;
      const low = bytes[i]! & 0x0f;
      if (high > 9 || low > 9) return -1;
      value = value * 100 + high * 10 + low;
    }
    return value;
  }
  for (let i = 0; i < 4; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function writeHeader(header: LengthHeader, value: number, into: Uint8Array): void {
  if (header === 'binary2') {
    into[0] = value >> 8;
    into[1] = value & 0xff;
  } else if (header === 'bcd2') {
    const high = Math.floor(value / 100);
    const low = value % 100;
    into[0] = (Math.floor(high / 10) << 4) | high % 10;
    into[1] = (Math.floor(low / 10) << 4) | low % 10;
  } else {
    for (let i = 3, rest = value; i >= 0; i--, rest = Math.floor(rest / 10)) into[i] = 0x30 + (rest % 10);
  }
}

export class LengthFramer {
  private readonly options: LengthFramerOptions;
  private readonly headerBytes: number;
  private readonly headerBuffer: Uint8Array;
  private headerFilled = 0;
  private payload: Uint8Array | null = null;
  private payloadFilled = 0;
  private streamOffset = 0;
  private failure: FramerError | null = null;

  constructor(options: LengthFramerOptions) {
    checkFrameBytesMax(options.frameBytesMax, options.header, options.headerCountsItself);
    this.options = options;
    this.headerBytes = headerBytesOf[options.header];
    this.headerBuffer = new Uint8Array(this.headerBytes);
  }

  /**
   * Bytes of an incomplete frame taken so far, its header included; never more than header +
   * frameBytesMax. Above 0 from a frame's first header byte until it ends.
   */
  get bufferedBytes(): number {
    return this.payload === null ? this.headerFilled : this.headerBytes + this.payloadFilled;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    if (this.failure !== null) {
      return [{ kind: 'error', error: new FramerError('FRAMER_FAILED', this.streamOffset, `already failed: ${this.failure.message}`) }];
    }
    const events: FrameEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      at = this.payload === null ? this.takeHeader(chunk, at, events) : this.takePayload(chunk, at, events);
      if (this.failure !== null) break;
    }
    return events;
  }

  private takeHeader(chunk: Uint8Array, at: number, events: FrameEvent[]): number {
    const count = Math.min(this.headerBytes - this.headerFilled, chunk.length - at);
    this.headerBuffer.set(chunk.subarray(at, at + count), this.headerFilled);
    this.headerFilled += count;
    this.streamOffset += count;
    if (this.headerFilled < this.headerBytes) return at + count;
    const headerStart = this.streamOffset - this.headerBytes;
    this.headerFilled = 0;
    const value = parseHeader(this.options.header, this.headerBuffer);
    const size = this.options.headerCountsItself && value !== 0 ? value - this.headerBytes : value;
    if (value < 0 || size < 0) {
      this.fail(events, new FramerError('BAD_LENGTH_HEADER', headerStart, `length header ${Buffer.from(this.headerBuffer).toString('hex')} is not a valid ${this.options.header} length`));
    } else if (size > this.options.frameBytesMax) {
      this.fail(events, new FramerError('FRAME_TOO_LARGE', headerStart, `frame of ${size} bytes exceeds frameBytesMax ${this.options.frameBytesMax}`));
    } else if (size === 0) {
      events.push({ kind: 'keep-alive' });
    } else {
      this.payload = new Uint8Array(size);
      this.payloadFilled = 0;
    }
    return at + count;
  }

  private takePayload(chunk: Uint8Array, at: number, events: FrameEvent[]): number {
    const payload = this.payload!;
    const count = Math.min(payload.length - this.payloadFilled, chunk.length - at);
    payload.set(chunk.subarray(at, at + count), this.payloadFilled);
    this.payloadFilled += count;
    this.streamOffset += count;
    if (this.payloadFilled === payload.length) {
      events.push({ kind: 'frame', payload });
      this.payload = null;
      this.payloadFilled = 0;
    }
    return at + count;
  }

  private fail(events: FrameEvent[], error: FramerError): void {
    this.failure = error;
    events.push({ kind: 'error', error });
  }

  /** The bytes to send for one payload: length header then payload. An empty payload is a keep-alive. */
  frame(payload: Uint8Array): Uint8Array {
    if (payload.length > this.options.frameBytesMax) {
      throw new FramerError('FRAME_TOO_LARGE', 0, `payload of ${payload.length} bytes exceeds frameBytesMax ${this.options.frameBytesMax}`);
    }
    const out = new Uint8Array(this.headerBytes + payload.length);
    writeHeader(this.options.header, payload.length + (this.options.headerCountsItself ? this.headerBytes : 0), out);
    out.set(payload, this.headerBytes);
    return out;
  }
}

export interface LineFramerOptions {
  /** Largest line accepted or produced, in bytes, without its line end. */
  readonly lineBytesMax: number;
}

/**
 * CR LF line framer for fixed-v1 records. A bare LF also ends a line (and a CR just before it is
 * dropped); an empty line is a keep-alive.
 */
export class LineFramer {
  private readonly lineBytesMax: number;
  private readonly buffer: Uint8Array;
  private filled = 0;
  private streamOffset = 0;
  private failure: FramerError | null = null;

  constructor(options: LineFramerOptions) {
    if (!Number.isInteger(options.lineBytesMax) || options.lineBytesMax < 1 || options.lineBytesMax > 65535) {
      throw new RangeError(`lineBytesMax ${options.lineBytesMax} must be an integer in 1..65535`);
    }
    this.lineBytesMax = options.lineBytesMax;
    // One byte more than the limit, for the CR that may precede the LF.
    this.buffer = new Uint8Array(options.lineBytesMax + 1);
  }

  /** Bytes of a line taken so far: above 0 from its first byte until it ends. */
  get bufferedBytes(): number {
    return this.filled;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    if (this.failure !== null) {
      return [{ kind: 'error', error: new FramerError('FRAMER_FAILED', this.streamOffset, `already failed: ${this.failure.message}`) }];
    }
    const events: FrameEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(0x0a, at);
      const end = newline < 0 ? chunk.length : newline;
      if (this.filled + (end - at) > this.lineBytesMax + 1) {
        this.failure = new FramerError('LINE_TOO_LONG', this.streamOffset - this.filled, `line exceeds lineBytesMax ${this.lineBytesMax}`);
        events.push({ kind: 'error', error: this.failure });
        return events;
      }
      this.buffer.set(chunk.subarray(at, end), this.filled);
      this.filled += end - at;
      this.streamOffset += end - at;
      if (newline < 0) break;
      this.streamOffset += 1;
      at = newline + 1;
      this.emitLine(events);
      if (this.failure !== null) break;
    }
    return events;
  }

  private emitLine(events: FrameEvent[]): void {
    let length = this.filled;
    if (length > 0 && this.buffer[length - 1] === 0x0d) length -= 1;
    this.filled = 0;
    if (length > this.lineBytesMax) {
      this.failure = new FramerError('LINE_TOO_LONG', this.streamOffset - length - 1, `line exceeds lineBytesMax ${this.lineBytesMax}`);
      events.push({ kind: 'error', error: this.failure });
    } else if (length === 0) {
      events.push({ kind: 'keep-alive' });
    } else {
      events.push({ kind: 'frame', payload: this.buffer.slice(0, length) });
    }
  }

  frame(line: Uint8Array): Uint8Array {
    if (line.length > this.lineBytesMax) {
      throw new FramerError('LINE_TOO_LONG', 0, `line of ${line.length} bytes exceeds lineBytesMax ${this.lineBytesMax}`);
    }
    if (line.includes(0x0a) || line.includes(0x0d)) throw new FramerError('BAD_LINE', 0, 'a line must not contain CR or LF');
    const out = new Uint8Array(line.length + 2);
    out.set(line, 0);
    out[line.length] = 0x0d;
    out[line.length + 1] = 0x0a;
    return out;
  }
}
