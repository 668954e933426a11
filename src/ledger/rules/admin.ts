/** Registry commands: stores with their policy, SKUs with their catalog attributes. */
import { fail } from '../errors.js';
import { effectivePolicy } from '../state.js';
import type { Store, UpsertSku, UpsertStore } from '../types.js';
import type { RuleContext, RuleOutput } from './context.js';

export function upsertStore(ctx: RuleContext, command: UpsertStore): RuleOutput {
  const existing = ctx.tx.get<Store>('stores', command.storeId);
  // Money is stored in the store's minor units; changing its currency would reinterpret them.
  if (existing !== undefined && existing.currency !== command.currency) {
    fail('CURRENCY_MISMATCH', `store ${command.storeId} trades in ${existing.currency}; its currency cannot change`, 'currency');
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
