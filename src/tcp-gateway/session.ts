// Per-connection protocol sessions: a decoded frame in, the reply payload out. A session owns the
// connection's sign-on state and (fixed-v1 line mode) the records of the message being received.
// The transport (transport.ts) owns sockets, framing, limits and backpressure.
import type { Logger } from 'pino';
import type { Envelope, Outcome } from '../ledger/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { CommandSink } from '../workers/index.js';
import { CodecError, decode, encode, fixed, peekMti, redact } from './codec/index.js';
import type { IsoDialect, IsoMessage } from './codec/index.js';
import { fixedReply, planFixed } from './fixed-translator.js';
import type { FixedPlan } from './fixed-translator.js';
import type { GatewayRefusalReason } from './limits.js';
import { answer, pickFields, planIso } from './translator.js';
import type { SessionState } from './translator.js';

/** What a frame produced: a payload to send (unframed), and whether to close after in-flight work. */
export interface FrameResult {
  readonly reply?: Uint8Array;
  readonly close?: GatewayRefusalReason;
}

export interface Session {
  handle(payload: Uint8Array): FrameResult | Promise<FrameResult>;
}

/** What every session of a listener shares. */
export interface SessionContext {
  readonly sink: CommandSink;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  /** Counts format errors and other refusals that do not close the connection. */
  readonly refuse: (reason: GatewayRefusalReason) => void;
}

