/**
 * Read access to one shard: lookups, journal reads and verify. A reader never blocks the writer
 * (LMDB MVCC), so other threads can open their own read-only reader on the same directory.
 */
import { invariant } from './errors.js';
import { decodeEntry, genesisHash, chainHash } from './journal.js';
import type { JournalEntry, JournalHead } from './journal.js';
import { limits } from './limits.js';
import { positionViolation, receiptViolation } from './state.js';
import type { Environment } from './storage.js';
import type { Policy, Position, Receipt, ReturnRecord, Sku, Store } from './types.js';
import { verifyState } from './verify.js';
import type { VerifyReport } from './verify.js';

export class LedgerReader {
  constructor(
    protected readonly env: Environment,
    protected readonly defaultPolicy: Policy,
  ) {}

  getStore(storeId: string): Store | undefined {
    return this.env.dbs.stores.get(storeId) as Store | undefined;
  }

  /** The store's policy with the ledger default filling what it does not override. */
  effectivePolicyOf(store: Store): Policy {
    return { ...this.defaultPolicy, ...store.policy };
  }

  getSku(sku: string): Sku | undefined {
    return this.env.dbs.skus.get(sku) as Sku | undefined;
  }

  /** The position, or zeros for a registered store and SKU that never moved. */
  getPosition(storeId: string, sku: string): Position | undefined {
    const position = this.env.dbs.positions.get([storeId, sku]) as Position | undefined;
    if (position !== undefined) {
      const store = this.getStore(storeId);
      const backorder = store?.policy.backorderAllowed ?? this.defaultPolicy.backorderAllowed;
      invariant(positionViolation(position, backorder) === undefined, `read-back of position ${storeId}/${sku}`);
      return position;
    }
    if (this.getStore(storeId) === undefined || this.getSku(sku) === undefined) return undefined;
    return { storeId, sku, sellable: 0, damaged: 0, quarantine: 0, reserved: 0 };
  }

  getReceipt(storeId: string, receiptId: string): Receipt | undefined {
    const receipt = this.env.dbs.receipts.get([storeId, receiptId]) as Receipt | undefined;
    if (receipt !== undefined) invariant(receiptViolation(receipt) === undefined, `read-back of receipt ${storeId}/${receiptId}`);
    return receipt;
  }

  getReturn(storeId: string, returnId: string): ReturnRecord | undefined {
    return this.env.dbs.returns.get([storeId, returnId]) as ReturnRecord | undefined;
  }

  /** The last committed journal entry's sequence number and hash. */
  head(): JournalHead {
    for (const { key, value } of this.env.journal.getRange({ reverse: true, limit: 1 })) {
      return { seq: key, hash: Buffer.from(value.subarray(0, 32)) };
    }
    return { seq: 0, hash: genesisHash };
  }

  /** Entries with fromSeq ≤ seq, ascending, at most `limit` (bounded by journalReadEntriesMax). */
  readJournal(fromSeq: number, limit: number = limits.journalReadEntriesMax): JournalEntry[] {
    const count = Math.max(0, Math.min(limit, limits.journalReadEntriesMax));
    const entries: JournalEntry[] = [];
    for (const { value } of this.env.journal.getRange({ start: Math.max(1, fromSeq), limit: count })) {
      entries.push(decodeEntry(value).entry);
    }
    return entries;
  }

  /**
   * Drops this handle's read snapshot, so the next read sees every commit made so far. lmdb-js
   * otherwise keeps one snapshot until its next timer turn; a reader in another thread than the
   * writer must be refreshed before a write is acknowledged, or the caller's next read could miss
   * its own write.
   */
  refresh(): void {
    this.env.root.resetReadTxn();
  }

  async close(): Promise<void> {
    await this.env.root.close();
  }

  /** Checks the hash chain and recomputes every balance from the journal, in one snapshot. */
  verify(): VerifyReport {
    const transaction = this.env.root.useReadTransaction();
    try {
      return verifyState(this.env, transaction, this.defaultPolicy);
    } finally {
      transaction.done();
    }
  }
}

export { chainHash };
