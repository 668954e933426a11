// Boots a TypeScript worker entry under tsx (tests and development). Worker threads on Node 20
// do not inherit the parent's --import loader hooks, so the hooks are registered here first.
// Built code (dist/) starts its .js worker entries directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
