/** Worker entry for flags-child.ts: reports the node flags this worker thread runs with. */
import { parentPort } from 'node:worker_threads';

parentPort?.postMessage(process.execArgv);
