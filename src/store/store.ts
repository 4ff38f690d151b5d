/**
 * @module store/store — the one interface every part reads the cluster through (design §1).
 *
 * Semantics follow the Kubernetes API so the `kube` backend is a thin mapping and the others behave the same:
 * - `list` returns the items and a collection resourceVersion; `watch` from that version delivers every later
 *   change exactly once, in order. A version the backend no longer has ends the watch with ExpiredError: the
 *   caller relists (the Informer does this and synthesizes the events the gap hid).
 * - Writes use optimistic concurrency: an `update`/`delete` whose metadata.resourceVersion is set and stale
 *   fails with ConflictError; `retryUpdate` wraps a safe read-modify-write.
 * - Leases have a TTL and one holder; they back pod CIDR leases and the controller's leader election.
 * resourceVersions are opaque strings: compare them for equality only.
 */
import type { KindMap, KindName } from './types.ts';
import { ConflictError, NotFoundError } from './storeErrors.ts';
import type { BatchOp, BatchResult } from './storeBatch.ts';

export type { BatchOp, BatchResult } from './storeBatch.ts';

/** Any object of a kind podnet knows. */
export type AnyKube = KindMap[KindName];

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<K extends KindName = KindName> {
  type: EventType;
  object: KindMap[K];
}

export interface ListOptions {
  /** Only this namespace; all namespaces when omitted. */
  namespace?: string;
}

export interface ListResult<K extends KindName> {
  items: Array<KindMap[K]>;
  resourceVersion: string;
}

export interface WatchOptions extends ListOptions {
  /** The collection version returned by `list` (or the last event/bookmark seen). */
  resourceVersion: string;
}

export interface WatchHandler<K extends KindName> {
  event(e: WatchEvent<K>): void;
  /** The watch has ended and delivers nothing more; ExpiredError means "relist". Not called after stop(). */
  error(err: Error): void;
  /** The collection is known to be at this version (kube BOOKMARK, etcd progress). */
  bookmark?(resourceVersion: string): void;
}

export interface WatchHandle {
  stop(): void;
}

export interface LeaseRecord {
  name: string;
  holder: string;
  ttlSeconds: number;
  /** ISO time of the last acquire or renew. */
  renewTime: string;
}

export interface HeldLease {
  readonly name: string;
  readonly holder: string;
  readonly ttlSeconds: number;
  /** Extend the TTL; LeaseLostError when it expired or someone else holds it now. */
  renew(): Promise<void>;
  /** Give it up now (best effort; an expired lease is gone anyway). */
  release(): Promise<void>;
}

export type BackendName = 'memory' | 'file' | 'etcd' | 'kube';

export interface Store {
  readonly backend: BackendName;
  list<K extends KindName>(kind: K, opts?: ListOptions): Promise<ListResult<K>>;
  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle;
  /** undefined when absent. `namespace` is ignored for cluster-scoped kinds. */
  get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K] | undefined>;
  /** AlreadyExistsError if the object exists. Returns the stored object with its new resourceVersion. */
  create<T extends AnyKube>(obj: T): Promise<T>;
  /** NotFoundError if absent; ConflictError if metadata.resourceVersion is set and stale. */
  update<T extends AnyKube>(obj: T): Promise<T>;
  /** NotFoundError if absent; ConflictError if `resourceVersion` is given and stale. */
  delete(kind: KindName, name: string, namespace?: string, opts?: { resourceVersion?: string }): Promise<void>;
  /**
   * Many creates/updates/applies/deletes at once, one result per op in op order (storeBatch.ts). Not a
   * transaction across ops: each op is checked and compare-and-swapped on its own, and after a crash every op
   * is either whole or absent. Backends split long batches (file: ≤ MAX_BATCH per lock hold; etcd: ≤ 128 ops
   * per transaction).
   */
  writeBatch(ops: readonly BatchOp[]): Promise<BatchResult[]>;
  /** Take the lease if it is free, expired, or already ours (a restart); undefined if someone else holds it. */
  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined>;
  /** The current holder of a lease, undefined when free or expired. */
  getLease(name: string): Promise<LeaseRecord | undefined>;
  close(): Promise<void>;
}

/** The most ops a caller should hand one writeBatch call (podnetctl apply's batch size). */
export const MAX_BATCH = 500;

/** Namespace that holds podnet's own Lease objects on every backend. */
export const LEASE_NAMESPACE = 'podnet-system';

/**
 * Read-modify-write with retry on conflict. `mutate` gets the current object (undefined when absent) and returns
 * the desired object, or undefined for "no change". Safe only when `mutate` is a pure function of its input:
 * it runs again on every conflict.
 */
export async function retryUpdate<K extends KindName>(
  store: Store, kind: K, name: string, namespace: string | undefined,
  mutate: (current: KindMap[K] | undefined) => KindMap[K] | undefined, attempts = 8,
): Promise<KindMap[K] | undefined> {
  for (let i = 0; ; i++) {
    const current = await store.get(kind, name, namespace);
    const desired = mutate(current === undefined ? undefined : structuredClone(current));
    if (desired === undefined) return current;
    try {
      if (current === undefined) return await store.create(desired);
      desired.metadata.resourceVersion = current.metadata.resourceVersion;
      return await store.update(desired);
    } catch (err) {
      const retriable = err instanceof ConflictError || err instanceof NotFoundError
        || (err as { reason?: string }).reason === 'AlreadyExists';
      if (!retriable || i + 1 >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** i) * Math.random()));
    }
  }
}

/** Keep renewing a held lease every `everyMs`; `onLost` runs once if a renewal fails for good. Returns stop(). */
export function keepLease(lease: HeldLease, everyMs: number, onLost: (err: Error) => void): () => void {
  let stopped = false;
  const timer = setInterval(() => {
    lease.renew().catch((err: Error) => {
      if (stopped || (err as { reason?: string }).reason !== 'LeaseLost') return; // transient: next tick retries
      stopped = true;
      clearInterval(timer);
      onLost(err);
    });
  }, everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
