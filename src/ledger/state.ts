/**
 * Reading and writing ledger records through an overlay, with the invariants asserted at the
 * point of write. All stock and receipt balance changes go through applyDeltas, the same deltas
 * that the journal records, so the journal is by construction a complete account of them.
 */
import { broken, fail } from './errors.js';
import { limits } from './limits.js';
import type { Delta, PositionField } from './journal.js';
import type { Overlay } from './storage.js';
import type { Policy, Position, Receipt, ReturnRecord, Sku, Store } from './types.js';

export function requireStore(tx: Overlay, storeId: string): Store {
  const store = tx.get<Store>('stores', storeId);
  if (store === undefined) return fail('STORE_NOT_FOUND', `store ${storeId} is not registered`, 'storeId');
  return store;
}

export function requireSku(tx: Overlay, sku: string, field: string): Sku {
  const record = tx.get<Sku>('skus', sku);
  if (record === undefined) return fail('SKU_NOT_FOUND', `sku ${sku} is not registered`, field);
  return record;
}

export function readPosition(tx: Overlay, storeId: string, sku: string): Position {
  return tx.get<Position>('positions', [storeId, sku]) ?? { storeId, sku, sellable: 0, damaged: 0, quarantine: 0, reserved: 0 };
}

export function readReceipt(tx: Overlay, storeId: string, receiptId: string): Receipt | undefined {
  return tx.get<Receipt>('receipts', [storeId, receiptId]);
}

/** A receipt id is taken once a receipt has it, or a held exchange will give it to its replacement. */
export function receiptIdTaken(tx: Overlay, storeId: string, receiptId: string): boolean {
  return readReceipt(tx, storeId, receiptId) !== undefined || tx.get<string>('reservedReceiptIds', [storeId, receiptId]) !== undefined;
}

export function readReturn(tx: Overlay, storeId: string, returnId: string): ReturnRecord | undefined {
  return tx.get<ReturnRecord>('returns', [storeId, returnId]);
}

const positionKeys: Record<PositionField, keyof Pick<Position, 'sellable' | 'damaged' | 'quarantine' | 'reserved'>> = {
  SELLABLE: 'sellable',
  DAMAGED: 'damaged',
  QUARANTINE: 'quarantine',
  RESERVED: 'reserved',
};

export function positionField(position: Position, field: PositionField): number {
  return position[positionKeys[field]];
}

/** The invariants of a stock position; asserted at write and again at read-back in verify. */
export function positionViolation(position: Position, backorderAllowed: boolean): string | undefined {
  if (position.reserved < 0) return `reserved ${position.reserved} < 0`;
  if (backorderAllowed) return undefined;
  if (position.sellable < 0 || position.damaged < 0 || position.quarantine < 0) return 'on hand < 0 without backorder';
  if (position.reserved > position.sellable) return `reserved ${position.reserved} > sellable ${position.sellable}`;
  return undefined;
}

/** The invariants of a receipt: returned + held ≤ sold per line, refunded + held ≤ paid per tender. */
export function receiptViolation(receipt: Receipt): string | undefined {
  for (const line of receipt.lines) {
    if (line.returnedQuantity < 0 || line.heldQuantity < 0) return `line ${line.lineNo} has a negative count`;
    if (line.returnedQuantity + line.heldQuantity > line.quantity) {
      return `line ${line.lineNo}: returned ${line.returnedQuantity} + held ${line.heldQuantity} > sold ${line.quantity}`;
    }
  }
  for (const [index, tender] of receipt.tenders.entries()) {
    if (tender.refundedMinor < 0 || tender.heldRefundMinor < 0) return `tender ${index} has a negative refund`;
    if (tender.refundedMinor + tender.heldRefundMinor > tender.amountMinor) return `tender ${index} refunds more than was paid`;
  }
  return undefined;
}

export function putPosition(tx: Overlay, position: Position, policy: Policy): void {
  const violation = positionViolation(position, policy.backorderAllowed);
  if (violation !== undefined) broken(`position ${position.storeId}/${position.sku}: ${violation}`);
  tx.put('positions', [position.storeId, position.sku], position);
}

export function putReceipt(tx: Overlay, receipt: Receipt): void {
  const violation = receiptViolation(receipt);
  if (violation !== undefined) broken(`receipt ${receipt.storeId}/${receipt.receiptId}: ${violation}`);
  tx.put('receipts', [receipt.storeId, receipt.receiptId], receipt);
}

/** Applies balance deltas to positions and receipts (the receipt itself is written by its rule). */
export function applyDeltas(tx: Overlay, deltas: readonly Delta[], policy: Policy): void {
  for (const delta of deltas) {
    if (delta.kind === 'position') {
      const position = readPosition(tx, delta.storeId, delta.sku);
      const key = positionKeys[delta.field];
      const before = position[key];
      const after = before + delta.delta;
      // Every way stock moves (sales, returns, exchanges, stock commands) keeps a position within
      // the bound, and a move back toward it is always allowed.
      if (Math.abs(after) > limits.positionAbsMax && Math.abs(after) > Math.abs(before)) {
        fail('QUANTITY_INVALID', `${delta.field} of ${delta.sku} would be ${after}, beyond ±${limits.positionAbsMax}`, 'quantity');
      }
      putPosition(tx, { ...position, [key]: after }, policy);
    } else if (delta.kind === 'line') {
      const receipt = readReceipt(tx, delta.storeId, delta.receiptId);
      if (receipt === undefined) broken(`line delta for missing receipt ${delta.receiptId}`);
      const lines = receipt.lines.map((line) =>
        line.lineNo === delta.lineNo
          ? { ...line, returnedQuantity: line.returnedQuantity + delta.returned, heldQuantity: line.heldQuantity + delta.held }
          : line,
      );
      putReceipt(tx, { ...receipt, lines });
    } else if (delta.kind === 'tender') {
      const receipt = readReceipt(tx, delta.storeId, delta.receiptId);
      if (receipt === undefined) broken(`tender delta for missing receipt ${delta.receiptId}`);
      const tenders = receipt.tenders.map((tender, index) =>
        index === delta.index
          ? { ...tender, refundedMinor: tender.refundedMinor + delta.refundedMinor, heldRefundMinor: tender.heldRefundMinor + delta.heldMinor }
          : tender,
      );
      putReceipt(tx, { ...receipt, tenders });
    }
  }
}

export function effectivePolicy(store: Store, defaults: Policy): Policy {
  return { ...defaults, ...store.policy };
}
