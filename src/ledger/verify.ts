/**
 * verify(): walks the journal from its first entry, checks the hash chain and the sequence, and
 * replays every delta into fresh balances; then compares them with every stored position and
 * receipt, re-checks each record's invariants, and checks that held returns account exactly for
 * the held quantities, held refunds and reservations.
 */
import type { Transaction } from 'lmdb';
import { chainHash, decodeEntry, genesisHash } from './journal.js';
import type { Delta } from './journal.js';
import { positionViolation, receiptViolation } from './state.js';
import type { Environment } from './storage.js';
import type { Policy, Position, Receipt, ReturnRecord, Store } from './types.js';

export interface VerifyReport {
  ok: boolean;
  entries: number;
  positions: number;
  receipts: number;
  heldReturns: number;
  problems: string[];
}

const problemsMax = 100;

interface Expected {
  positions: Map<string, Position>;
  receipts: Map<string, { lines: Map<number, { quantity: number; returned: number; held: number }>; tenders: { amount: number; refunded: number; held: number }[] }>;
}

/** One map key from ids (store, sku / receipt, line or tender number). */
const keyOf = (...parts: readonly (string | number)[]): string => parts.join('\u0000');

function replay(expected: Expected, delta: Delta): string | undefined {
  if (delta.kind === 'position') {
    const key = keyOf(delta.storeId, delta.sku);
    const position = expected.positions.get(key) ?? { storeId: delta.storeId, sku: delta.sku, sellable: 0, damaged: 0, quarantine: 0, reserved: 0 };
    const field = ({ SELLABLE: 'sellable', DAMAGED: 'damaged', QUARANTINE: 'quarantine', RESERVED: 'reserved' } as const)[delta.field];
    position[field] += delta.delta;
    expected.positions.set(key, position);
    return undefined;
  }
  const key = keyOf(delta.storeId, delta.receiptId);
  if (delta.kind === 'receipt') {
    if (expected.receipts.has(key)) return `receipt ${key} created twice`;
    expected.receipts.set(key, {
      lines: new Map(delta.lines.map((line) => [line.lineNo, { quantity: line.quantity, returned: 0, held: 0 }])),
      tenders: delta.tendersMinor.map((amount) => ({ amount, refunded: 0, held: 0 })),
    });
    return undefined;
  }
  const receipt = expected.receipts.get(key);
  if (receipt === undefined) return `delta for receipt ${key} before its creation`;
  if (delta.kind === 'line') {
    const line = receipt.lines.get(delta.lineNo);
    if (line === undefined) return `delta for missing line ${delta.lineNo} of ${key}`;
    line.returned += delta.returned;
    line.held += delta.held;
  } else {
    const tender = receipt.tenders[delta.index];
    if (tender === undefined) return `delta for missing tender ${delta.index} of ${key}`;
    tender.refunded += delta.refundedMinor;
    tender.held += delta.heldMinor;
  }
  return undefined;
}

function replayJournal(env: Environment, transaction: Transaction, expected: Expected, problems: string[]): number {
  let previous = genesisHash;
  let expectedSeq = 1;
  for (const { key, value } of env.journal.getRange({ transaction })) {
    if (key !== expectedSeq) problems.push(`journal sequence gap: expected ${expectedSeq}, found ${key}`);
    const { entry, hash, body } = decodeEntry(value);
    if (!chainHash(previous, body).equals(hash)) problems.push(`journal hash chain broken at seq ${key}`);
    if (entry.seq !== key) problems.push(`journal entry ${key} says seq ${entry.seq}`);
    for (const delta of entry.deltas) {
      const problem = replay(expected, delta);
      if (problem !== undefined) problems.push(`seq ${key}: ${problem}`);
    }
    previous = Buffer.from(hash);
    expectedSeq = key + 1;
  }
  return expectedSeq - 1;
}

function comparePositions(env: Environment, transaction: Transaction, expected: Expected, defaults: Policy, problems: string[]): number {
  let count = 0;
  const seen = new Set<string>();
  for (const { value } of env.dbs.positions.getRange({ transaction })) {
    const stored = value as Position;
    const key = keyOf(stored.storeId, stored.sku);
    seen.add(key);
    count += 1;
    const want = expected.positions.get(key) ?? { sellable: 0, damaged: 0, quarantine: 0, reserved: 0 };
    for (const field of ['sellable', 'damaged', 'quarantine', 'reserved'] as const) {
      if (stored[field] !== want[field]) problems.push(`position ${key} ${field}: stored ${stored[field]}, journal says ${want[field]}`);
    }
    const store = env.dbs.stores.get(stored.storeId, { transaction }) as Store | undefined;
    const violation = positionViolation(stored, store?.policy.backorderAllowed ?? defaults.backorderAllowed);
    if (violation !== undefined) problems.push(`position ${key}: ${violation}`);
  }
  for (const [key, position] of expected.positions) {
    const moved = position.sellable !== 0 || position.damaged !== 0 || position.quarantine !== 0 || position.reserved !== 0;
    if (!seen.has(key) && moved) problems.push(`position ${key} is in the journal but not stored`);
  }
  return count;
}

