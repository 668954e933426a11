import type { Delta } from '../journal.js';
import type { Overlay } from '../storage.js';
import type { CommandResult, Policy } from '../types.js';

/** What a rule sees: the overlay to read and write, the ledger's clock, the default policy. */
export interface RuleContext {
  tx: Overlay;
  nowMs: number;
  defaultPolicy: Policy;
}

/** What a rule returns: its result, and what the journal records of it. */
export interface RuleOutput {
  result: CommandResult;
  storeId: string;
  deltas: Delta[];
  ref: Record<string, string>;
  decision?: string;
  event?: string;
}
