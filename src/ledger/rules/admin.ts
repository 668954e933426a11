/** Registry commands: stores with their policy, SKUs with their catalog attributes. */
import { fail } from '../errors.js';
import { effectivePolicy, positionViolation } from '../state.js';
import type { Position, Store, UpsertSku, UpsertStore } from '../types.js';
import type { RuleContext, RuleOutput } from './context.js';

export function upsertStore(ctx: RuleContext, command: UpsertStore): RuleOutput {
  const existing = ctx.tx.get<Store>('stores', command.storeId);
  // Money is stored in the store's minor units; changing its currency would reinterpret them.
  if (existing !== undefined && existing.currency !== command.currency) {
    fail('CURRENCY_MISMATCH', `store ${command.storeId} trades in ${existing.currency}; its currency cannot change`, 'currency');
  }
  const next = effectivePolicy({ ...command, policy: { ...(existing?.policy ?? {}), ...stripUndefined(command.policy ?? {}) } }, ctx.defaultPolicy);
  if (existing !== undefined && effectivePolicy(existing, ctx.defaultPolicy).backorderAllowed && !next.backorderAllowed) {
    refuseIfOversold(ctx, command.storeId);
  }
  const store: Store = {
    storeId: command.storeId,
    name: command.name,
    currency: command.currency,
    policy: { ...(existing?.policy ?? {}), ...stripUndefined(command.policy ?? {}) },
  };
  ctx.tx.put('stores', store.storeId, store);
  return {
    result: { type: 'StoreUpserted', store, effectivePolicy: effectivePolicy(store, ctx.defaultPolicy) },
    storeId: store.storeId,
    deltas: [],
    ref: {},
  };
}

/**
 * Backorder may be turned off only when no position of the store is negative or over-reserved;
 * otherwise the store's stock would break the no-backorder invariant the moment it is stored.
 */
function refuseIfOversold(ctx: RuleContext, storeId: string): void {
  for (const position of ctx.tx.withFirstElement<Position>('positions', storeId)) {
    if (positionViolation(position, false) !== undefined) {
      fail('STOCK_WOULD_GO_NEGATIVE', `store ${storeId} has sku ${position.sku} at sellable ${position.sellable}, reserved ${position.reserved}; receive or count it before turning backorder off`, 'policy.backorderAllowed');
    }
  }
}

export function upsertSku(ctx: RuleContext, command: UpsertSku): RuleOutput {
  const sku = {
    sku: command.sku,
    description: command.description,
    returnable: command.returnable,
    returnWindowDays: command.returnWindowDays,
  };
  ctx.tx.put('skus', sku.sku, sku);
  return { result: { type: 'SkuUpserted', sku }, storeId: '', deltas: [], ref: { sku: sku.sku } };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
