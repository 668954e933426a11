/** Faults on a shard's files, for tests of writer restarts. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Envelope, Outcome } from '../../src/ledger/index.js';
import { shardPath } from '../../src/workers/index.js';

/** Puts a file where the shard's directory is, so every writer start on it fails; returns the mend. */
export function breakShard(dataDir: string, shard: number): () => void {
  const dir = shardPath(dataDir, shard);
  renameSync(dir, `${dir}.aside`);
  writeFileSync(dir, 'not a directory');
  return () => {
    rmSync(dir);
    renameSync(`${dir}.aside`, dir);
  };
}

/** Submits the same envelope until it is applied (the shard's writer is back), at most `attempts` times. */
export async function submitUntilApplied(sink: { submit(envelope: Envelope): Promise<Outcome> }, envelope: Envelope, attempts: number, waitMs: number): Promise<Outcome | undefined> {
  let outcome: Outcome | undefined;
  for (let attempt = 0; attempt < attempts && outcome?.ok !== true; attempt += 1) {
    outcome = await sink.submit(envelope);
    if (outcome.ok !== true) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  return outcome;
}
