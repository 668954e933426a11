/** The execution engine: one single-writer thread per shard, or the inline ledger, behind CommandSink. */
export { ShardPool, poolDefaults } from './pool.js';
export type { CommandSink, PoolOptions, ShardStats } from './pool.js';
export { InlineSink } from './inline.js';
export { shardOf, hashStoreId } from './routing.js';
export { openLayout, shardPath, LayoutError } from './layout.js';
export type { Manifest } from './layout.js';
