/**
 * Crash test: a child process applies random batches to a ledger and prints each accepted
 * envelope only after its outcome came back; the parent SIGKILLs it at a random moment, reopens
 * the same directory and checks that every acknowledged command is there (re-sending it replays),
 * that verify() finds no partial state and the journal is contiguous, and then starts the next child.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Ledger, limits } from '../../src/ledger/index.js';
import type { Envelope } from '../../src/ledger/index.js';

const roundsMin = Number(process.env.LEDGER_CRASH_ROUNDS ?? 16);
const budgetMs = Number(process.env.LEDGER_CRASH_BUDGET_MS ?? 45_000);
const killDelayMsMin = 20;
const killDelayMsMax = 400;
const firstAckTimeoutMs = 20_000;
const childScript = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Round {
  acked: Envelope[];
  killed: boolean;
  stderr: string;
}

/** Runs one child until a random moment after its first acknowledgement, then SIGKILLs it. */
function runChild(dataDir: string, round: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, dataDir, String(round)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    let killed = false;
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`round ${round}: no acknowledgement within ${firstAckTimeoutMs} ms; stderr: ${stderr}`));
    }, firstAckTimeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (killTimer === undefined && stdout.includes('\n')) {
        clearTimeout(giveUp);
        const delayMs = killDelayMsMin + Math.floor(Math.random() * (killDelayMsMax - killDelayMsMin));
        killTimer = setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, delayMs);
      }
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('close', (code, signal) => {
      clearTimeout(giveUp);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`round ${round}: child ended by itself (code ${String(code)}); stderr: ${stderr}`));
        return;
      }
      // Only whole lines are acknowledgements; a line cut by the kill was never complete.
      const lines = stdout.split('\n');
      lines.pop();
      resolve({ acked: lines.map((line) => JSON.parse(line) as Envelope), killed, stderr });
    });
  });
}

test('SIGKILL at random moments never loses an acknowledged command and never leaves partial state', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tillgate-crash-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const startedMs = Date.now();
  let kills = 0;
  let acks = 0;
  let round = 0;
  let previousHeadSeq = 0;
  // The budget bounds a slow machine; stopping early fails the kill count below rather than passing quietly.
  while (round < roundsMin && Date.now() - startedMs < budgetMs) {
    round += 1;
    const { acked, killed } = await runChild(dataDir, round);
    if (killed) kills += 1;
    acks += acked.length;
    const ledger = Ledger.open({ path: dataDir, mapSizeBytes: 1024 ** 3 });
    try {
      const report = ledger.verify();
      t.deepEqual(report.problems, [], `round ${round}: verify after the kill`);
      const head = ledger.head();
      t.is(report.entries, head.seq, `round ${round}: the journal runs 1..head without gaps`);
      t.true(head.seq >= previousHeadSeq + acked.length, `round ${round}: head ${head.seq} must cover ${acked.length} acknowledged commands`);
      previousHeadSeq = head.seq;
      let missing = 0;
      for (let start = 0; start < acked.length; start += limits.batchCommandsMax) {
        const outcomes = await ledger.execute(acked.slice(start, start + limits.batchCommandsMax));
        missing += outcomes.filter((outcome) => !outcome.ok || !outcome.replay).length;
      }
      t.is(missing, 0, `round ${round}: ${missing} of ${acked.length} acknowledged commands did not replay`);
      t.is(ledger.head().seq, head.seq, `round ${round}: re-sending acknowledged commands wrote nothing`);
    } finally {
      await ledger.close();
    }
  }
  t.log(`rounds ${round}, SIGKILLs ${kills}, acknowledged commands ${acks}, journal entries ${previousHeadSeq}, ${Date.now() - startedMs} ms`);
  t.true(kills >= roundsMin, `only ${kills} kills`);
  t.true(acks > 0);
});
