/** Read RPCs, answered from read-only LMDB handles without a hop to the shard writer. */
import { limits } from '../ledger/index.js';
import type { LedgerReader } from '../ledger/index.js';
import { RequestError } from './errors.js';
import type * as pb from './proto.js';
import type { CallGate } from './server.js';
import { fromResult } from './translate.js';

const stockKeysMax = 500;

function requireId(value: string, field: string): string {
  if (value === '') throw new RequestError('INVALID_ARGUMENT', `${field} is required`, field);
  if (value.length > limits.idLengthMax) throw new RequestError('STRING_TOO_LONG', `${field} is longer than ${limits.idLengthMax}`, field);
  return value;
}

function notFound(code: string, message: string, field: string): never {
  throw new RequestError(code, message, field);
}

function unknownStoreOrSku(shard: LedgerReader, storeId: string, sku: string): never {
  if (shard.getStore(storeId) === undefined) notFound('STORE_NOT_FOUND', `store ${storeId} is not registered`, 'storeId');
  return notFound('SKU_NOT_FOUND', `sku ${sku} is not registered`, 'sku');
}

export function readHandlers(gate: CallGate) {
  const reader = (storeId: string) => gate.sink.reader(storeId);
  // The SKU catalog is replicated on every shard; any reader answers.
  const anyReader = () => gate.sink.readers()[0] ?? notFound('INTERNAL', 'no shard is open', 'sku');
  return {
    returns: {
      getReturn: gate.unary<pb.GetReturnRequest, pb.GetReturnResponse>('GetReturn', (request) => {
        const record = reader(requireId(request.storeId, 'storeId')).getReturn(request.storeId, requireId(request.returnId, 'returnId'));
        if (record === undefined) notFound('RETURN_NOT_FOUND', `return ${request.returnId} not found in store ${request.storeId}`, 'returnId');
        return Promise.resolve({ returnRecord: fromResult.returnRecord(record) });
      }),
    },
    sales: {
      getReceipt: gate.unary<pb.GetReceiptRequest, pb.GetReceiptResponse>('GetReceipt', (request) => {
        const receipt = reader(requireId(request.storeId, 'storeId')).getReceipt(request.storeId, requireId(request.receiptId, 'receiptId'));
        if (receipt === undefined) notFound('RECEIPT_NOT_FOUND', `receipt ${request.receiptId} not found in store ${request.storeId}`, 'receiptId');
        return Promise.resolve({ receipt: fromResult.receipt(receipt) });
      }),
    },
    inventory: {
      getStock: gate.unary<pb.GetStockRequest, pb.GetStockResponse>('GetStock', (request) => {
        const position = reader(requireId(request.storeId, 'storeId')).getPosition(request.storeId, requireId(request.sku, 'sku'));
        if (position === undefined) unknownStoreOrSku(reader(request.storeId), request.storeId, request.sku);
        return Promise.resolve({ position: fromResult.position(position) });
      }),
      batchGetStock: gate.unary<pb.BatchGetStockRequest, pb.BatchGetStockResponse>('BatchGetStock', (request) => {
        if (request.keys.length === 0) throw new RequestError('INVALID_ARGUMENT', 'keys must not be empty', 'keys');
        if (request.keys.length > stockKeysMax) throw new RequestError('BATCH_TOO_LARGE', `at most ${stockKeysMax} keys per call`, 'keys');
        const lookups = request.keys.map((key, index) => {
          const position = reader(requireId(key.storeId, `keys[${index}].storeId`)).getPosition(key.storeId, requireId(key.sku, `keys[${index}].sku`));
          return position === undefined ? { key, found: false } : { key, found: true, position: fromResult.position(position) };
        });
        return Promise.resolve({ lookups });
      }),
    },
    admin: {
      getStore: gate.unary<pb.GetStoreRequest, pb.GetStoreResponse>('GetStore', (request) => {
        const store = reader(requireId(request.storeId, 'storeId')).getStore(request.storeId);
        if (store === undefined) notFound('STORE_NOT_FOUND', `store ${request.storeId} is not registered`, 'storeId');
        return Promise.resolve({ store: fromResult.store(store), effectivePolicy: fromResult.policy(reader(request.storeId).effectivePolicyOf(store)) });
      }),
      getSku: gate.unary<pb.GetSkuRequest, pb.GetSkuResponse>('GetSku', (request) => {
        const sku = anyReader().getSku(requireId(request.sku, 'sku'));
        if (sku === undefined) notFound('SKU_NOT_FOUND', `sku ${request.sku} is not registered`, 'sku');
        return Promise.resolve({ sku: fromResult.sku(sku) });
      }),
    },
  };
}
