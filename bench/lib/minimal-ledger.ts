/**
 * A stand-in for the ledger, for the benchmark's engine-floor targets (bench/echo-server.ts --engine):
 * behind the real pool or inline engine, each batch does only what any ledger must do to accept a
 * command durably, and nothing of tillgate's rules. Per command: look up the client's idempotency
 * id (a repeat is answered as a replay), append a journal entry (the command's msgpack behind a
 * 32-byte hash slot, where the real chain hash goes), and store the idempotency record (a digest
 * of the command and the outcome); the batch is one synchronous durable LMDB transaction in the
 * shard's real environment (the ledger's databases and durability settings). With `commit:
 * 'journal'` it appends the journal entries only (a design that kept its idempotency index out of
 * LMDB, rebuilt from the journal, would still write that much); with `commit: 'none'` it writes
 * nothing and answers at once: the engine's hop alone.
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { LedgerReader, defaultPolicy, ledgerDefaults } from '../../src/ledger/index.js';
import type { BatchLedger, Outcome } from '../../src/ledger/index.js';
import { openEnvironment } from '../../src/ledger/storage.js';
import type { WriterData } from '../../src/workers/shard-worker.js';

export interface MinimalLedgerOptions {
  /** What each command writes in the batch's durable commit (see above). */
  commit: 'durable' | 'journal' | 'none';
}

const packr = new Packr({ useRecords: false });
const hashSlot = Buffer.alloc(32);

export class MinimalLedger extends LedgerReader implements BatchLedger {
  private seq: number;
  private closed = false;
  private commitFailed = false;

  constructor(path: string, private readonly options: MinimalLedgerOptions, mapSizeBytes: number = ledgerDefaults.mapSizeBytes) {
    super(openEnvironment({ path, readOnly: false, mapSizeBytes }), defaultPolicy);
    this.seq = this.head().seq;
  }

  /** As the ledger's: after a failed commit the engine stops (pool) or reopens (inline) the shard. */
  get failed(): boolean {
    return this.commitFailed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  execute(envelopes: readonly unknown[]): Promise<Outcome[]> {
    if (this.closed) return Promise.resolve(envelopes.map((): Outcome => ({ ok: false, error: { code: 'LEDGER_CLOSED', message: 'closed' } })));
    if (this.options.commit === 'none') return Promise.resolve(envelopes.map((): Outcome => ({ ok: true, result: {} as never, replay: false, seq: 0 })));
    const nowMs = Date.now();
    const idempotency = this.options.commit === 'durable';
    let seq = this.seq;
    try {
      const outcomes = this.env.root.transactionSync(() => envelopes.map((raw): Outcome => {
        const envelope = raw as { idempotencyId: string; command: unknown };
        const body = packr.pack(envelope.command);
        let digest: string | undefined;
        if (idempotency) {
          digest = createHash('sha256').update(body).digest('base64url');
          const prior = this.env.dbs.idempotency.get(envelope.idempotencyId) as { digest: string; outcome: Outcome } | undefined;
          if (prior !== undefined) return prior.digest === digest && prior.outcome.ok ? { ...prior.outcome, replay: true } : { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', message: 'reused id' } };
        }
        seq += 1;
        const outcome: Outcome = { ok: true, result: {} as never, replay: false, seq };
        this.env.journal.putSync(seq, Buffer.concat([hashSlot, body]));
        if (digest !== undefined) this.env.dbs.idempotency.putSync(envelope.idempotencyId, { digest, atMs: nowMs, outcome });
        return outcome;
      }));
      this.seq = seq;
      return Promise.resolve(outcomes);
    } catch (error) {
      this.commitFailed = true;
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  expireDue(): Promise<void> {
    return Promise.resolve();
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await super.close();
  }
}

/** The pool's writer threads load this module (WriterData.ledgerModule). */
export function openBatchLedger(data: WriterData): BatchLedger {
  return new MinimalLedger(data.path, data.ledgerModule?.options as MinimalLedgerOptions, data.mapSizeBytes);
}

/** Where a writer thread imports this module from: this very file (built .js, or .ts under tsx). */
export const minimalLedgerModuleUrl = import.meta.url;
