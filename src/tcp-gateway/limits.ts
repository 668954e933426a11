// Every bound the gateway enforces, with its unit in the name. Exceeding one is a typed refusal
// (GatewayRefusalReason) counted in metrics.refused, never an unbounded buffer.

export interface GatewayLimits {
  /** Largest frame payload (ISO message or fixed-v1 line / message), in bytes. */
  readonly frameBytesMax: number;
  /** Open connections over all listeners (TLS handshakes included). */
  readonly connectionsMax: number;
  /** Open connections from one source address. */
  readonly connectionsPerSourceMax: number;
  /** Requests of one connection submitted and not yet answered; at the bound the socket stops being read. */
  readonly inflightPerConnectionMax: number;
  /** A connection with nothing read or written and nothing in flight for this long is closed. */
  readonly idleMsMax: number;
  /** Time from accept (TLS: from the end of the handshake) to the first frame. */
  readonly firstFrameMsMax: number;
  /** Time a TLS handshake may take. */
  readonly handshakeMsMax: number;
  /** Slow senders: while a frame is incomplete, fewer bytes than this per second over readWindowMs close the connection. */
  readonly readBytesPerSecondMin: number;
  /** Window over which readBytesPerSecondMin is measured. */
  readonly readWindowMs: number;
  /** Bytes queued for a socket to write beyond which the gateway stops reading it (backpressure). */
  readonly writeBufferBytesMax: number;
}

export const gatewayDefaults: GatewayLimits = Object.freeze({
  frameBytesMax: 8192,
  connectionsMax: 4096,
  connectionsPerSourceMax: 512,
  inflightPerConnectionMax: 64,
  idleMsMax: 300_000,
  firstFrameMsMax: 15_000,
  handshakeMsMax: 10_000,
  readBytesPerSecondMin: 64,
  readWindowMs: 10_000,
  writeBufferBytesMax: 256 * 1024,
});

/** Why a connection, frame or handshake was refused: the `reason` label of metrics.refused. */
export type GatewayRefusalReason =
  | 'connections_max'
  | 'connections_per_source_max'
  | 'frame_bytes_max'
  | 'reply_too_large'
  | 'bad_frame'
  | 'format_error'
  | 'unreadable_message'
  | 'idle_ms_max'
  | 'first_frame_ms_max'
  | 'handshake_ms_max'
  | 'tls_handshake_failed'
  | 'read_bytes_per_second_min'
  | 'shutting_down';

const frameBytesMin = 512;
const writeBufferBytesMin = 16 * 1024;

/** Checks limits at the boundary, with precise messages. */
export function resolveLimits(partial: Partial<GatewayLimits> | undefined): GatewayLimits {
  const limits = { ...gatewayDefaults, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`gateway limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.frameBytesMax > 65535) throw new RangeError(`gateway limit frameBytesMax ${limits.frameBytesMax} exceeds 65535`);
  // A reply can be longer than its request (field 39, line decisions): below this, ordinary replies would not fit.
  if (limits.frameBytesMax < frameBytesMin) throw new RangeError(`gateway limit frameBytesMax ${limits.frameBytesMax} is below ${frameBytesMin}`);
  // Below a socket's own write buffer (16 KiB), write() never reports backpressure, so no 'drain' would ever resume reading.
  if (limits.writeBufferBytesMax < writeBufferBytesMin) throw new RangeError(`gateway limit writeBufferBytesMax ${limits.writeBufferBytesMax} is below ${writeBufferBytesMin}`);
  return Object.freeze(limits);
}
