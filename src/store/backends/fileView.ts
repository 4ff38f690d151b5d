/**
 * @module store/backends/fileView — a file store process's in-memory view of the directory: the objects in effect
 * (indexed by kind, so `list('Lease')` costs the leases, not the cluster), a generation bumped on every change,
 * and a bounded event log keyed by generation so a watch resumes from a list's version or gets ExpiredError.
 * No I/O: fileStore.ts feeds it from scans, the change journal and its own writes.
 */
import type { KindMap, KindName } from '../types.ts';
import type { ListOptions, ListResult, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from '../store.ts';
import { ExpiredError } from '../storeErrors.ts';
import type { AnyObject } from '../validate.ts';

/** `Kind/namespace/name` (namespace '' for cluster-scoped kinds). */
export type FullKey = string;
export const fullKey = (kind: KindName, ns: string, name: string): FullKey => `${kind}/${ns}/${name}`;

interface Watcher { kind: KindName; namespace: string | undefined; handler: WatchHandler<KindName>; stopped: boolean }

export class FileView {
  readonly #instance: string;
  #historyLimit: number;
  #gen = 0;
  #byKind = new Map<KindName, Map<string, AnyObject>>();
  #history: Array<{ gen: number; kind: KindName; event: WatchEvent }> = [];
  #oldestResumable = 0;
  #watchers = new Set<Watcher>();

  constructor(instance: string, historyLimit: number) {
    this.#instance = instance;
    this.#historyLimit = historyLimit;
  }

  get(k: FullKey): AnyObject | undefined {
    const slash = k.indexOf('/');
    return this.#byKind.get(k.slice(0, slash) as KindName)?.get(k.slice(slash + 1));
  }

  /** Every key in the view. */
  *keys(): Iterable<FullKey> {
    for (const [kind, m] of this.#byKind) for (const k of m.keys()) yield `${kind}/${k}`;
  }

  /** Put `obj` (or remove the key) and log the event for watchers, if anything changed. */
  set(k: FullKey, obj: AnyObject | undefined): void {
    const slash = k.indexOf('/');
    const kind = k.slice(0, slash) as KindName;
    const rest = k.slice(slash + 1);
    let m = this.#byKind.get(kind);
    const old = m?.get(rest);
    if (obj && old && obj.metadata.resourceVersion === old.metadata.resourceVersion) return;
    if (!obj && !old) return;
    if (obj) {
      if (!m) this.#byKind.set(kind, (m = new Map()));
      m.set(rest, obj);
    } else m!.delete(rest);
    this.#gen += 1;
    const event: WatchEvent = obj ? { type: old ? 'MODIFIED' : 'ADDED', object: obj } : { type: 'DELETED', object: old! };
    this.#history.push({ gen: this.#gen, kind, event });
    if (this.#history.length > this.#historyLimit * 1.25) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit);
      this.#oldestResumable = dropped[dropped.length - 1]!.gen;
    }
    for (const w of this.#watchers) deliver(w, kind, event);
  }

  /** Forget the watch history (as an etcd compaction does). */
  compact(): void {
    this.#history = [];
    this.#oldestResumable = this.#gen;
  }

  list<K extends KindName>(kind: K, opts: ListOptions): ListResult<K> {
    const items: Array<KindMap[K]> = [];
    // Shared, not copied (copying 100,000 endpoints doubled the initial sync): list and watch results must not
    // be mutated, as with client-go's informer cache. get() returns a private copy for read-modify-write.
    for (const o of this.#byKind.get(kind)?.values() ?? []) {
      if (opts.namespace === undefined || o.metadata.namespace === opts.namespace) items.push(o as KindMap[K]);
    }
    return { items, resourceVersion: `${this.#instance}.${this.#gen}` };
  }

  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle {
    const w: Watcher = { kind, namespace: opts.namespace, handler: handler as unknown as WatchHandler<KindName>, stopped: false };
    const [inst, genText] = opts.resourceVersion.split('.');
    const gen = Number(genText);
    if (inst !== this.#instance || !Number.isInteger(gen) || gen < this.#oldestResumable || gen > this.#gen) {
      queueMicrotask(() => { if (!w.stopped) handler.error(new ExpiredError(`resourceVersion ${opts.resourceVersion} is not in this process's history`)); });
      return { stop: () => { w.stopped = true; } };
    }
    for (const h of this.#history) if (h.gen > gen) deliver(w, h.kind, h.event);
    this.#watchers.add(w);
    return { stop: () => { w.stopped = true; this.#watchers.delete(w); } };
  }

  stopAll(): void {
    for (const w of this.#watchers) w.stopped = true;
    this.#watchers.clear();
  }
}

function deliver(w: Watcher, kind: KindName, event: WatchEvent): void {
  if (w.stopped || w.kind !== kind || (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace)) return;
  queueMicrotask(() => { if (!w.stopped) w.handler.event(event); });
}
