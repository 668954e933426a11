/**
 * Every bound the ledger enforces, in one place, with its unit in the name.
 * Exceeding one is a typed rejection (LedgerErrorCode), never a silent truncation.
 */
export const limits = Object.freeze({
  /** Longest identifier accepted (store, sku, receipt, return, terminal, operator, customer token). */
  idLengthMax: 64,
  /** Longest idempotency id (UUIDs are 36; ISO 8583 composite ids are terminal+STAN+time). */
  idempotencyIdLengthMax: 128,
  /** Longest free text (store name, sku description, adjustment reason). */
  textLengthMax: 256,
  /** Lines on one sale, receipt, return or exchange replacement. */
  linesMax: 200,
  /** Tenders on one receipt. */
  tendersMax: 16,
  /** Largest quantity on one line or movement (units, or grams for weighed goods). */
  quantityMax: 1_000_000,
  /** Largest absolute stock position per bucket. */
  positionAbsMax: 1_000_000_000,
  /** Largest money amount in minor units (10^11 minor units = 1 billion major units). */
  amountMinorMax: 100_000_000_000,
  /** Commands in one group-commit batch. */
  batchCommandsMax: 4096,
  /** Longest return window a policy may set. */
  returnWindowDaysMax: 3650,
  /** Longest hold TTL a policy may set (7 days). */
  holdTtlMsMax: 7 * 24 * 3600 * 1000,
  /** Shortest hold TTL a policy may set. */
  holdTtlMsMin: 1000,
  /** Velocity limit: most returns per customer token and period that a policy may set. */
  velocityReturnsMax: 1000,
  /** Holds released per expiry sweep, so one sweep never makes a transaction unbounded. */
  expirySweepHoldsMax: 512,
  /** Idempotency records pruned per batch, so pruning never makes a transaction unbounded. */
  idempotencyPruneRecordsMax: 1024,
  /** Journal entries read per batch to find idempotency records to prune (holds released by expiry have none). */
  idempotencyPruneEntriesMax: 4096,
  /** Journal entries returned by one read. */
  journalReadEntriesMax: 10_000,
});

export type Limits = typeof limits;

/**
 * The refusal (TOO_MANY_LINES) of a list longer than a command may carry, or undefined when it is
 * within the bound: the ledger's, and the gRPC edge's, which refuses the same way before it maps
 * the list.
 */
export function tooManyListed(field: string, count: number, listed: 'lines' | 'tenders'): string | undefined {
  const countMax = listed === 'lines' ? limits.linesMax : limits.tendersMax;
  return count > countMax ? `${field} has ${count} ${listed}, more than ${countMax}` : undefined;
}
