/**
 * The ledger-only benchmarks' workload (bench:ledger, bench:ledger-pool): a realistic mix of
 * half sales and half two-phase returns, and the setup it needs (a store, two SKUs, stock).
 */
import type { Command, Envelope, Ledger } from '../../src/ledger/index.js';

const benchSkus = ['A', 'B'] as const;

/**
 * Sale, sale, authorize a return of the first sale, complete it, repeated for one store: half
 * sales, half two-phase returns. Ids are unique per store, so several stores' streams can share a
 * ledger or a pool.
 */
export function workload(count: number, storeId = 'S1'): Envelope[] {
  const envelopes: Envelope[] = [];
  const actor = { terminalId: `BENCH-${storeId}` };
  for (let index = 0; envelopes.length < count; index += 1) {
    const quad = Math.floor(index / 4);
    let command: Command;
    switch (index % 4) {
      case 0:
      case 1: {
        const receiptId = `R-${quad}-${index % 4}`;
        const unitPriceMinor = 199 + (index % 37) * 10;
        command = {
          type: 'RecordSale', storeId, receiptId, channel: 'STORE', currency: 'USD', customerToken: `C-${index % 97}`,
          lines: [{ lineNo: 1, sku: 'A', quantity: 2, unitPriceMinor }, { lineNo: 2, sku: 'B', quantity: 1, unitPriceMinor: 999 }],
          tenders: [{ tenderType: 'CARD', amountMinor: 2 * unitPriceMinor + 999, cardMasked: '411111******1111' }],
        };
        break;
      }
      case 2:
        command = {
          type: 'AuthorizeReturn', storeId, returnId: `RET-${quad}`, receiptId: `R-${quad}-0`,
          lines: [{ lineNo: 1, receiptLineNo: 1, sku: 'A', quantity: 1, disposition: 'SELLABLE' }],
        };
        break;
      default:
        command = { type: 'CompleteReturn', storeId, returnId: `RET-${quad}` };
    }
    envelopes.push({ idempotencyId: `bench-${storeId}-${index}`, actor, command });
  }
  return envelopes;
}

/** What makes `workload` succeed for these stores: the SKUs, then for each store the store and its stock. */
export function setupEnvelopes(storeIds: readonly string[]): Envelope[] {
  const skus = benchSkus.map((sku): Command => ({ type: 'UpsertSku', sku, description: sku.toLowerCase(), returnable: true, returnWindowDays: 0 }));
  const perStore = storeIds.flatMap((storeId): Command[] => [
    { type: 'UpsertStore', storeId, name: `Bench ${storeId}`, currency: 'USD' },
    ...Array.from({ length: 20 }, (_, i): Command => ({ type: 'ReceiveStock', storeId, sku: benchSkus[i % 2] ?? 'A', bucket: 'SELLABLE', quantity: 1_000_000, reference: `PO-${i}` })),
  ]);
  return [...skus, ...perStore].map((command, index) => ({ idempotencyId: `setup-${index}`, actor: {}, command }));
}

/** Runs envelopes through one ledger in batches of `batchSize`, in order; returns how many failed. */
export async function executeInBatches(ledger: Ledger, envelopes: readonly Envelope[], batchSize: number): Promise<number> {
  let failed = 0;
  for (let start = 0; start < envelopes.length; start += batchSize) {
    const outcomes = await ledger.execute(envelopes.slice(start, start + batchSize));
    failed += outcomes.filter((outcome) => !outcome.ok).length;
  }
  return failed;
}

/** The default policy both benchmarks run with: no velocity limit, which a bench would trip. */
export const benchPolicy = { velocityReturnsMax: 0 } as const;
