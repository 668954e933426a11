/**
 * The line protocol between bench/run.ts and its load-generator children (bench/load.ts): one JSON
 * object per line on the child's stdin (commands) and stdout (replies). Logs go to stderr only, so
 * stdout stays machine-readable.
 */
import type { SimulationSummary } from '../../src/simulate/index.js';

/** The two workloads: the `simulate` mix, and returns only (AuthorizeReturn then CompleteReturn). */
export type Workload = 'mix' | 'returns';

export interface Fixture {
  stores: number;
  skus: number;
}

export type LoadCommand =
  /** Creates stores, SKUs and stock (once per server, by one generator). */
  | { op: 'setup'; fixture: Fixture }
  /** Runs a little of each workload and answers with one real response per RPC (for the echo server). */
  | { op: 'capture'; fixture: Fixture; durationMs: number }
  /** Builds the workload and does its unmeasured preparation (e.g. seeding receipts). */
  | { op: 'prepare'; workload: Workload; fixture: Fixture; terminals: number; receiptsPerTerminal: number }
  /** Runs the prepared workload: closed loop, or open loop at ratePerSecond. */
  | { op: 'run'; durationMs: number; ratePerSecond?: number; inflightMax: number }
  | { op: 'exit' };

export type LoadReply =
  | { type: 'done'; op: 'setup' }
  | { type: 'ready' }
  | { type: 'captured'; responses: Record<string, CannedResponse> }
  | { type: 'summary'; summary: SimulationSummary }
  | { type: 'error'; message: string };

/** One captured response: the method's SDK name, its encoded bytes, and the spread of sizes seen. */
export interface CannedResponse {
  base64: string;
  bytes: number;
  samples: number;
  bytesMin: number;
  bytesMax: number;
}
