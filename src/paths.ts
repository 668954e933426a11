/** Locations inside the installed package (works from src/ under tsx and from dist/src/ when built). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'proto'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the tillgate package root (package.json beside proto/)');
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot();
export const protoRoot = join(packageRoot, 'proto');