/** Submits through the sink and records the KPIs; never rejects. */
export async function execute(context: SessionContext, envelope: Envelope): Promise<Outcome> {
  const startedNs = process.hrtime.bigint();
  let outcome: Outcome;
  try {
    outcome = await context.sink.submit(envelope);
  } catch (error) {
    outcome = { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
  }
  const type = envelope.command.type;
  const metrics = context.metrics;
  if (metrics !== undefined) {
    metrics.commands.inc({ type, interface: 'tcp', code: outcome.ok ? 'OK' : outcome.error.code });
    if (outcome.ok) metrics.commitLatency.observe({ interface: 'tcp', type }, Number(process.hrtime.bigint() - startedNs) / 1e9);
    if (type === 'AuthorizeReturn') {
      if (!outcome.ok) metrics.recordAuthorizationOutcome({ errorCode: outcome.error.code });
      else if (outcome.result.type === 'ReturnAuthorized') metrics.recordAuthorizationOutcome({ result: outcome.result, replay: outcome.replay });
    }
  }
  return outcome;
}

export class IsoSession implements Session {
  private readonly state: SessionState = { signedOn: false };

  constructor(private readonly context: SessionContext, private readonly dialect: IsoDialect) {}

  handle(payload: Uint8Array): FrameResult | Promise<FrameResult> {
    let request: IsoMessage;
    try {
      request = decode(payload, this.dialect);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      return this.formatError(payload, error);
    }
    const plan = planIso(request, this.state);
    if (plan.kind === 'reply') {
      if (plan.signOn !== undefined) this.state.signedOn = plan.signOn;
      return this.reply(plan.response);
    }
    return execute(this.context, plan.envelope).then((outcome) => {
      let response: IsoMessage;
      try {
        response = plan.respond(outcome);
      } catch (error) {
        // The ledger may have committed: the register still gets an answer (96), never a silent close.
        this.context.logger.error({ err: error, mti: request.mti }, 'iso reply cannot be built');
        response = answer(request, '96');
      }
      return this.reply(response);
    });
  }

  /** 30 with the response MTI when the MTI is readable; otherwise the stream is not trusted: close. */
  private formatError(payload: Uint8Array, error: CodecError): FrameResult {
    this.context.logger.warn({ code: error.code, field: error.field, offset: error.offset, bytes: payload.length }, 'iso frame does not decode');
    const mti = peekMti(payload, this.dialect);
    if (mti === null) return { close: 'unreadable_message' };
    this.context.refuse('format_error');
    const headerBytes = this.dialect.headerBytes ?? 0;
    const bare: IsoMessage = headerBytes > 0 ? { mti, header: payload.slice(0, headerBytes), fields: new Map() } : { mti, fields: new Map() };
    return this.reply(answer(bare, '30'));
  }

  private reply(response: IsoMessage): FrameResult {
    if (this.context.logger.isLevelEnabled('debug')) this.context.logger.debug({ message: redact(response, this.dialect) }, 'iso reply');
    try {
      return { reply: encode(response, this.dialect) };
    } catch (error) {
      // A reply that cannot be encoded is a programmer error; the register still gets an answer.
      this.context.logger.error({ err: error, mti: response.mti }, 'iso reply does not encode');
      // The same response MTI and header (a TPDU, already swapped), the keys the register matches
      // answers by (11, 41), and 39 = 96: the fields that failed are left out.
      const fields = pickFields(response.fields, [11, 41]).set(39, '96');
      const fallback: IsoMessage = { ...response, fields };
      try {
        return { reply: encode(fallback, this.dialect) };
      } catch (fallbackError) {
        this.context.logger.error({ err: fallbackError, mti: response.mti }, 'iso 96 reply does not encode either; closing the connection');
        return { close: 'bad_frame' };
      }
    }
  }
}

/** Records of one fixed-v1 message, line mode: H first, Z last; bounded like the codec. */
const fixedRecordsMax = fixed.fixedItemsMax + fixed.fixedTendersMax + 2;

export class FixedSession implements Session {
  private readonly state: SessionState = { signedOn: false };
  private records: fixed.PlacedRecord[] = [];
  private offset = 0;
  /** Line mode: the STAN of the message being received, from its H line (0 before one). */
  private stan = 0;
  /** Line mode: a record of the message failed and was answered with 30; its other records are dropped up to its Z. */
  private skipping = false;

  constructor(private readonly context: SessionContext, private readonly lineMode: boolean) {}

  handle(payload: Uint8Array): FrameResult | Promise<FrameResult> {
    return this.lineMode ? this.handleLine(payload) : this.handleMessage(payload);
  }

  private handleMessage(payload: Uint8Array): FrameResult | Promise<FrameResult> {
    let request: fixed.FixedRequest;
    try {
      request = fixed.decodeRequest(payload);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      return this.formatError(error, this.stanOf(payload));
    }
    return this.run(planFixed(request, this.state));
  }

  /**
   * One record per line; a message runs from its H to its Z and gets exactly one reply. A record
   * that fails is answered at once with 30 and the message's STAN, and the message's other records
   * are dropped up to its Z (or the next H), so no second reply follows that answers no request.
   */
  private handleLine(payload: Uint8Array): FrameResult | Promise<FrameResult> {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1');
    if (text.startsWith('H')) {
      this.startMessage(this.stanOf(payload));
    } else if (this.skipping) {
      if (text.startsWith('Z')) this.startMessage(0);
      return {};
    }
    try {
      if (this.records.length >= fixedRecordsMax) throw new CodecError('LIMIT_EXCEEDED', this.records.length + 1, this.offset, `more than ${fixedRecordsMax} records`);
      const record = fixed.decodeRecord(text, this.records.length + 1, this.offset);
      this.records.push({ record, offset: this.offset });
      this.offset += payload.length + 2;
      if (record.recordType !== 'Z') return {};
      const request = fixed.assembleRequest(this.records);
      this.startMessage(0);
      return this.run(planFixed(request, this.state));
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      const stan = this.stan;
      this.startMessage(0);
      // A failed Z ends its message; any other record leaves the rest of it to drop.
      this.skipping = !text.startsWith('Z');
      return this.formatError(error, stan);
    }
  }

  private startMessage(stan: number): void {
    this.records = [];
    this.offset = 0;
    this.stan = stan;
    this.skipping = false;
  }

  /** The STAN columns of an H record (a message starts with one), or 0 when they are not six digits. */
  private stanOf(payload: Uint8Array): number {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1', 19, 25);
    return /^[0-9]{6}$/.test(text) ? Number(text) : 0;
  }

  private formatError(error: CodecError, stan: number): FrameResult {
    this.context.logger.warn({ code: error.code, record: error.field, offset: error.offset }, 'fixed-v1 message does not decode');
    this.context.refuse('format_error');
    return { reply: fixed.encodeReply(fixedReply(stan, '30')) };
  }

  private run(plan: FixedPlan): FrameResult | Promise<FrameResult> {
    if (plan.kind === 'reply') {
      if (plan.signOn !== undefined) this.state.signedOn = plan.signOn;
      return { reply: fixed.encodeReply(plan.reply) };
    }
    return execute(this.context, plan.envelope).then((outcome) => {
      try {
        return { reply: fixed.encodeReply(plan.respond(outcome)) };
      } catch (error) {
        // A value the reply's columns cannot hold (a quantity held over gRPC past 5 digits): the
        // ledger may have committed, so the register still gets an answer, 96, never a silent close.
        this.context.logger.error({ err: error, operation: plan.envelope.command.type }, 'fixed-v1 reply cannot be built; answering 96');
        return { reply: fixed.encodeReply(plan.malfunction()) };
      }
    });
  }
}
