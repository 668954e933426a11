// Sockets only: TCP and TLS listeners, per-connection framing, limits, timeouts, backpressure and
// graceful close. What a frame means is the session's business (session.ts).
//
// Backpressure: a connection stops being read (socket.pause) while its in-flight requests are at
// inflightPerConnectionMax, while frames already read wait for a slot, or while its write buffer
// holds more than writeBufferBytesMax. Frames waiting for a slot are bounded by what one read
// chunk can hold, because no further chunk is read until they are handled.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { LengthFramer, LineFramer, lengthFrameBytesCeiling } from './codec/index.js';
import type { FrameEvent, LengthHeader } from './codec/index.js';
import type { GatewayLimits, GatewayRefusalReason } from './limits.js';
import type { Session } from './session.js';

export type Framing = LengthHeader | 'lines';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly requireClientCert: boolean;
}

export interface ListenerSpec {
  readonly host: string;
  readonly port: number;
  readonly framing: Framing;
  readonly headerCountsItself: boolean;
  readonly tls?: TlsMaterial;
  readonly newSession: () => Session;
  readonly name: string;
}

export interface GatewayStats {
  connectionsOpen: number;
  connectionsAccepted: number;
  framesIn: number;
  framesOut: number;
  keepAlivesIn: number;
  bytesIn: number;
  bytesOut: number;
  inflight: number;
  refused: Record<string, number>;
}

interface Framer {
  push(chunk: Uint8Array): FrameEvent[];
  /** Above 0 while a frame has begun and not ended (the slow-sender rule). */
  readonly bufferedBytes: number;
}

class Connection {
  readonly framer: Framer;
  readonly pending: Uint8Array[] = [];
  inflight = 0;
  framesIn = 0;
  readonly acceptedAtMs: number;
  lastActivityMs: number;
  windowStartMs: number;
  windowBytes = 0;
  writeBlocked = false;
  /** Set when the stream is no longer trusted (or a bound was hit): answer what is in flight, drop the rest, close. */
  closing = false;
  /** Set by a graceful stop: read nothing more, answer every frame already read, then close. */
  draining = false;
  /** When our side ended and every answer was flushed: the peer then has closeLingerMsMax to close its side. */
  endedAtMs: number | undefined;
  readSuspended = false;

  constructor(readonly socket: Socket, readonly spec: ListenerSpec, readonly session: Session, limits: GatewayLimits, nowMs: number) {
    this.framer = spec.framing === 'lines'
      ? new LineFramer({ lineBytesMax: limits.frameBytesMax })
      : new LengthFramer({ header: spec.framing, headerCountsItself: spec.headerCountsItself, frameBytesMax: Math.min(limits.frameBytesMax, lengthFrameBytesCeiling(spec.framing, spec.headerCountsItself)) });
    this.acceptedAtMs = nowMs;
    this.lastActivityMs = nowMs;
    this.windowStartMs = nowMs;
  }

  frameOut(payload: Uint8Array): Uint8Array {
    // fixed-v1 replies in line mode are records that already end in CR LF.
    return this.framer instanceof LengthFramer ? this.framer.frame(payload) : payload;
  }
}

/** How long a connection whose side we ended may wait for the peer to close its own (at most idleMsMax). */
const closeLingerMsMax = 5000;

export class Transport {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly rawSockets = new Set<Socket>();
  private readonly perSource = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  readonly statsValue: GatewayStats = {
    connectionsOpen: 0, connectionsAccepted: 0, framesIn: 0, framesOut: 0, keepAlivesIn: 0, bytesIn: 0, bytesOut: 0, inflight: 0, refused: {},
  };

  constructor(
    private readonly limits: GatewayLimits,
    private readonly logger: Logger,
    private readonly onRefused: (reason: GatewayRefusalReason) => void,
  ) {}

  refuse(reason: GatewayRefusalReason): void {
    this.statsValue.refused[reason] = (this.statsValue.refused[reason] ?? 0) + 1;
    this.onRefused(reason);
  }

