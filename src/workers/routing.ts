/**
 * Store → shard routing. A stable hash (FNV-1a, 32 bit, over the UTF-8 bytes of store_id) so that
 * a store lands on the same shard in every process, on every machine, forever: the shard count is
 * fixed when a data directory is created.
 */
const fnvOffsetBasis = 0x811c9dc5;
const fnvPrime = 0x01000193;
const encoder = new TextEncoder();

export function hashStoreId(storeId: string): number {
  let hash = fnvOffsetBasis;
  for (const byte of encoder.encode(storeId)) {
    hash ^= byte;
    hash = Math.imul(hash, fnvPrime) >>> 0;
  }
  return hash;
}

export function shardOf(storeId: string, shardCount: number): number {
  return hashStoreId(storeId) % shardCount;
}
