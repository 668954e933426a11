/** Files written whole and durably: the data directory's manifest and lock, the development CA's files. */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates `path` (refused if anything is there), writes `text`, sets exactly `mode` (the umask
 * applies at creation, and a mode applies only when a file is created) and syncs it to disk.
 */
export function writeNewFileSynced(path: string, text: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, text);
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A name beside `path` for a file of this process that nothing else will pick. */
export function siblingName(path: string, tag: string): string {
  return `${path}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Replaces `path` whole: a new file is written and synced beside it, renamed over it, and the
 * directory synced, so a crash leaves the old file or the new one, never a mix or nothing.
 */
export function replaceFileSynced(path: string, text: string, mode: number): void {
  const temp = siblingName(path, 'new');
  writeNewFileSynced(temp, text, mode);
  renameSync(temp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
