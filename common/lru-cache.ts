/**
 * A bounded cache that keeps what was used recently (repeated text queries skip the encoder; hot
 * store rows skip decoding). Approximately LRU, in two generations: entries go into the young
 * map; when it is full it becomes the old one and the previous old one is dropped; an old entry
 * that is used again moves back to the young map. Every operation is O(1): a true LRU over one
 * Map deletes its oldest key on each insert, and V8 then walks the deleted slots at the front of
 * the map, which made a full cache of 65k keys slower than no cache at all.
 * Holds at most 2 × capacity entries, and always the last `capacity` used.
 */
export class LruCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.insert(key, aged);
    }
    return aged;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.old.delete(key);
    this.insert(key, value);
  }

  private insert(key: K, value: V): void {
    if (!this.young.has(key) && this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
