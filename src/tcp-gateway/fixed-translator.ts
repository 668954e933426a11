// fixed-v1 request <-> ledger command: the same commands as ISO 8583, from H/I/T/Z records, answered
// with R/D records. Pure. Idempotency id `iso:<store>:<terminal>:<STAN>:<transmission time>`, as for ISO.
import type {
  AuthorizeResult, Command, CompleteResult, Envelope, Outcome, ReturnLine, SaleLine, SaleResult, TenderType,
} from '../ledger/index.js';
import type { LineDecision, fixed } from './codec/index.js';
import { completeLineDecisions, registerIdempotencyId, returnLineDecisions, returnLineOf, saleLineDecisions, saleLineOf } from './mapping.js';
import { codeForDecision, codeForError, responseCodes } from './response-codes.js';
import type { ResponseCode } from './response-codes.js';
import type { SessionState } from './translator.js';

type FixedRequest = fixed.FixedRequest;
type FixedReply = fixed.FixedReply;
type FixedLineDecision = fixed.FixedLineDecision;

/** A line decision as a fixed-v1 D record. */
const decisionRecord = (decision: LineDecision): FixedLineDecision => ({ recordType: 'D', ...decision });

export type FixedPlan =
  | { readonly kind: 'reply'; readonly reply: FixedReply; readonly signOn?: boolean }
  | {
    readonly kind: 'command';
    readonly envelope: Envelope;
    readonly respond: (outcome: Outcome) => FixedReply;
    /** The 96 to send when respond's reply cannot be built or encoded (the ledger may have committed); built only then. */
    readonly malfunction: () => FixedReply;
  };

const tenderTypes: Readonly<Record<fixed.FixedTenderType, TenderType>> = {
  CA: 'CASH', CC: 'CARD', DC: 'CARD', GC: 'GIFT_CARD', SC: 'STORE_CREDIT', OT: 'OTHER',
};
const messageCharsMax = 40;
const decisionsMax = 999;

/** A reply with code `code`; the message column carries the code's meaning for the display. */
export function fixedReply(stan: number, code: ResponseCode, returnId = '', decisions: readonly FixedLineDecision[] = []): FixedReply {
  const kept = decisions.slice(0, decisionsMax);
  return {
    response: {
      recordType: 'R', stan, responseCode: code, returnId: returnId.slice(0, 20), decisionCount: kept.length,
      message: responseCodes[code].slice(0, messageCharsMax),
    },
    decisions: kept,
  };
}

/**
 * Return id assigned to an authorization that names none: `<terminal><YYMMDD><STAN>`, at most 20
 * characters (the R record's column), the last 12 always digits. The year is in it because STANs
 * restart every day and return ids are kept for good: without it, the same terminal and STAN on
 * the same day a year later named a return that already existed.
 */
export function fixedReturnId(terminalId: string, stan: number, transmissionTime: string): string {
  return `${terminalId}${transmissionTime.slice(2, 8)}${String(stan).padStart(6, '0')}`;
}

function commandPlan(request: FixedRequest, command: Command, respond: (outcome: Outcome) => FixedReply): FixedPlan {
  const h = request.header;
  const envelope: Envelope = { idempotencyId: registerIdempotencyId(h.storeId, h.terminalId, String(h.stan).padStart(6, '0'), h.transmissionTime), actor: { terminalId: h.terminalId }, command };
  // The return id a reply carries is the command's (none for a sale).
  return { kind: 'command', envelope, respond, malfunction: () => fixedReply(h.stan, '96', 'returnId' in command ? command.returnId : '') };
}

function failure(request: FixedRequest, outcome: Outcome & { ok: false }, returnId = ''): FixedReply {
  return fixedReply(request.header.stan, codeForError(outcome.error.code), returnId);
}

