/**
 * @module store/informer — a local cache of one kind, kept current by list + watch (client-go's informer shape).
 *
 * Consumers read `list()`/`get()` and subscribe to add/update/delete. Whenever the watch ends (expired version,
 * compaction, dropped connection) the informer relists and diffs the fresh list against its cache, so consumers
 * get synthesized events for whatever changed in the gap and never a duplicate: an event whose resourceVersion
 * equals the cached one is dropped. `resync` re-delivers every cached object as update(obj, obj) on a timer so
 * level-triggered consumers heal missed work.
 */
import type { KindMap, KindName } from './types.ts';
import type { Store, WatchEvent, WatchHandle } from './store.ts';
import { objectKeyOf } from './objectKeys.ts';
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { ExpiredError } from './storeErrors.ts';

export interface InformerHandler<T> {
  add?(obj: T): void;
  /** `old === obj` (same reference) on a periodic resync. */
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  /** Re-deliver every cached object as an update this often; 0 = never (default). */
  resyncMs?: number;
  /** Wait before relisting after a failed list or watch (doubles up to 30 s). */
  retryMs?: number;
  logger?: Logger;
}

export class Informer<K extends KindName> {
  readonly kind: K;
  #store: Store;
  #opts: InformerOptions;
  #cache = new Map<string, KindMap[K]>();
  #handlers = new Set<InformerHandler<KindMap[K]>>();
  #synced = false;
  #syncedWaiters: Array<() => void> = [];
  #stopped = true;
  #watch: WatchHandle | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #log: Logger;

  constructor(store: Store, kind: K, opts: InformerOptions = {}) {
    this.#store = store;
    this.kind = kind;
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'informer', kind });
  }

  /** Subscribe; returns unsubscribe. Handlers added after sync do not get past adds (read list() instead). */
  on(handler: InformerHandler<KindMap[K]>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  start(): this {
    if (!this.#stopped) return this;
    this.#stopped = false;
    void this.#run();
    if (this.#opts.resyncMs) {
      this.#resyncTimer = setInterval(() => this.#resync(), this.#opts.resyncMs);
      this.#resyncTimer.unref();
    }
    return this;
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
    clearInterval(this.#resyncTimer);
    this.#wake?.();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first list has been loaded into the cache (and its adds delivered). */
  synced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  list(): Array<KindMap[K]> {
    return [...this.#cache.values()];
  }

  /** By `namespace/name` (or `name` for cluster-scoped kinds). */
  get(key: string): KindMap[K] | undefined {
    return this.#cache.get(key);
  }

  get size(): number {
    return this.#cache.size;
  }

  async #run(): Promise<void> {
    let retry = this.#opts.retryMs ?? 500;
    while (!this.#stopped) {
      try {
        const res = await this.#store.list(this.kind, this.#listOpts());
        if (this.#stopped) return;
        this.#replace(res.items);
        this.#markSynced();
        retry = this.#opts.retryMs ?? 500;
        const ended = await this.#watchFrom(res.resourceVersion);
        if (this.#stopped) return;
        if (ended instanceof ExpiredError) {
          this.#log.info({ event: 'relist', err: describeError(ended) }, 'watch expired; relisting');
          continue;
        }
        this.#log.warn({ event: 'watchFailed', err: describeError(ended) }, 'watch failed; relisting');
      } catch (err) {
        this.#log.warn({ event: 'listFailed', err: describeError(err) }, 'list failed; retrying');
      }
      await this.#sleep(retry);
      retry = Math.min(retry * 2, 30_000);
    }
  }

  #listOpts(): { namespace?: string } {
    return this.#opts.namespace === undefined ? {} : { namespace: this.#opts.namespace };
  }

  #watchFrom(resourceVersion: string): Promise<Error> {
    return new Promise((resolve) => {
      this.#wake = () => resolve(new Error('stopped'));
      this.#watch = this.#store.watch(this.kind, { ...this.#listOpts(), resourceVersion }, {
        event: (e) => this.#apply(e),
        error: (err) => resolve(err),
      });
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => { clearTimeout(t); resolve(); };
    });
  }

  #apply(e: WatchEvent<K>): void {
    const key = objectKeyOf(this.kind, e.object);
    const old = this.#cache.get(key);
    if (e.type === 'DELETED') {
      if (!old) return;
      this.#cache.delete(key);
      this.#notify((h) => h.delete?.(e.object));
      return;
    }
    if (old && old.metadata.resourceVersion === e.object.metadata.resourceVersion) return; // duplicate
    this.#cache.set(key, e.object);
    if (old) this.#notify((h) => h.update?.(old, e.object));
    else this.#notify((h) => h.add?.(e.object));
  }

  /** Make the cache equal to a fresh list, delivering the difference as events. */
  #replace(items: Array<KindMap[K]>): void {
    const seen = new Set<string>();
    for (const o of items) {
      seen.add(objectKeyOf(this.kind, o));
      this.#apply({ type: 'MODIFIED', object: o });
    }
    for (const [key, old] of [...this.#cache]) {
      if (!seen.has(key)) this.#apply({ type: 'DELETED', object: old });
    }
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const w of this.#syncedWaiters.splice(0)) w();
  }

  #resync(): void {
    if (!this.#synced) return;
    for (const o of this.#cache.values()) this.#notify((h) => h.update?.(o, o));
  }

  #notify(call: (h: InformerHandler<KindMap[K]>) => void): void {
    for (const h of this.#handlers) {
      try {
        call(h);
      } catch (err) {
        // A consumer's bug must not stop the cache from tracking the store.
        this.#log.error({ event: 'handlerFailed', err: describeError(err) }, 'informer handler threw');
      }
    }
  }
}
