/**
 * A stand-in ledger for the pool's writer (WriterData.ledgerModule) whose batches fail as a whole
 * when asked: execute rejects for a batch holding a command with idempotency id 'fail-batch', and
 * expireDue rejects always, as a fault outside any one command would (an unreadable journal or
 * expiry index). Everything else succeeds without writing.
 */
import { LedgerReader, defaultPolicy } from '../../src/ledger/index.js';
import type { BatchLedger, Outcome } from '../../src/ledger/index.js';
import { openEnvironment } from '../../src/ledger/storage.js';
import type { WriterData } from '../../src/workers/shard-worker.js';

class FaultyLedger extends LedgerReader implements BatchLedger {
  private closed = false;
  readonly failed = false;

  get isClosed(): boolean {
    return this.closed;
  }

  execute(envelopes: readonly unknown[]): Promise<Outcome[]> {
    if (envelopes.some((envelope) => (envelope as { idempotencyId?: string }).idempotencyId === 'fail-batch')) {
      return Promise.reject(new Error('journal entry 7 does not decode'));
    }
    return Promise.resolve(envelopes.map((): Outcome => ({ ok: true, result: {} as never, replay: false, seq: 0 })));
  }

  expireDue(): Promise<void> {
    return Promise.reject(new Error('expiry index unreadable'));
  }

  override async close(): Promise<void> {
    this.closed = true;
    await super.close();
  }
}

export function openBatchLedger(data: WriterData): BatchLedger {
  return new FaultyLedger(openEnvironment({ path: data.path, readOnly: false, mapSizeBytes: 64 * 1024 ** 2 }), defaultPolicy);
}

export const faultyLedgerModuleUrl = import.meta.url;
