/**
 * @module store/memoryStore — an in-memory Store with the same semantics as the real backends (resource
 * versions, watch history with expiry, conflicts, leases). For unit tests of everything that consumes the store,
 * and the reference the shared behaviour suite is written against.
 */
import type { KindMap, KindName } from './types.ts';
import type { HeldLease, LeaseRecord, ListOptions, ListResult, Store, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from './store.ts';
import { AlreadyExistsError, ConflictError, ExpiredError, NotFoundError } from './storeErrors.ts';
import { keyFor } from './objectKeys.ts';
import { acquireObjectLease, getObjectLease } from './objectLeases.ts';
import { carryOver, checkedCopy, stampNew } from './writeChecks.ts';
import { opTarget, planOp, type BatchOp, type BatchResult } from './storeBatch.ts';

type AnyObject = KindMap[KindName];

interface Watcher {
  kind: KindName;
  namespace: string | undefined;
  handler: WatchHandler<KindName>;
  stopped: boolean;
}

interface HistoryEntry {
  rv: number;
  kind: KindName;
  event: WatchEvent;
}

export interface MemoryStoreOptions {
  /** How many events a watch can resume from; older versions expire (like etcd compaction). */
  historyLimit?: number;
}

export class MemoryStore implements Store {
  readonly backend = 'memory' as const;
  #rv = 0;
  #objects = new Map<KindName, Map<string, AnyObject>>();
  #history: HistoryEntry[] = [];
  #oldestResumable = 0;
  #watchers = new Set<Watcher>();
  #historyLimit: number;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#historyLimit = opts.historyLimit ?? 10_000;
  }

  #bucket(kind: KindName): Map<string, AnyObject> {
    let b = this.#objects.get(kind);
    if (!b) this.#objects.set(kind, (b = new Map()));
    return b;
  }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<K>> {
    const items = [...this.#bucket(kind).values()]
      .filter((o) => opts.namespace === undefined || o.metadata.namespace === opts.namespace)
      .map((o) => structuredClone(o) as KindMap[K]);
    return { items, resourceVersion: String(this.#rv) };
  }

  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle {
    const w: Watcher = { kind, namespace: opts.namespace, handler: handler as unknown as WatchHandler<KindName>, stopped: false };
    const from = Number(opts.resourceVersion);
    if (!Number.isInteger(from) || from < this.#oldestResumable) {
      queueMicrotask(() => { if (!w.stopped) handler.error(new ExpiredError(`resourceVersion ${opts.resourceVersion} is too old`)); });
      return { stop: () => { w.stopped = true; } };
    }
    for (const h of this.#history) if (h.rv > from) this.#deliver(w, h.kind, h.event);
    this.#watchers.add(w);
    return { stop: () => { w.stopped = true; this.#watchers.delete(w); } };
  }

  #deliver(w: Watcher, kind: KindName, event: WatchEvent): void {
    if (w.kind !== kind || (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace)) return;
    const copy: WatchEvent = { type: event.type, object: structuredClone(event.object) };
    queueMicrotask(() => { if (!w.stopped) w.handler.event(copy); });
  }

  #emit(kind: KindName, event: WatchEvent): void {
    this.#history.push({ rv: this.#rv, kind, event });
    if (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit);
      this.#oldestResumable = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.#watchers) this.#deliver(w, kind, event);
  }

  /** Forget the watch history, as an etcd compaction does: watches from older versions get ExpiredError. */
  compact(): void {
    this.#history = [];
    this.#oldestResumable = this.#rv;
  }

  /** End every open watch with an error (as a dropped connection would); informers must relist. */
  breakWatches(err: Error = new ExpiredError('watch broken by the test')): void {
    for (const w of [...this.#watchers]) {
      this.#watchers.delete(w);
      w.stopped = true;
      w.handler.error(err);
    }
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K] | undefined> {
    const o = this.#bucket(kind).get(keyFor(kind, name, namespace));
    return o === undefined ? undefined : structuredClone(o) as KindMap[K];
  }

  async create<T extends AnyObject>(obj: T): Promise<T> {
    const next = checkedCopy(obj);
    const kind = next.kind;
    const key = keyFor(kind, next.metadata.name, next.metadata.namespace);
    if (this.#bucket(kind).has(key)) throw new AlreadyExistsError(kind, next.metadata.name);
    stampNew(next);
    return this.#store(kind, key, next, 'ADDED');
  }

  async update<T extends AnyObject>(obj: T): Promise<T> {
    const next = checkedCopy(obj);
    const kind = next.kind;
    const key = keyFor(kind, next.metadata.name, next.metadata.namespace);
    const prev = this.#bucket(kind).get(key) as T | undefined;
    if (!prev) throw new NotFoundError(kind, next.metadata.name);
    const want = next.metadata.resourceVersion;
    if (want && want !== prev.metadata.resourceVersion) throw new ConflictError(kind, next.metadata.name);
    carryOver(next, prev);
    return this.#store(kind, key, next, 'MODIFIED');
  }

  #store<T extends AnyObject>(kind: KindName, key: string, next: T, type: 'ADDED' | 'MODIFIED'): T {
    this.#rv += 1;
    next.metadata.resourceVersion = String(this.#rv);
    this.#bucket(kind).set(key, next);
    this.#emit(kind, { type, object: next });
    return structuredClone(next);
  }

  async delete(kind: KindName, name: string, namespace?: string, opts: { resourceVersion?: string } = {}): Promise<void> {
    const key = keyFor(kind, name, namespace);
    const prev = this.#bucket(kind).get(key);
    if (!prev) throw new NotFoundError(kind, name);
    if (opts.resourceVersion && opts.resourceVersion !== prev.metadata.resourceVersion) throw new ConflictError(kind, name);
    this.#remove(kind, key);
  }

  #remove(kind: KindName, key: string): void {
    const prev = this.#bucket(kind).get(key)!;
    this.#bucket(kind).delete(key);
    this.#rv += 1;
    const gone = structuredClone(prev);
    gone.metadata.resourceVersion = String(this.#rv);
    this.#emit(kind, { type: 'DELETED', object: gone });
  }

  async writeBatch(ops: readonly BatchOp[]): Promise<BatchResult[]> {
    return ops.map((op) => {
      const t = opTarget(op);
      const key = keyFor(t.kind, t.name, t.namespace);
      const plan = planOp(op, this.#bucket(t.kind).get(key));
      if (plan.action === 'none') return plan.result;
      if (plan.action === 'put') return { status: plan.status, object: this.#store(t.kind, key, plan.object, plan.status === 'created' ? 'ADDED' : 'MODIFIED') };
      this.#remove(t.kind, key);
      return { status: 'deleted' };
    });
  }

  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
    return acquireObjectLease(this, name, holder, ttlSeconds);
  }

  getLease(name: string): Promise<LeaseRecord | undefined> {
    return getObjectLease(this, name);
  }

  async close(): Promise<void> {
    for (const w of this.#watchers) w.stopped = true;
    this.#watchers.clear();
  }
}