function planSale(request: FixedRequest): FixedPlan {
  const h = request.header;
  if (request.tenders.some((tender) => tender.amount < 0)) return { kind: 'reply', reply: fixedReply(h.stan, '13') };
  const command: Command = {
    type: 'RecordSale', storeId: h.storeId, receiptId: h.receiptId, channel: 'STORE', currency: h.currency,
    lines: request.items.map(saleLineOf),
    tenders: request.tenders.map((tender) => ({ tenderType: tenderTypes[tender.tenderType], amountMinor: tender.amount })),
  };
  const respond = (outcome: Outcome): FixedReply => {
    if (!outcome.ok) return failure(request, outcome);
    const result = outcome.result as SaleResult;
    return fixedReply(h.stan, codeForDecision(result), '', saleLineDecisions(result, request.items).map(decisionRecord));
  };
  return commandPlan(request, command, respond);
}

function planAuthorize(request: FixedRequest): FixedPlan {
  const h = request.header;
  const returnId = h.returnId !== '' ? h.returnId : fixedReturnId(h.terminalId, h.stan, h.transmissionTime);
  const receipted = h.originalReceiptId !== '';
  const lines: ReturnLine[] = [];
  const replacement: SaleLine[] = [];
  for (const item of request.items) {
    // An item with disposition R is an exchange's replacement: reserved now, sold at completion.
    if (item.disposition === 'R') replacement.push(saleLineOf(item));
    else lines.push(returnLineOf(item, item.disposition, receipted));
  }
  const command: Command = { type: 'AuthorizeReturn', storeId: h.storeId, returnId, lines };
  if (replacement.length > 0) command.replacement = { receiptId: `${returnId}-X`, lines: replacement };
  if (receipted) command.receiptId = h.originalReceiptId;
  const respond = (outcome: Outcome): FixedReply => {
    if (!outcome.ok) return failure(request, outcome, returnId);
    const result = outcome.result as AuthorizeResult;
    return fixedReply(h.stan, codeForDecision(result), returnId, returnLineDecisions(result).map(decisionRecord));
  };
  return commandPlan(request, command, respond);
}

function planComplete(request: FixedRequest): FixedPlan {
  const h = request.header;
  const command: Command = { type: 'CompleteReturn', storeId: h.storeId, returnId: h.returnId };
  if (request.items.length > 0) command.lines = request.items.map((item) => ({ lineNo: item.lineNo, quantity: item.quantity }));
  const respond = (outcome: Outcome): FixedReply => {
    if (!outcome.ok) return failure(request, outcome, h.returnId);
    const result = outcome.result as CompleteResult;
    return fixedReply(h.stan, '00', h.returnId, completeLineDecisions(result).map(decisionRecord));
  };
  return commandPlan(request, command, respond);
}

function planVoid(request: FixedRequest): FixedPlan {
  const h = request.header;
  const command: Command = { type: 'VoidReturn', storeId: h.storeId, returnId: h.returnId, reason: 'fixed-v1 void' };
  const respond = (outcome: Outcome): FixedReply => (outcome.ok ? fixedReply(h.stan, '00', h.returnId) : failure(request, outcome, h.returnId));
  return commandPlan(request, command, respond);
}

/** The one record layout version this gateway reads; a register speaking another is refused, not guessed at. */
const fixedVersion = '01';

export function planFixed(request: FixedRequest, session: Readonly<SessionState>): FixedPlan {
  const h = request.header;
  if (h.version !== fixedVersion) return { kind: 'reply', reply: fixedReply(h.stan, '30') };
  switch (h.operation) {
    case 'SO': return { kind: 'reply', reply: fixedReply(h.stan, '00'), signOn: true };
    case 'SF': return { kind: 'reply', reply: fixedReply(h.stan, '00'), signOn: false };
    case 'EC': return { kind: 'reply', reply: fixedReply(h.stan, '00') };
    default: break;
  }
  if (!session.signedOn) return { kind: 'reply', reply: fixedReply(h.stan, '58') };
  if ((h.operation === 'RC' || h.operation === 'VD') && h.returnId === '') return { kind: 'reply', reply: fixedReply(h.stan, '30') };
  switch (h.operation) {
    case 'SA': return planSale(request);
    case 'RA': return planAuthorize(request);
    case 'RC': return planComplete(request);
    case 'VD': return planVoid(request);
  }
}
