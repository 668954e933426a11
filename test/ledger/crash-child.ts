/**
 * Child process of crash.test.ts: opens the ledger in the directory it is given and applies random
 * batches (1..64 commands: sales, returns against its own sales, completions, some restocking)
 * until it is killed. After each batch's outcomes come back (that is, after the durable commit) it
 * writes one line per accepted envelope to stdout: a line there is an acknowledgement.
 * Usage: node --import tsx crash-child.ts <dataDir> <round>
 */
import { Ledger } from '../../src/ledger/index.js';
import type { Command, Envelope } from '../../src/ledger/index.js';

const batchCommandsMax = 64;
const [dataDir, round] = process.argv.slice(2);
if (dataDir === undefined || round === undefined) throw new Error('usage: crash-child.ts <dataDir> <round>');

const ledger = Ledger.open({ path: dataDir, mapSizeBytes: 1024 ** 3 });
const actor = { terminalId: `T-${round}` };
const setup: Command[] = [
  { type: 'UpsertStore', storeId: 'S1', name: 'Crash St', currency: 'USD', policy: { holdTtlMs: 3600_000 } },
  { type: 'UpsertSku', sku: 'A', description: 'mug', returnable: true, returnWindowDays: 0 },
  { type: 'UpsertSku', sku: 'B', description: 'bowl', returnable: true, returnWindowDays: 0 },
  { type: 'ReceiveStock', storeId: 'S1', sku: 'A', bucket: 'SELLABLE', quantity: 1_000_000, reference: 'opening' },
  { type: 'ReceiveStock', storeId: 'S1', sku: 'B', bucket: 'SELLABLE', quantity: 1_000_000, reference: 'opening' },
];
const setupOutcomes = await ledger.execute(setup.map((command, index) => ({ idempotencyId: `setup-${index}`, actor, command })));
for (const outcome of setupOutcomes) if (!outcome.ok) throw new Error(`setup failed: ${JSON.stringify(outcome)}`);

let counter = 0;
const sold: { receiptId: string; quantity: number; sku: string }[] = [];
const held: string[] = [];
const random = (n: number) => Math.floor(Math.random() * n);

function nextCommand(): Command {
  counter += 1;
  const id = `${round}-${counter}`;
  const roll = Math.random();
  if (held.length > 0 && roll < 0.25) {
    const returnId = held.splice(random(held.length), 1)[0] ?? '';
    return { type: 'CompleteReturn', storeId: 'S1', returnId };
  }
  const receipt = sold[random(sold.length)];
  if (receipt !== undefined && roll < 0.5) {
    return {
      type: 'AuthorizeReturn', storeId: 'S1', returnId: `RET-${id}`, receiptId: receipt.receiptId,
      lines: [{ lineNo: 1, receiptLineNo: 1, sku: receipt.sku, quantity: 1 + random(receipt.quantity), disposition: 'SELLABLE' }],
    };
  }
  if (roll > 0.97) return { type: 'ReceiveStock', storeId: 'S1', sku: 'A', bucket: 'SELLABLE', quantity: 100, reference: `PO-${id}` };
  const quantity = 1 + random(3);
  const unitPriceMinor = 100 + random(5000);
  const sku = Math.random() < 0.5 ? 'A' : 'B';
  return {
    type: 'RecordSale', storeId: 'S1', receiptId: `R-${id}`, channel: 'STORE', currency: 'USD',
    lines: [{ lineNo: 1, sku, quantity, unitPriceMinor }], tenders: [{ tenderType: 'CASH', amountMinor: quantity * unitPriceMinor }],
  };
}

for (;;) {
  const envelopes: Envelope[] = Array.from({ length: 1 + random(batchCommandsMax) }, () => {
    const command = nextCommand();
    return { idempotencyId: `ack-${round}-${counter}`, actor, command };
  });
  const outcomes = await ledger.execute(envelopes);
  const acks: string[] = [];
  outcomes.forEach((outcome, index) => {
    const envelope = envelopes[index];
    if (envelope === undefined || !outcome.ok) return;
    acks.push(JSON.stringify(envelope));
    const { command, result } = { command: envelope.command, result: outcome.result };
    if (command.type === 'RecordSale' && result.type === 'Sale' && result.decision === 'APPROVED') {
      sold.push({ receiptId: command.receiptId, quantity: command.lines[0]?.quantity ?? 1, sku: command.lines[0]?.sku ?? 'A' });
    }
    if (command.type === 'AuthorizeReturn' && result.type === 'ReturnAuthorized' && result.decision !== 'DECLINED') held.push(command.returnId);
  });
  // Writes to a pipe are synchronous on Linux: once this returns, the acks are the parent's.
  if (acks.length > 0) process.stdout.write(`${acks.join('\n')}\n`);
}