function compareReceipts(env: Environment, transaction: Transaction, expected: Expected, problems: string[]): number {
  let count = 0;
  for (const { value } of env.dbs.receipts.getRange({ transaction })) {
    const stored = value as Receipt;
    const key = keyOf(stored.storeId, stored.receiptId);
    count += 1;
    const want = expected.receipts.get(key);
    if (want === undefined) {
      problems.push(`receipt ${key} is stored but never journaled`);
      continue;
    }
    for (const line of stored.lines) {
      const w = want.lines.get(line.lineNo);
      if (w === undefined || w.quantity !== line.quantity || w.returned !== line.returnedQuantity || w.held !== line.heldQuantity) {
        problems.push(`receipt ${key} line ${line.lineNo} differs from the journal`);
      }
    }
    stored.tenders.forEach((tender, index) => {
      const w = want.tenders[index];
      if (w === undefined || w.amount !== tender.amountMinor || w.refunded !== tender.refundedMinor || w.held !== tender.heldRefundMinor) {
        problems.push(`receipt ${key} tender ${index} differs from the journal`);
      }
    });
    const violation = receiptViolation(stored);
    if (violation !== undefined) problems.push(`receipt ${key}: ${violation}`);
  }
  if (count !== expected.receipts.size) problems.push(`journal creates ${expected.receipts.size} receipts, ${count} are stored`);
  return count;
}

/** Held returns must account exactly for held line quantities, held tender refunds and reservations, and each must have its expiry entry. */
function compareHolds(env: Environment, transaction: Transaction, problems: string[]): number {
  const heldLines = new Map<string, number>();
  const heldTenders = new Map<string, number>();
  const reserved = new Map<string, number>();
  let count = 0;
  for (const { value } of env.dbs.returns.getRange({ transaction })) {
    const record = value as ReturnRecord;
    if (record.status !== 'HELD') continue;
    count += 1;
    for (const line of record.lines) {
      if (record.receiptId === undefined || line.receiptLineNo === undefined || line.approvedQuantity === 0) continue;
      const key = keyOf(record.storeId, record.receiptId, line.receiptLineNo);
      heldLines.set(key, (heldLines.get(key) ?? 0) + line.approvedQuantity);
    }
    for (const line of record.replacement?.lines ?? []) {
      const key = keyOf(record.storeId, line.sku);
      reserved.set(key, (reserved.get(key) ?? 0) + line.quantity);
    }
    if (record.receiptId !== undefined) {
      for (const refund of record.refunds) {
        if (refund.tenderIndex < 0) continue;
        const key = keyOf(record.storeId, record.receiptId, refund.tenderIndex);
        heldTenders.set(key, (heldTenders.get(key) ?? 0) + refund.amountMinor);
      }
    }
    // A hold without its expiry key would never be released by the sweep.
    if (env.dbs.expiry.get([record.expiresAtMs, record.storeId, record.returnId], { transaction }) === undefined) {
      problems.push(`held return ${keyOf(record.storeId, record.returnId)} has no expiry entry`);
    }
  }
  for (const { value } of env.dbs.receipts.getRange({ transaction })) {
    const receipt = value as Receipt;
    for (const line of receipt.lines) {
      const key = keyOf(receipt.storeId, receipt.receiptId, line.lineNo);
      if ((heldLines.get(key) ?? 0) !== line.heldQuantity) problems.push(`receipt line ${key} holds ${line.heldQuantity}, held returns say ${heldLines.get(key) ?? 0}`);
    }
    receipt.tenders.forEach((tender, index) => {
      const key = keyOf(receipt.storeId, receipt.receiptId, index);
      if ((heldTenders.get(key) ?? 0) !== tender.heldRefundMinor) problems.push(`receipt tender ${key} holds ${tender.heldRefundMinor}, held returns say ${heldTenders.get(key) ?? 0}`);
    });
  }
  for (const { value } of env.dbs.positions.getRange({ transaction })) {
    const position = value as Position;
    const key = keyOf(position.storeId, position.sku);
    if ((reserved.get(key) ?? 0) !== position.reserved) problems.push(`position ${key} reserves ${position.reserved}, held returns say ${reserved.get(key) ?? 0}`);
  }
  return count;
}

export function verifyState(env: Environment, transaction: Transaction, defaults: Policy): VerifyReport {
  const problems: string[] = [];
  const expected: Expected = { positions: new Map(), receipts: new Map() };
  const entries = replayJournal(env, transaction, expected, problems);
  const positions = comparePositions(env, transaction, expected, defaults, problems);
  const receipts = compareReceipts(env, transaction, expected, problems);
  const heldReturns = compareHolds(env, transaction, problems);
  return { ok: problems.length === 0, entries, positions, receipts, heldReturns, problems: problems.slice(0, problemsMax) };
}
