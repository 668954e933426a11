/**
 * The data directory: a manifest (tillgate.json) that records the shard count chosen at creation,
 * and one LMDB environment per shard in shard-NN/. Reopening with another count is refused,
 * because stores would silently move to shards that do not hold their data.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const manifestName = 'tillgate.json';
/** The on-disk format this build reads and writes; a directory recording another is refused. */
export const formatVersion = 1;
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
  if (typeof manifest.formatVersion === 'number' && manifest.formatVersion !== formatVersion) {
    throw new LayoutError(`${join(dataDir, manifestName)} holds data format ${manifest.formatVersion}; this tillgate reads format ${formatVersion} only: run the version that wrote it, or start on a new data directory`);
  }
  if (typeof manifest.formatVersion !== 'number' || !Number.isInteger(manifest.shardCount) || manifest.shardCount < 1) {
    throw new LayoutError(`${join(dataDir, manifestName)} is not a tillgate ${formatVersion} manifest`);
  }
  return manifest;
}

/** Writes the manifest atomically (temp file, fsync, rename, fsync of the directory). */
function writeManifest(dataDir: string, manifest: Manifest): void {
  const temp = join(dataDir, `${manifestName}.tmp`);
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, join(dataDir, manifestName));
  const dirFd = openSync(dataDir, 'r');
  fsyncSync(dirFd);
  closeSync(dirFd);
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
    return existing;
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
/** Data directories this process holds, so a second open in the same process is refused too. */
const heldHere = new Set<string>();

/**
 * Takes the data directory for this process: one node per directory. LMDB would let a second
 * process write the same shards, but each shard's writer keeps the journal head, caches and the
 * single-writer rule in memory, so a second writer would fork the journal. The lock is a file
 * made with O_EXCL holding the owner's pid; a file whose pid is gone (a killed node) is stale and
 * taken over. Returns the release, which removes the file if this process still owns it.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, lockName);
  const key = path;
  if (heldHere.has(key)) throw new LayoutError(`data directory ${dataDir} is already open in this process`);
  for (let attempt = 0; ; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = lockHolder(path);
      if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
        throw new LayoutError(`data directory ${dataDir} is in use by process ${holder} (${path}); stop that node first, or remove the file if no tillgate runs there`);
      }
      // Stale: its process is gone (or was an earlier life of this pid, which holds nothing here).
      unlinkSync(path);
    }
  }
  heldHere.add(key);
  return () => {
    if (!heldHere.delete(key)) return;
    try {
      if (lockHolder(path) === process.pid) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

function lockHolder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
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
