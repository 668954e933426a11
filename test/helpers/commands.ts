/** Builders for envelopes used across integration tests. */
import { randomUUID } from 'node:crypto';
import type { Command, Envelope } from '../../src/ledger/index.js';

export function envelope(command: Command, terminalId = 'T1', idempotencyId: string = randomUUID()): Envelope {
  return { idempotencyId, actor: { terminalId }, command };
}

export function setupCommands(storeIds: readonly string[], skus: readonly string[], stockQuantity: number): Command[] {
  const commands: Command[] = skus.map((sku) => ({ type: 'UpsertSku', sku, description: `item ${sku}`, returnable: true, returnWindowDays: 0 }));
  for (const storeId of storeIds) {
    commands.push({ type: 'UpsertStore', storeId, name: `Store ${storeId}`, currency: 'USD' });
    for (const sku of skus) commands.push({ type: 'ReceiveStock', storeId, sku, bucket: 'SELLABLE', quantity: stockQuantity, reference: 'initial' });
  }
  return commands;
}

export function sale(storeId: string, receiptId: string, sku: string, quantity: number, unitPriceMinor = 1000): Command {
  return {
    type: 'RecordSale', storeId, receiptId, channel: 'STORE', currency: 'USD',
    lines: [{ lineNo: 1, sku, quantity, unitPriceMinor }],
    tenders: [{ tenderType: 'CARD', amountMinor: quantity * unitPriceMinor, cardMasked: '411111******1111' }],
  };
}
