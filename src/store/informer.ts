/**
 * @module store/informer — a local cache of one kind, kept current by list + watch (client-go's informer shape).
 *
 * Consumers read `list()`/`get()`/`byIndex()` and subscribe to add/update/delete. Whenever the watch ends
 * (expired version, compaction, dropped connection) the informer relists and diffs the fresh list against its
 * cache, so consumers get synthesized events for whatever changed in the gap and never a duplicate: an event
 * whose resourceVersion equals the cached one is dropped. `resync` re-delivers every cached object as
 * update(obj, obj) on a timer so level-triggered consumers heal missed work.
 *
 * The cache (and its indexes) change the moment an event arrives; handlers are called from a queue, in order and
 * once per event, in chunks of a few milliseconds with the event loop free between chunks (informerDelivery.ts),
 * so a 20,000-object burst never blocks timers or sockets for long. Like client-go's, the cache may therefore be
 * ahead of the events a handler has seen. `transform` runs once per object as it enters the cache, so a consumer
 * keeps only the fields it reads (memory, issue 14 item 5).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { KindMap, KindName } from './types.ts';
import type { Store, WatchEvent, WatchHandle } from './store.ts';
import { objectKeyOf } from './objectKeys.ts';
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { ExpiredError } from './storeErrors.ts';
import { ChunkedDelivery } from './informerDelivery.ts';
import { InformerIndex, type Indexers } from './informerIndex.ts';

export type InformerEvent<T> =
  | { type: 'add'; obj: T }
  /** `old === obj` (same reference) on a periodic resync. */
  | { type: 'update'; old: T; obj: T }
  | { type: 'delete'; obj: T };

export interface InformerHandler<T> {
  add?(obj: T): void;
  /** `old === obj` (same reference) on a periodic resync. */
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
  /** Every event of one delivery chunk, in order; a handler with `batch` gets no add/update/delete calls. */
  batch?(events: ReadonlyArray<InformerEvent<T>>): void;
}

export interface InformerOptions<T = KindMap[KindName]> {
  namespace?: string;
  /** Re-deliver every cached object as an update this often; 0 = never (default). */
  resyncMs?: number;
  /** Wait before relisting after a failed list or watch (doubles up to 30 s). */
  retryMs?: number;
  logger?: Logger;
  /**
   * Applied once to each object as it enters the cache (list, add, update; also to a deleted object); handlers
   * and readers see only its result. It must keep metadata.name, namespace and resourceVersion.
   */
  transform?(obj: T): T;
  /** Secondary indexes kept with the cache; read with byIndex(). */
  indexers?: Indexers<T>;
}

type Queued<T> = InformerEvent<T> | { type: 'synced' } | { type: 'resyncDone' };

export class Informer<K extends KindName> {
  readonly kind: K;
  #store: Store;
  #opts: InformerOptions<KindMap[K]>;
  #cache = new Map<string, KindMap[K]>();
  #index: InformerIndex<KindMap[K]> | undefined;
  #handlers = new Set<InformerHandler<KindMap[K]>>();
  #queue: ChunkedDelivery<Queued<KindMap[K]>>;
  #synced = false;
  #syncedWaiters: Array<() => void> = [];
  #stopped = true;
  #running = false;
  #resyncQueued = false;
  #watch: WatchHandle | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #log: Logger;

