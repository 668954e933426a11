/** Mutating RPCs: translate the request, submit the command through the pool, translate the result. */
import type * as L from '../ledger/index.js';
import type * as pb from './proto.js';
import { errorInfoOf } from './errors.js';
import type { CallGate } from './server.js';
import { fromResult, toCommand } from './translate.js';

export function commandHandlers(gate: CallGate) {
  // The command is built after the context is checked, so a missing idempotency id is reported first.
  const run = async <R extends L.CommandResult>(context: pb.RequestContext | undefined, build: () => L.Command) => {
    const { command, result, replay, journalSeq } = await gate.submit(context, build);
    return { command, result: result as R, replay, journalSeq };
  };
  /**
   * A return authorization, alone or within an exchange, counted in the KPI as the gateway counts
   * it: its decision once (a replay answers with a decision already counted), or ERROR with the
   * code the call fails with.
   */
  const authorize = async <R extends L.CommandResult>(context: pb.RequestContext | undefined, build: () => L.Command, decisionOf: (result: R) => L.AuthorizeResult) => {
    let submitted: Awaited<ReturnType<typeof run<R>>>;
    try {
      submitted = await run<R>(context, build);
    } catch (error) {
      gate.metrics.recordAuthorizationOutcome({ errorCode: errorInfoOf(error).code });
      throw error;
    }
    gate.metrics.recordAuthorizationOutcome({ result: decisionOf(submitted.result), replay: submitted.replay });
    return submitted;
  };
  return {
    returns: {
      authorizeReturn: gate.unary<pb.AuthorizeReturnRequest, pb.AuthorizeReturnResponse>('AuthorizeReturn', async (request) => {
        const { result, replay, journalSeq } = await authorize<L.AuthorizeResult>(request.context, () => toCommand.authorizeReturn(request), (authorized) => authorized);
        return { authorization: fromResult.authorization(result), replay, journalSeq };
      }),
      completeReturn: gate.unary<pb.CompleteReturnRequest, pb.CompleteReturnResponse>('CompleteReturn', async (request) => {
        const { result, replay, journalSeq } = await run<L.CompleteResult>(request.context, () => toCommand.completeReturn(request));
        return { completion: fromResult.completion(result), replay, journalSeq };
      }),
      voidReturn: gate.unary<pb.VoidReturnRequest, pb.VoidReturnResponse>('VoidReturn', async (request) => {
        const { result, replay, journalSeq } = await run<L.VoidResult>(request.context, () => toCommand.voidReturn(request));
        return { returnId: result.returnId, replay, journalSeq };
      }),
      exchange: gate.unary<pb.ExchangeRequest, pb.ExchangeResponse>('Exchange', async (request) => {
        const { result, replay, journalSeq } = await authorize<L.ExchangeResult>(request.context, () => toCommand.exchange(request), (exchanged) => exchanged.authorization);
        return {
          authorization: fromResult.authorization(result.authorization),
          completion: result.completion === undefined ? undefined : fromResult.completion(result.completion),
          replay, journalSeq,
        };
      }),
    },
    sales: {
      recordSale: gate.unary<pb.RecordSaleRequest, pb.RecordSaleResponse>('RecordSale', async (request) => {
        const { result, replay, journalSeq } = await run<L.SaleResult>(request.context, () => toCommand.recordSale(request));
        return {
          receiptId: result.receiptId, decision: result.decision === 'APPROVED' ? 1 : 3, lines: fromResult.saleDecisions(result.lines),
          totalMinor: result.totalMinor, replay, journalSeq,
        };
      }),
      importReceipt: gate.unary<pb.ImportReceiptRequest, pb.ImportReceiptResponse>('ImportReceipt', async (request) => {
        const { result, replay, journalSeq } = await run<L.ImportResult>(request.context, () => toCommand.importReceipt(request));
        return { receiptId: result.receiptId, totalMinor: result.totalMinor, replay, journalSeq };
      }),
    },
    admin: {
      upsertStore: gate.unary<pb.UpsertStoreRequest, pb.UpsertStoreResponse>('UpsertStore', async (request) => {
        const { result, replay, journalSeq } = await run<L.StoreResult>(request.context, () => toCommand.upsertStore(request));
        return { store: fromResult.store(result.store), effectivePolicy: fromResult.policy(result.effectivePolicy), replay, journalSeq };
      }),
      upsertSku: gate.unary<pb.UpsertSkuRequest, pb.UpsertSkuResponse>('UpsertSku', async (request) => {
        const { result, replay, journalSeq } = await run<L.SkuResult>(request.context, () => toCommand.upsertSku(request));
        return { sku: fromResult.sku(result.sku), replay, journalSeq };
      }),
      receiveStock: stockHandler(gate, 'ReceiveStock', toCommand.receiveStock),
      adjustStock: stockHandler(gate, 'AdjustStock', toCommand.adjustStock),
      transferStock: stockHandler(gate, 'TransferStock', toCommand.transferStock),
      countStock: gate.unary<pb.CountStockRequest, pb.CountStockResponse>('CountStock', async (request) => {
        const { command, result, replay, journalSeq } = await run<L.StockResult>(request.context, () => toCommand.countStock(request));
        // A cycle count is where counted meets recorded stock: the inventory accuracy KPI. A replay
        // answers with a count already recorded.
        if (!replay) gate.metrics.recordCount((command as L.CountStock).bucket, result.varianceQuantity ?? 0);
        return { position: fromResult.position(result.position), varianceQuantity: result.varianceQuantity ?? 0, replay, journalSeq };
      }),
    },
  };
}

function stockHandler<Req extends { context?: pb.RequestContext | undefined }>(gate: CallGate, name: string, translate: (request: Req) => L.Command) {
  return gate.unary<Req, pb.ReceiveStockResponse>(name, async (request) => {
    const { result, replay, journalSeq } = await gate.submit(request.context, () => translate(request));
    return { position: { ...(result as L.StockResult).position }, replay, journalSeq };
  });
}

