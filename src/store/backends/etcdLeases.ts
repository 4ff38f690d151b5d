/**
 * @module store/backends/etcdLeases — leases as etcd leases: the Lease object is stored at
 * `/podnet/v1/Lease/podnet-system/<name>` attached to an etcd lease with the TTL, so when a holder dies the key
 * disappears by the server's clock and watchers see a DELETED event. Acquire is one transaction
 * (create-if-absent, or take over our own key after a restart by comparing its mod revision).
 */
import type { Etcd3 } from 'etcd3';
import type { HeldLease, LeaseRecord } from '../store.ts';
import { LEASE_NAMESPACE } from '../store.ts';
import type { KindMap } from '../types.ts';
import { LeaseLostError } from '../storeErrors.ts';
import { keyOf } from './etcdKeys.ts';

type Lease = KindMap['Lease'];

function leaseValue(name: string, holder: string, ttlSeconds: number): string {
  const now = new Date().toISOString();
  const obj: Lease = {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: LEASE_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'podnet' } },
    spec: { holderIdentity: holder, leaseDurationSeconds: ttlSeconds, acquireTime: now, renewTime: now },
  };
  return JSON.stringify(obj);
}

function parseHolder(value: Buffer): { holder?: string; ttl?: number; renewTime?: string } {
  try {
    const o = JSON.parse(value.toString('utf8')) as Lease;
    return { holder: o.spec?.holderIdentity, ttl: o.spec?.leaseDurationSeconds, renewTime: o.spec?.renewTime };
  } catch {
    return {};
  }
}

export async function getEtcdLease(client: Etcd3, name: string): Promise<LeaseRecord | undefined> {
  const res = await client.kv.range({ key: Buffer.from(keyOf('Lease', name, LEASE_NAMESPACE)) });
  const kv = res.kvs[0];
  if (!kv) return undefined;
  const h = parseHolder(kv.value);
  if (!h.holder) return undefined;
  return { name, holder: h.holder, ttlSeconds: h.ttl ?? 0, renewTime: h.renewTime ?? '' };
}

export async function acquireEtcdLease(client: Etcd3, name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
  const key = keyOf('Lease', name, LEASE_NAMESPACE);
  const lease = client.lease(ttlSeconds, { autoKeepAlive: false });
  const id = await lease.grant();
  const value = leaseValue(name, holder, ttlSeconds);
  const created = await client.if(key, 'Create', '==', 0).then(client.put(key).value(value).lease(id)).commit();
  if (created.succeeded) return new EtcdHeldLease(lease, name, holder, ttlSeconds);
  const cur = (await client.kv.range({ key: Buffer.from(key) })).kvs[0];
  if (cur && parseHolder(cur.value).holder === holder) {
    // Our own key from before a restart: move it onto the new etcd lease, unless it changed meanwhile.
    const moved = await client.if(key, 'Mod', '==', cur.mod_revision).then(client.put(key).value(value).lease(id)).commit();
    if (moved.succeeded) return new EtcdHeldLease(lease, name, holder, ttlSeconds);
  }
  await lease.revoke().catch(() => undefined);
  return undefined;
}

class EtcdHeldLease implements HeldLease {
  readonly name: string;
  readonly holder: string;
  readonly ttlSeconds: number;
  #lease: ReturnType<Etcd3['lease']>;

  constructor(lease: ReturnType<Etcd3['lease']>, name: string, holder: string, ttlSeconds: number) {
    this.#lease = lease;
    this.name = name;
    this.holder = holder;
    this.ttlSeconds = ttlSeconds;
    // etcd3's Lease emits 'lost' when a keepalive fails; we report loss from renew() instead.
    lease.on('lost', () => undefined);
  }

  async renew(): Promise<void> {
    let ttl: number;
    try {
      const res = await this.#lease.keepaliveOnce();
      ttl = Number(res.TTL);
    } catch (err) {
      if (/lease not found|revoked|expired/i.test((err as Error).message)) throw new LeaseLostError(this.name, 'the etcd lease expired');
      throw err;
    }
    if (!(ttl > 0)) throw new LeaseLostError(this.name, 'the etcd lease expired');
  }

  async release(): Promise<void> {
    await this.#lease.revoke().catch(() => undefined);
  }
}
