/**
 * @module store/informerIndex — secondary indexes over an informer's cache (client-go's Indexers/ByIndex): each
 * index function maps an object to the values it is filed under, and the index is updated in the same step as
 * the cache, so `byIndex` always agrees with `get`/`list`. Lets a consumer find "the pods with label app=web in
 * namespace ns" in O(answer) instead of scanning the cache on every event.
 */

/** index name → object → the values it is filed under (e.g. `ns/app=web`). */
export type Indexers<T> = Record<string, (obj: T) => readonly string[]>;

export class InformerIndex<T> {
  #indexers: Array<[string, (obj: T) => readonly string[]]>;
  #buckets = new Map<string, Map<string, Map<string, T>>>();

  constructor(indexers: Indexers<T>) {
    this.#indexers = Object.entries(indexers);
    for (const [name] of this.#indexers) this.#buckets.set(name, new Map());
  }

  /** Move `key` from what `old` was filed under to what `obj` is filed under (either may be undefined). */
  update(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.#indexers) {
      const buckets = this.#buckets.get(name)!;
      const before = old === undefined ? [] : fn(old);
      const after = obj === undefined ? [] : fn(obj);
      for (const v of before) {
        if (after.includes(v)) continue;
        const b = buckets.get(v);
        b?.delete(key);
        if (b?.size === 0) buckets.delete(v);
      }
      for (const v of after) {
        let b = buckets.get(v);
        if (!b) buckets.set(v, (b = new Map()));
        b.set(key, obj!);
      }
    }
  }

  byIndex(name: string, value: string): T[] {
    return [...this.#bucket(name, value).values()];
  }

  /** How many objects are filed under `value` (to pick the most selective of several lookups). */
  count(name: string, value: string): number {
    return this.#bucket(name, value).size;
  }

  #bucket(name: string, value: string): ReadonlyMap<string, T> {
    const buckets = this.#buckets.get(name);
    if (!buckets) throw new Error(`no index named "${name}"`);
    return buckets.get(value) ?? EMPTY;
  }
}

const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();
