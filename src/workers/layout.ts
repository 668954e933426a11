/**
 * The data directory: a manifest (tillgate.json) that records the shard count chosen at creation,
 * and one LMDB environment per shard in shard-NN/. Reopening with another count is refused,
 * because stores would silently move to shards that do not hold their data.
 */
import { linkSync, mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { replaceFileSynced, siblingName, writeNewFileSynced } from '../files.js';

export const manifestName = 'tillgate.json';
/**
 * The on-disk format this build writes. 2: idempotency records keyed by store and id (format 1 keyed
 * them by the bare id, and a build of format 1 would miss them: retries would apply twice). A
 * directory of format 1 is upgraded on open (its ledgers read the old keys until they are pruned);
 * any other is refused, and so a build of format 1 refuses a directory once this one has opened it.
 */
export const formatVersion = 2;
/** Formats this build upgrades on open. */
const upgradableFormats: ReadonlySet<number> = new Set([1]);
export const shardCountMax = 256;

export interface Manifest {
  formatVersion: number;
  shardCount: number;
  createdAtMs: number;
}

export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayoutError';
  }
}

export function shardPath(dataDir: string, shard: number): string {
  return join(dataDir, `shard-${String(shard).padStart(2, '0')}`);
}

function readManifest(dataDir: string): Manifest | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, manifestName), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const manifest = JSON.parse(text) as Manifest;
  if (typeof manifest.formatVersion === 'number' && manifest.formatVersion !== formatVersion && !upgradableFormats.has(manifest.formatVersion)) {
    throw new LayoutError(
      `${join(dataDir, manifestName)} holds data format ${manifest.formatVersion}; this tillgate reads format ${formatVersion} ` +
        `(and upgrades ${[...upgradableFormats].join(', ')}) only: run the version that wrote it, or start on a new data directory`,
    );
  }
  if (typeof manifest.formatVersion !== 'number' || !Number.isInteger(manifest.shardCount) || manifest.shardCount < 1) {
    throw new LayoutError(`${join(dataDir, manifestName)} is not a tillgate ${formatVersion} manifest`);
  }
  return manifest;
}

