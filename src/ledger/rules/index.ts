/** Dispatches a validated command to its rule. */
import type { Command } from '../types.js';
import { upsertSku, upsertStore } from './admin.js';
import type { RuleContext, RuleOutput } from './context.js';
import { authorizeReturn, completeReturn, exchange, voidReturn } from './returns.js';
import { importReceipt, recordSale } from './sale.js';
import { adjustStock, countStock, receiveStock, transferStock } from './stock.js';

export type { RuleContext, RuleOutput } from './context.js';
export { releaseReturn } from './returns.js';

export function runRule(ctx: RuleContext, command: Command): RuleOutput {
  switch (command.type) {
    case 'UpsertStore': return upsertStore(ctx, command);
    case 'UpsertSku': return upsertSku(ctx, command);
    case 'ReceiveStock': return receiveStock(ctx, command);
    case 'AdjustStock': return adjustStock(ctx, command);
    case 'CountStock': return countStock(ctx, command);
    case 'TransferStock': return transferStock(ctx, command);
    case 'RecordSale': return recordSale(ctx, command);
    case 'ImportReceipt': return importReceipt(ctx, command);
    case 'AuthorizeReturn': return authorizeReturn(ctx, command);
    case 'CompleteReturn': return completeReturn(ctx, command);
    case 'VoidReturn': return voidReturn(ctx, command);
    case 'Exchange': return exchange(ctx, command);
  }
}
