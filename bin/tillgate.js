#!/usr/bin/env node
// The `tillgate` command: runs the built CLI (npm run build, done by `npm start` first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/src/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  console.error('tillgate is not built yet: run `npm run build` (npm start does it for you).');
  process.exit(1);
}
await import(built.href);