  constructor(store: Store, kind: K, opts: InformerOptions<KindMap[K]> = {}) {
    this.#store = store;
    this.kind = kind;
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'informer', kind });
    if (opts.indexers) this.#index = new InformerIndex(opts.indexers);
    this.#queue = new ChunkedDelivery((q) => this.#deliver(q), (chunk) => this.#deliverBatch(chunk));
  }

  /** Subscribe; returns unsubscribe. Handlers added after sync do not get past adds (read list() instead). */
  on(handler: InformerHandler<KindMap[K]>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  start(): this {
    if (!this.#stopped) return this;
    this.#stopped = false;
    this.#queue.resume();
    if (!this.#running) void this.#run();
    if (this.#opts.resyncMs) {
      this.#resyncTimer = setInterval(() => this.#resync(), this.#opts.resyncMs);
      this.#resyncTimer.unref();
    }
    return this;
  }

  /** Stop watching; events not yet delivered are held (a later start() delivers them before anything new). */
  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
    clearInterval(this.#resyncTimer);
    this.#queue.pause();
    this.#wake?.();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first list has been loaded into the cache and its adds delivered to the handlers. */
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

  /** The cached objects an indexer filed under `value`. */
  byIndex(name: string, value: string): Array<KindMap[K]> {
    return this.#indexOrThrow().byIndex(name, value);
  }

  indexCount(name: string, value: string): number {
    return this.#indexOrThrow().count(name, value);
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Events received but not yet delivered to the handlers. */
  get pending(): number {
    return this.#queue.pending;
  }

  #indexOrThrow(): InformerIndex<KindMap[K]> {
    if (!this.#index) throw new Error(`the ${this.kind} informer has no indexers`);
    return this.#index;
  }

  async #run(): Promise<void> {
    this.#running = true;
    let retry = this.#opts.retryMs ?? 500;
    while (!this.#stopped) {
      try {
        const res = await this.#store.list(this.kind, this.#listOpts());
        if (this.#stopped) break;
        await this.#replace(res.items);
        if (this.#stopped) break;
        if (!this.#synced) this.#queue.push({ type: 'synced' });
        retry = this.#opts.retryMs ?? 500;
        const ended = await this.#watchFrom(res.resourceVersion);
        if (this.#stopped) break;
        if (ended instanceof ExpiredError) {
          this.#log.info({ event: 'relist', err: describeError(ended) }, 'watch expired; relisting');
          continue;
        }
        this.#log.warn({ event: 'watchFailed', err: describeError(ended) }, 'watch failed; relisting');
      } catch (err) {
        this.#log.warn({ event: 'listFailed', err: describeError(err) }, 'list failed; retrying');
      }
      if (this.#stopped) break;
      await this.#sleep(retry);
      retry = Math.min(retry * 2, 30_000);
    }
    this.#running = false;
  }

  #listOpts(): { namespace?: string } {
    return this.#opts.namespace === undefined ? {} : { namespace: this.#opts.namespace };
  }

  #watchFrom(resourceVersion: string): Promise<Error> {
    return new Promise((resolve) => {
      this.#wake = () => resolve(new Error('stopped'));
      this.#watch = this.#store.watch(this.kind, { ...this.#listOpts(), resourceVersion }, {
        event: (e) => this.#apply(e, true),
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

  /** Update the cache now and queue the event; `fresh` objects come from the store and still need transform. */
  #apply(e: WatchEvent<K>, fresh: boolean): void {
    const key = objectKeyOf(this.kind, e.object);
    const old = this.#cache.get(key);
    if (e.type === 'DELETED') {
      if (!old) return;
      this.#cache.delete(key);
      this.#index?.update(key, old, undefined);
      this.#queue.push({ type: 'delete', obj: fresh ? this.#transform(e.object) : e.object });
      return;
    }
    if (old && old.metadata.resourceVersion === e.object.metadata.resourceVersion) return; // duplicate
    const obj = fresh ? this.#transform(e.object) : e.object;
    this.#cache.set(key, obj);
    this.#index?.update(key, old, obj);
    this.#queue.push(old ? { type: 'update', old, obj } : { type: 'add', obj });
  }

  #transform(obj: KindMap[K]): KindMap[K] {
    return this.#opts.transform ? this.#opts.transform(obj) : obj;
  }

  /**
   * Make the cache equal to a fresh list, queueing the difference as events. Yields between slices of the list
   * so a 20,000-item relist does not hold the loop; no watch runs meanwhile, so nothing else touches the cache.
   */
  async #replace(items: Array<KindMap[K]>): Promise<void> {
    const seen = new Set<string>();
    let sliceStart = performance.now();
    for (const o of items) {
      seen.add(objectKeyOf(this.kind, o));
      this.#apply({ type: 'MODIFIED', object: o }, true);
      if (performance.now() - sliceStart > 4) {
        await yieldToLoop();
        if (this.#stopped) return;
        sliceStart = performance.now();
      }
    }
    for (const [key, old] of [...this.#cache]) {
      if (!seen.has(key)) this.#apply({ type: 'DELETED', object: old }, false);
    }
  }

  #resync(): void {
    // A consumer still working through the previous resync gets no second one on top.
    if (!this.#synced || this.#resyncQueued) return;
    this.#resyncQueued = true;
    for (const o of this.#cache.values()) this.#queue.push({ type: 'update', old: o, obj: o });
    this.#queue.push({ type: 'resyncDone' });
  }

  #deliver(q: Queued<KindMap[K]>): void {
    switch (q.type) {
      case 'synced':
        this.#synced = true;
        for (const w of this.#syncedWaiters.splice(0)) w();
        return;
      case 'resyncDone':
        this.#resyncQueued = false;
        return;
      case 'add': return this.#notify((h) => h.add?.(q.obj));
      case 'update': return this.#notify((h) => h.update?.(q.old, q.obj));
      case 'delete': return this.#notify((h) => h.delete?.(q.obj));
    }
  }

  #deliverBatch(chunk: ReadonlyArray<Queued<KindMap[K]>>): void {
    let events: Array<InformerEvent<KindMap[K]>> | undefined;
    for (const h of this.#handlers) {
      if (!h.batch) continue;
      events ??= chunk.filter((q): q is InformerEvent<KindMap[K]> => q.type !== 'synced' && q.type !== 'resyncDone');
      if (events.length === 0) return;
      this.#guard(() => h.batch!(events!));
    }
  }

  #notify(call: (h: InformerHandler<KindMap[K]>) => void): void {
    for (const h of this.#handlers) if (!h.batch) this.#guard(() => call(h));
  }

  #guard(call: () => void): void {
    try {
      call();
    } catch (err) {
      // A consumer's bug must not stop the cache from tracking the store.
      this.#log.error({ event: 'handlerFailed', err: describeError(err) }, 'informer handler threw');
    }
  }
}