/** Writes the manifest atomically (temp file, fsync, rename, fsync of the directory). */
function writeManifest(dataDir: string, manifest: Manifest): void {
  replaceFileSynced(join(dataDir, manifestName), `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
}

/**
 * Opens (or creates) a data directory. `shardCount` undefined means: use the recorded count, or
 * `defaultShardCount` for a new directory.
 */
export function openLayout(dataDir: string, shardCount: number | undefined, defaultShardCount: number): Manifest {
  mkdirSync(dataDir, { recursive: true });
  const existing = readManifest(dataDir);
  if (existing !== undefined) {
    if (shardCount !== undefined && shardCount !== existing.shardCount) {
      throw new LayoutError(
        `data directory ${dataDir} was created with ${existing.shardCount} shards; it cannot be opened with ${shardCount} ` +
          '(stores are routed by shard count). Omit the shard count or use the recorded one.',
      );
    }
    if (existing.formatVersion === formatVersion) return existing;
    // An upgrade: recorded before any shard opens, so a build that cannot read the new format
    // refuses the directory from now on.
    const upgraded: Manifest = { ...existing, formatVersion };
    writeManifest(dataDir, upgraded);
    return upgraded;
  }
  const count = shardCount ?? defaultShardCount;
  if (!Number.isInteger(count) || count < 1 || count > shardCountMax) {
    throw new LayoutError(`shard count must be an integer from 1 to ${shardCountMax}, got ${count}`);
  }
  const manifest: Manifest = { formatVersion, shardCount: count, createdAtMs: Date.now() };
  for (let shard = 0; shard < count; shard += 1) mkdirSync(shardPath(dataDir, shard), { recursive: true });
  writeManifest(dataDir, manifest);
  return manifest;
}

export const lockName = 'tillgate.lock';
/** Data directories this process holds (by real path), so a second open in the same process is refused too. */
const heldHere = new Set<string>();
/** A lock file with no readable pid younger than this is a node still writing it, not a stale one. */
const unreadableLockGraceMs = 10_000;
/** The holder touches its lock file this often; one untouched for heartbeatStaleMs has no live holder. */
const heartbeatEveryMs = 10_000;
const heartbeatStaleMs = 60_000;

/**
 * Takes the data directory for this process: one node per directory. LMDB would let a second
 * process write the same shards, but each shard's writer keeps the journal head, caches and the
 * single-writer rule in memory, so a second writer would fork the journal.
 *
 * The lock is tillgate.lock holding the owner's pid. It is made whole in a temporary file and then
 * linked into place, so it never exists empty and only one of two racing nodes gets it. A file
 * whose pid is gone (a killed node) is stale: it is renamed aside first, and deleted only if the
 * file moved is the one judged stale, so two nodes taking over at once cannot delete each other's
 * new lock. The lock records the holder's host name, boot and pid namespace with its pid, so a pid
 * is checked only where it means something, and the holder touches the file every 10 s, which is
 * all a node elsewhere can go by (holderIsGone). Returns the release, which removes the file if
 * this process still owns it.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const key = realpathSync(dataDir);
  const path = join(key, lockName);
  if (heldHere.has(key)) throw new LayoutError(`data directory ${dataDir} is already open in this process`);
  for (let attempt = 0; !linkLock(path); attempt += 1) {
    const holder = lockHolder(path);
    const ageMs = lockAgeMs(path);
    const inUse = (who: string) => new LayoutError(`data directory ${dataDir} is in use by ${who} (${path}); stop that node first, or remove the file if no tillgate runs there`);
    if (holder === undefined) {
      if (ageMs < unreadableLockGraceMs) throw inUse('a process that is starting');
    } else if (!holderIsGone(holder, ageMs)) {
      const where = holder.host === undefined ? '' : ` on host ${holder.host}`;
      const unseen = canCheckHere(holder) ? '' : `, seen last ${Math.round(ageMs / 1000)} s ago (a holder that cannot be checked from here is taken over after ${heartbeatStaleMs / 1000} s without a heartbeat)`;
      throw inUse(`process ${holder.pid}${where}${unseen}`);
    }
    // Stale (its process is gone, or was an earlier life of this pid, which holds nothing here).
    if (attempt >= 2) throw inUse('another process taking it over at the same time');
    const aside = siblingName(path, 'stale');
    try {
      renameSync(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (JSON.stringify(lockHolder(aside)) !== JSON.stringify(holder)) {
      // Another node took the directory between the read and the rename: give its lock back.
      try {
        linkSync(aside, path);
      } finally {
        unlinkSync(aside);
      }
      throw inUse('another process that just took it');
    }
    unlinkSync(aside);
  }
  heldHere.add(key);
  // The heartbeat: a holder elsewhere (another container or machine) is judged by it alone.
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // The file went away: the next start will see no lock; nothing to do here.
    }
  }, heartbeatEveryMs);
  heartbeat.unref();
  return () => {
    clearInterval(heartbeat);
    if (!heldHere.delete(key)) return;
    try {
      if (lockHolder(path)?.pid === process.pid) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

/** Creates the lock file with this process as its holder, whole or not at all; false if one exists. */
function linkLock(path: string): boolean {
  const temp = siblingName(path, 'new');
  writeNewFileSynced(temp, `${JSON.stringify(thisHolder())}\n`, 0o600);
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Who holds a lock: its pid, and where that pid means something (host, boot, pid namespace). */
interface LockHolder {
  pid: number;
  host?: string;
  bootId?: string;
  pidNamespace?: string;
}

function readOptional(read: () => string): string | undefined {
  try {
    return read().trim();
  } catch {
    return undefined;
  }
}

let thisProcess: LockHolder | undefined;

/** This process as a lock holder; read once, as none of it changes while the process runs. */
function thisHolder(): LockHolder {
  if (thisProcess !== undefined) return thisProcess;
  const holder: LockHolder = { pid: process.pid, host: hostname() };
  const bootId = readOptional(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const pidNamespace = readOptional(() => readlinkSync('/proc/self/ns/pid'));
  if (bootId !== undefined) holder.bootId = bootId;
  if (pidNamespace !== undefined) holder.pidNamespace = pidNamespace;
  thisProcess = holder;
  return holder;
}

/** The lock's holder; a bare pid is the format of builds before the host and namespace were recorded. */
function lockHolder(path: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) {
    const pid = Number(text);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid } : undefined;
  }
  try {
    const parsed = JSON.parse(text) as LockHolder;
    return Number.isSafeInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a holder's pid can be checked here: same host name, boot and pid namespace (a bare pid, from older builds, is taken to be). */
function canCheckHere(holder: LockHolder): boolean {
  const here = thisHolder();
  const same = (theirs: string | undefined, ours: string | undefined) => theirs === undefined || ours === undefined || theirs === ours;
  return same(holder.host, here.host) && same(holder.bootId, here.bootId) && same(holder.pidNamespace, here.pidNamespace);
}

/**
 * A holder is gone when its pid can be checked here and names no process (or names this one, which
 * holds nothing here: an earlier life of the pid). A holder that cannot be checked from here
 * (another host name, boot or pid namespace: another container or machine sharing the volume, or a
 * container of this one that has since restarted) is gone only when its heartbeat has stopped.
 */
function holderIsGone(holder: LockHolder, ageMs: number): boolean {
  if (!canCheckHere(holder)) return ageMs > heartbeatStaleMs;
  return holder.pid === process.pid || !processAlive(holder.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still holds the directory.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