  async listen(spec: ListenerSpec): Promise<number> {
    // Half-open allowed: a register may send its request, shut its sending side and wait for the
    // answer. Its end is then handled like a drain (answer what was read, then close), not by
    // ending our side at once, which would drop an answer to a command the ledger applied.
    const server = spec.tls === undefined ? createServer({ noDelay: true, allowHalfOpen: true }) : this.tlsServer(spec, spec.tls);
    server.on('connection', (socket: Socket) => this.admit(socket));
    if (spec.tls === undefined) server.on('connection', (socket: Socket) => this.open(socket, spec));
    else server.on('secureConnection', (socket: TLSSocket) => this.open(socket, spec));
    this.servers.push(server);
    this.startSweep();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, spec.host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.logger.error({ err: error, listener: spec.name }, 'gateway listener error'));
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : spec.port);
      });
    });
  }

  private tlsServer(spec: ListenerSpec, tls: TlsMaterial): Server {
    const options = {
      cert: tls.cert, key: tls.key, handshakeTimeout: this.limits.handshakeMsMax, minVersion: 'TLSv1.2' as const, allowHalfOpen: true,
      requestCert: tls.requireClientCert, rejectUnauthorized: tls.requireClientCert,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    };
    const server = createTlsServer(options);
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      const timedOut = /handshake timeout/i.test(error.message);
      this.refuse(timedOut ? 'handshake_ms_max' : 'tls_handshake_failed');
      this.logger.info({ listener: spec.name, remote: socket.remoteAddress, reason: error.message }, 'tls handshake refused');
      socket.destroy();
    });
    return server;
  }

  /** Counts every raw socket (TLS handshakes included) against connectionsMax and per-source bounds. */
  private admit(socket: Socket): void {
    const source = socket.remoteAddress ?? 'unknown';
    const fromSource = this.perSource.get(source) ?? 0;
    let reason: GatewayRefusalReason | undefined;
    if (this.stopping) reason = 'shutting_down';
    else if (this.rawSockets.size >= this.limits.connectionsMax) reason = 'connections_max';
    else if (fromSource >= this.limits.connectionsPerSourceMax) reason = 'connections_per_source_max';
    if (reason !== undefined) {
      this.refuse(reason);
      (socket as Socket & { refused?: boolean }).refused = true;
      socket.destroy();
      return;
    }
    this.rawSockets.add(socket);
    this.perSource.set(source, fromSource + 1);
    this.statsValue.connectionsAccepted += 1;
    socket.once('close', () => {
      this.rawSockets.delete(socket);
      const left = (this.perSource.get(source) ?? 1) - 1;
      if (left <= 0) this.perSource.delete(source);
      else this.perSource.set(source, left);
    });
  }

  private open(socket: Socket, spec: ListenerSpec): void {
    if ((socket as Socket & { refused?: boolean }).refused === true || socket.destroyed) return;
    const connection = new Connection(socket, spec, spec.newSession(), this.limits, Date.now());
    this.connections.add(connection);
    this.statsValue.connectionsOpen += 1;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(connection, chunk));
    socket.on('drain', () => {
      connection.writeBlocked = false;
      this.pump(connection);
    });
    socket.on('end', () => this.drain(connection));
    socket.on('error', (error) => this.logger.debug({ err: error, listener: spec.name }, 'gateway socket error'));
    socket.once('close', () => {
      this.connections.delete(connection);
      this.statsValue.connectionsOpen -= 1;
    });
    if (this.stopping) this.drain(connection);
  }

  private onData(connection: Connection, chunk: Buffer): void {
    const nowMs = Date.now();
    this.statsValue.bytesIn += chunk.length;
    // A closing connection's input is discarded and does not count as activity: a peer that keeps
    // sending after our end is cut by idleMsMax.
    if (connection.closing) return;
    connection.lastActivityMs = nowMs;
    const inFrameBefore = connection.framer.bufferedBytes > 0;
    const framesBefore = connection.framesIn;
    connection.windowBytes += chunk.length;
    for (const event of connection.framer.push(chunk)) {
      if (event.kind === 'frame') {
        connection.framesIn += 1;
        this.statsValue.framesIn += 1;
        connection.pending.push(event.payload);
      } else if (event.kind === 'keep-alive') {
        connection.framesIn += 1;
        this.statsValue.keepAlivesIn += 1;
      } else {
        const tooLarge = event.error.code === 'FRAME_TOO_LARGE' || event.error.code === 'LINE_TOO_LONG';
        this.refuse(tooLarge ? 'frame_bytes_max' : 'bad_frame');
        this.logger.info({ listener: connection.spec.name, code: event.error.code, offset: event.error.streamOffset }, 'gateway frame refused; closing');
        connection.closing = true;
        break;
      }
    }
    // The slow-sender rule judges a frame's bytes from the time it began: a frame begun by this
    // chunk (after a pause between frames, which is no fault) starts a new window.
    const inFrameAfter = connection.framer.bufferedBytes > 0;
    if (inFrameAfter && (!inFrameBefore || connection.framesIn > framesBefore)) {
      connection.windowStartMs = nowMs;
      connection.windowBytes = connection.framer.bufferedBytes;
    }
    this.pump(connection);
  }

  /** Hands waiting frames to the session while slots are free, then decides whether to keep reading. */
  private pump(connection: Connection): void {
    while (connection.pending.length > 0 && connection.inflight < this.limits.inflightPerConnectionMax && !connection.writeBlocked) {
      const payload = connection.pending.shift()!;
      let result;
      try {
        result = connection.session.handle(payload);
      } catch (error) {
        this.logger.error({ err: error, listener: connection.spec.name }, 'gateway session failed on a frame; closing');
        connection.closing = true;
        connection.pending.length = 0;
        break;
      }
      if (result instanceof Promise) {
        connection.inflight += 1;
        this.statsValue.inflight += 1;
        result.then(
          (done) => this.finish(connection, done.reply, done.close),
          (error: unknown) => {
            this.logger.error({ err: error }, 'gateway session rejected');
            this.finish(connection, undefined, 'bad_frame');
          },
        );
      } else {
        this.deliver(connection, result.reply, result.close);
      }
    }
    this.updateReading(connection);
  }

  private finish(connection: Connection, reply: Uint8Array | undefined, close: GatewayRefusalReason | undefined): void {
    connection.inflight -= 1;
    this.statsValue.inflight -= 1;
    this.deliver(connection, reply, close);
    this.pump(connection);
  }

  private deliver(connection: Connection, reply: Uint8Array | undefined, close: GatewayRefusalReason | undefined): void {
    if (reply !== undefined && !connection.socket.destroyed) {
      let bytes: Uint8Array;
      try {
        bytes = connection.frameOut(reply);
      } catch (error) {
        // A reply the framing cannot carry (longer than frameBytesMax): the register cannot be
        // answered on this connection; close it rather than fail the process.
        this.logger.error({ err: error, listener: connection.spec.name, replyBytes: reply.length }, 'a reply does not fit the framing; closing the connection');
        this.deliver(connection, undefined, close ?? 'reply_too_large');
        return;
      }
      this.statsValue.framesOut += 1;
      this.statsValue.bytesOut += bytes.length;
      connection.lastActivityMs = Date.now();
      const flushed = connection.socket.write(bytes);
      if (!flushed || connection.socket.writableLength > this.limits.writeBufferBytesMax) connection.writeBlocked = true;
    }
    if (close !== undefined && !connection.closing) {
      this.refuse(close);
      connection.closing = true;
      connection.pending.length = 0;
    }
  }

  private updateReading(connection: Connection): void {
    const socket = connection.socket;
    if (connection.closing) {
      connection.pending.length = 0;
      if (connection.inflight > 0 || socket.destroyed) {
        if (!socket.isPaused()) socket.pause();
        return;
      }
      if (!socket.writableEnded) {
        // The linger starts once every answer has left this process for the kernel, not before, so
        // a register that reads late still gets what it is owed. One that never reads (its answers
        // never leave) is cut by idleMsMax after the last answer written, as before any end.
        socket.end(() => {
          connection.endedAtMs = Date.now();
        });
      }
      // Read (and discard: onData ignores a closing connection) whatever the peer still sends, so
      // its end arrives and the socket closes now rather than at the shutdown grace deadline.
      socket.resume();
      return;
    }
    if (connection.draining) {
      // Frames already read were sent by a register that waits for their answers: they are
      // submitted and answered like any other (the pool outlives the gateway), then the socket ends.
      if (connection.inflight === 0 && connection.pending.length === 0) {
        connection.closing = true;
        this.updateReading(connection);
      }
      return;
    }
    const hold = connection.pending.length > 0 || connection.inflight >= this.limits.inflightPerConnectionMax || connection.writeBlocked;
    if (hold && !connection.readSuspended) {
      connection.readSuspended = true;
      socket.pause();
    } else if (!hold && connection.readSuspended) {
      connection.readSuspended = false;
      connection.windowStartMs = Date.now();
      connection.windowBytes = 0;
      socket.resume();
    }
  }

  private startSweep(): void {
    if (this.sweepTimer !== undefined) return;
    const l = this.limits;
    const intervalMs = Math.max(10, Math.min(1000, Math.floor(Math.min(l.idleMsMax, l.firstFrameMsMax, l.readWindowMs) / 4)));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), intervalMs);
    this.sweepTimer.unref();
  }

  /** Timeouts and the slow-sender rule, checked for every connection a few times per bound. */
  private sweep(nowMs: number): void {
    for (const connection of this.connections) {
      // Every answer is out and our side has ended: a peer that does not close its side (a slow
      // sender never will) is cut, so it holds its connection slot no longer than this.
      if (connection.endedAtMs !== undefined && nowMs - connection.endedAtMs > Math.min(closeLingerMsMax, this.limits.idleMsMax)) {
        connection.socket.destroy();
        continue;
      }
      const reason = this.overdue(connection, nowMs);
      if (reason === undefined) continue;
      // A connection already closing was counted when it began to close; this only ends it.
      if (!connection.closing) this.logger.info({ listener: connection.spec.name, remote: connection.socket.remoteAddress, reason }, 'gateway connection closed at a bound');
      this.deliver(connection, undefined, reason);
      // A slow sender's requests in flight may be applied already: they are answered, then the
      // connection ends (updateReading's closing branch). The other bounds have nothing in flight.
      if (reason === 'read_bytes_per_second_min') this.updateReading(connection);
      else connection.socket.destroy();
    }
  }

  private overdue(connection: Connection, nowMs: number): GatewayRefusalReason | undefined {
    const l = this.limits;
    if (connection.framesIn === 0 && nowMs - connection.acceptedAtMs > l.firstFrameMsMax) return 'first_frame_ms_max';
    if (connection.inflight === 0 && nowMs - connection.lastActivityMs > l.idleMsMax) return 'idle_ms_max';
    const elapsedMs = nowMs - connection.windowStartMs;
    if (elapsedMs < l.readWindowMs) return undefined;
    // Only a sender in the middle of a frame, and not held back by us (bounds, backpressure, a
    // drain), is judged on its rate.
    // A length header alone is in a frame too: a sender that stops right after one is slow.
    const judged = connection.framer.bufferedBytes > 0 && !connection.readSuspended && !connection.closing;
    const slow = judged && (connection.windowBytes * 1000) / elapsedMs < l.readBytesPerSecondMin;
    connection.windowStartMs = nowMs;
    connection.windowBytes = 0;
    return slow ? 'read_bytes_per_second_min' : undefined;
  }

  /** Stops reading; answers what was read; then closes (updateReading's draining branch). */
  private drain(connection: Connection): void {
    connection.draining = true;
    // Reading stays suspended for good, so the slow-sender rule leaves the connection alone.
    connection.readSuspended = true;
    connection.socket.pause();
    this.updateReading(connection);
  }

  stats(): GatewayStats {
    return { ...this.statsValue, refused: { ...this.statsValue.refused } };
  }

  /** Stops accepting, answers what is in flight, closes; whatever is left after graceMs is cut. */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    const serversClosed = Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const connection of this.connections) this.drain(connection);
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    const drained = (async () => {
      while (this.rawSockets.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    })();
    await Promise.race([drained, deadline]);
    for (const socket of this.rawSockets) socket.destroy();
    await serversClosed;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
