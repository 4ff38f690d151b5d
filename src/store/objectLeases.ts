/**
 * @module store/objectLeases — leases as coordination.k8s.io/v1 Lease objects, for backends without native
 * leases (memory, file, kube). Acquire and renew are compare-and-swap writes on the Lease's resourceVersion, so
 * two contenders never both win; expiry is `renewTime + leaseDurationSeconds` on the wall clock, as Kubernetes
 * leader election does (etcd uses its own server-side leases instead).
 */
import type { HeldLease, LeaseRecord, Store } from './store.ts';
import { LEASE_NAMESPACE } from './store.ts';
import type { KindMap } from './types.ts';
import { AlreadyExistsError, ConflictError, LeaseLostError, NotFoundError } from './storeErrors.ts';

type Lease = KindMap['Lease'];
type Crud = Pick<Store, 'get' | 'create' | 'update' | 'delete'>;

export function leaseRecordOf(l: Lease, now = Date.now()): LeaseRecord | undefined {
  const holder = l.spec?.holderIdentity;
  const ttl = l.spec?.leaseDurationSeconds ?? 0;
  const renew = Date.parse(l.spec?.renewTime ?? '');
  if (!holder || Number.isNaN(renew) || renew + ttl * 1000 <= now) return undefined;
  return { name: l.metadata.name, holder, ttlSeconds: ttl, renewTime: l.spec!.renewTime! };
}

function leaseObject(name: string, holder: string, ttlSeconds: number, acquireTime: string): Lease {
  const now = new Date().toISOString();
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: LEASE_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'podnet' } },
    spec: { holderIdentity: holder, leaseDurationSeconds: ttlSeconds, acquireTime, renewTime: now },
  };
}

export async function getObjectLease(store: Crud, name: string): Promise<LeaseRecord | undefined> {
  const l = await store.get('Lease', name, LEASE_NAMESPACE);
  return l ? leaseRecordOf(l) : undefined;
}

export async function acquireObjectLease(store: Crud, name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
  const current = await store.get('Lease', name, LEASE_NAMESPACE);
  const now = new Date().toISOString();
  let stored: Lease;
  try {
    if (!current) {
      stored = await store.create(leaseObject(name, holder, ttlSeconds, now));
    } else {
      const rec = leaseRecordOf(current);
      if (rec && rec.holder !== holder) return undefined;
      const next = leaseObject(name, holder, ttlSeconds, rec ? current.spec?.acquireTime ?? now : now);
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      stored = await store.update(next);
    }
  } catch (err) {
    // Someone else won the race for this lease between our read and our write.
    if (err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError) return undefined;
    throw err;
  }
  return new ObjectLease(store, stored, ttlSeconds);
}

class ObjectLease implements HeldLease {
  readonly name: string;
  readonly holder: string;
  readonly ttlSeconds: number;
  #store: Crud;
  #current: Lease;

  constructor(store: Crud, current: Lease, ttlSeconds: number) {
    this.#store = store;
    this.#current = current;
    this.name = current.metadata.name;
    this.holder = current.spec!.holderIdentity!;
    this.ttlSeconds = ttlSeconds;
  }

  async renew(): Promise<void> {
    const next = leaseObject(this.name, this.holder, this.ttlSeconds, this.#current.spec?.acquireTime ?? new Date().toISOString());
    next.metadata.resourceVersion = this.#current.metadata.resourceVersion;
    if (!leaseRecordOf(this.#current)) throw new LeaseLostError(this.name, 'it expired before it was renewed');
    try {
      this.#current = await this.#store.update(next);
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError) {
        throw new LeaseLostError(this.name, 'another holder took it over');
      }
      throw err;
    }
  }

  async release(): Promise<void> {
    try {
      await this.#store.delete('Lease', this.name, LEASE_NAMESPACE, { resourceVersion: this.#current.metadata.resourceVersion! });
    } catch (err) {
      if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
    }
  }
}
