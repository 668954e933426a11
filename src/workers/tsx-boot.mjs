// Boots a TypeScript worker entry under tsx (tests and development). A worker inherits the
// parent's --import preload, but whether its module hooks cover this thread's own imports has
// varied across Node versions; registering them here makes the .ts entry load either way.
// Built code (dist/) starts its .js worker entries directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
