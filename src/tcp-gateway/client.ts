// The register side of a link, for tests, the bench and tools: frames requests, matches responses
// to requests by terminal + STAN (ISO; fixed-v1 replies carry the STAN only), with a timeout per
// request and a bound on requests waiting. Responses may arrive in any order.
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { LengthFramer, LineFramer, decode, encode, fixed } from './codec/index.js';
import type { Dialect, FrameEvent, IsoMessage } from './codec/index.js';
import type { Framing } from './transport.js';

export interface RegisterClientOptions {
  host: string;
  port: number;
  dialect: Dialect;
  framing?: Framing;
  headerCountsItself?: boolean;
  /** TLS: the CA the gateway's certificate chains to; cert and key for mutual TLS where required. */
  tls?: { ca: Buffer; servername?: string; cert?: Buffer; key?: Buffer };
  /** How long a request waits for its response. */
  responseMsMax?: number;
  /** Requests waiting for a response at once. */
  pendingMax?: number;
  frameBytesMax?: number;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RegisterClient {
  private readonly waiters = new Map<string, Waiter[]>();
  private pendingCount = 0;
  private readonly framer: LengthFramer | LineFramer;
  private fixedLines: string[] = [];
  /** Responses that matched no request (e.g. a 30 answer that echoes no STAN), oldest first. */
  readonly unmatched: (IsoMessage | fixed.FixedReply)[] = [];
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket, private readonly options: RegisterClientOptions) {
    const framing = options.framing ?? (options.dialect.kind === 'fixed' ? 'lines' : 'binary2');
    const frameBytesMax = options.frameBytesMax ?? 8192;
    this.framer = framing === 'lines'
      ? new LineFramer({ lineBytesMax: frameBytesMax })
      : new LengthFramer({ header: framing, headerCountsItself: options.headerCountsItself ?? false, frameBytesMax });
    socket.on('data', (chunk: Buffer) => this.onData(this.framer.push(chunk)));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.failAll(new Error('connection closed'));
      resolve();
    }));
    socket.on('error', () => undefined);
  }

  static connect(options: RegisterClientOptions): Promise<RegisterClient> {
    return new Promise((resolve, reject) => {
      const socket: Socket = options.tls === undefined
        ? connectTcp({ host: options.host, port: options.port, noDelay: true })
        : connectTls({ host: options.host, port: options.port, ...options.tls, servername: options.tls.servername ?? 'localhost' });
      const ready = options.tls === undefined ? 'connect' : 'secureConnect';
      socket.once(ready, () => {
        socket.off('error', reject);
        resolve(new RegisterClient(socket, options));
      });
      socket.once('error', reject);
    });
  }

  /** Sends an ISO request and resolves with the response of the same terminal (41) and STAN (11). */
  sendIso(message: IsoMessage): Promise<IsoMessage> {
    if (this.options.dialect.kind !== 'iso8583') throw new Error('sendIso needs an ISO dialect');
    const key = `${String(message.fields.get(41) ?? '').trim()}:${String(message.fields.get(11) ?? '')}`;
    const promise = this.wait(key) as Promise<IsoMessage>;
    this.writeFrame(encode(message, this.options.dialect));
    return promise;
  }

  /** Sends a fixed-v1 request and resolves with the reply carrying its STAN. */
  sendFixed(request: fixed.FixedRequest): Promise<fixed.FixedReply> {
    const promise = this.wait(`:${request.header.stan}`) as Promise<fixed.FixedReply>;
    const bytes = fixed.encodeRequest(request);
    if (this.framer instanceof LineFramer) this.socket.write(bytes);
    else this.writeFrame(bytes);
    return promise;
  }

  writeFrame(payload: Uint8Array): void {
    this.socket.write((this.framer as LengthFramer).frame(payload));
  }

  writeRaw(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wait(key: string): Promise<unknown> {
    if (this.pendingCount >= (this.options.pendingMax ?? 1024)) return Promise.reject(new Error('pendingMax reached'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.take(key, undefined, new Error(`no response for ${key} within ${this.options.responseMsMax ?? 10_000} ms`)), this.options.responseMsMax ?? 10_000);
      const list = this.waiters.get(key) ?? [];
      list.push({ resolve, reject, timer });
      this.waiters.set(key, list);
      this.pendingCount += 1;
    });
  }

  /** Settles the oldest waiter for `key`; false when none waits. */
  private take(key: string, value: unknown, error?: Error): boolean {
    const list = this.waiters.get(key);
    const waiter = list?.shift();
    if (waiter === undefined) return false;
    if (list!.length === 0) this.waiters.delete(key);
    this.pendingCount -= 1;
    clearTimeout(waiter.timer);
    if (error === undefined) waiter.resolve(value);
    else waiter.reject(error);
    return true;
  }

  private onData(events: FrameEvent[]): void {
    for (const event of events) {
      if (event.kind !== 'frame') continue;
      if (this.options.dialect.kind === 'iso8583') {
        const response = decode(event.payload, this.options.dialect);
        const key = `${String(response.fields.get(41) ?? '').trim()}:${String(response.fields.get(11) ?? '')}`;
        if (!this.take(key, response)) this.unmatched.push(response);
      } else if (this.framer instanceof LineFramer) {
        this.onFixedLine(Buffer.from(event.payload).toString('latin1'));
      } else {
        this.onFixedReply(fixed.decodeReply(event.payload));
      }
    }
  }

  private onFixedLine(line: string): void {
    if (line.startsWith('R')) this.fixedLines = [];
    this.fixedLines.push(line);
    const head = fixed.decodeRecord(this.fixedLines[0]!);
    if (head.recordType !== 'R' || this.fixedLines.length - 1 < head.decisionCount) return;
    const lines = this.fixedLines;
    this.fixedLines = [];
    this.onFixedReply(fixed.decodeReply(Buffer.from(lines.map((text) => `${text}\r\n`).join(''), 'latin1')));
  }

  private onFixedReply(reply: fixed.FixedReply): void {
    if (!this.take(`:${reply.response.stan}`, reply)) this.unmatched.push(reply);
  }

  private failAll(error: Error): void {
    for (const key of [...this.waiters.keys()]) while (this.take(key, undefined, error));
  }
}
