/** Stock movements that are not sales or returns: receipts of goods, adjustments, counts, transfers. */
import { fail } from '../errors.js';
import type { Delta, PositionField } from '../journal.js';
import { applyDeltas, effectivePolicy, positionField, readPosition, requireSku, requireStore } from '../state.js';
import type { AdjustStock, Bucket, CountStock, Policy, Position, ReceiveStock, TransferStock } from '../types.js';
import type { RuleContext, RuleOutput } from './context.js';

function moveStock(ctx: RuleContext, storeId: string, sku: string, deltas: Delta[], varianceQuantity?: number): RuleOutput {
  const policy = effectivePolicy(requireStore(ctx.tx, storeId), ctx.defaultPolicy);
  checkMovement(readPosition(ctx.tx, storeId, sku), deltas, policy);
  applyDeltas(ctx.tx, deltas, policy);
  const position = readPosition(ctx.tx, storeId, sku);
  return {
    result: varianceQuantity === undefined ? { type: 'StockMoved', position } : { type: 'StockMoved', position, varianceQuantity },
    storeId,
    deltas,
    ref: { sku },
  };
}

/** Operating checks before the write-time invariants: a clear error instead of an assertion. */
function checkMovement(position: Position, deltas: readonly Delta[], policy: Policy): void {
  const after = new Map<PositionField, number>();
  for (const delta of deltas) {
    if (delta.kind !== 'position') continue;
    after.set(delta.field, (after.get(delta.field) ?? positionField(position, delta.field)) + delta.delta);
  }
  // The bound on a position's size is applyDeltas' (for every movement); these are the stock commands' own.
  for (const [field, value] of after) {
    if (value < 0 && !policy.backorderAllowed) fail('STOCK_WOULD_GO_NEGATIVE', `${field} would be ${value}`, 'quantity');
  }
  const sellable = after.get('SELLABLE') ?? position.sellable;
  if (!policy.backorderAllowed && sellable < position.reserved) {
    fail('STOCK_RESERVED', `sellable would be ${sellable}, below the ${position.reserved} units reserved for exchanges`, 'quantity');
  }
}

const positionDelta = (storeId: string, sku: string, field: Bucket, delta: number): Delta => ({ kind: 'position', storeId, sku, field, delta });

export function receiveStock(ctx: RuleContext, command: ReceiveStock): RuleOutput {
  requireSku(ctx.tx, command.sku, 'sku');
  return moveStock(ctx, command.storeId, command.sku, [positionDelta(command.storeId, command.sku, command.bucket, command.quantity)]);
}

export function adjustStock(ctx: RuleContext, command: AdjustStock): RuleOutput {
  requireSku(ctx.tx, command.sku, 'sku');
  return moveStock(ctx, command.storeId, command.sku, [positionDelta(command.storeId, command.sku, command.bucket, command.delta)]);
}

export function countStock(ctx: RuleContext, command: CountStock): RuleOutput {
  requireSku(ctx.tx, command.sku, 'sku');
  requireStore(ctx.tx, command.storeId);
  const recorded = positionField(readPosition(ctx.tx, command.storeId, command.sku), command.bucket);
  const variance = command.countedQuantity - recorded;
  const deltas = variance === 0 ? [] : [positionDelta(command.storeId, command.sku, command.bucket, variance)];
  return moveStock(ctx, command.storeId, command.sku, deltas, variance);
}

export function transferStock(ctx: RuleContext, command: TransferStock): RuleOutput {
  requireSku(ctx.tx, command.sku, 'sku');
  return moveStock(ctx, command.storeId, command.sku, [
    positionDelta(command.storeId, command.sku, command.fromBucket, -command.quantity),
    positionDelta(command.storeId, command.sku, command.toBucket, command.quantity),
  ]);
}
