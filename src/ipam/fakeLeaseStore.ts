/**
 * @module ipam/fakeLeaseStore — an in-memory LeaseStore for unit tests of the allocator (host-local's
 * backend/testing/fake_store.go counterpart). The lock is a promise chain, so concurrency tests are meaningful.
 */
import { formatIp, parseIp, type IpAddress } from '../common/ipAddress.ts';
import { leaseMatches, type Lease, type LeaseOwner, type LeaseStore } from './leaseStore.ts';

export class FakeLeaseStore implements LeaseStore {
  readonly leases = new Map<string, LeaseOwner>();
  readonly lastReserved = new Map<number, IpAddress>();
  #tail: Promise<unknown> = Promise.resolve();

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async reserve(owner: LeaseOwner, ip: IpAddress, rangeSetIndex: number): Promise<boolean> {
    const key = formatIp(ip);
    if (this.leases.has(key)) return false;
    this.leases.set(key, { containerId: owner.containerId, ifname: owner.ifname });
    this.lastReserved.set(rangeSetIndex, ip);
    return true;
  }

  async lastReservedIp(rangeSetIndex: number): Promise<IpAddress | null> {
    return this.lastReserved.get(rangeSetIndex) ?? null;
  }

  async list(): Promise<Lease[]> {
    return [...this.leases].map(([ip, owner]) => ({ ...owner, ip: parseIp(ip) }));
  }

  async releaseByOwner(owner: LeaseOwner): Promise<Lease[]> {
    const gone = (await this.list()).filter((l) => leaseMatches(l, owner));
    for (const l of gone) this.leases.delete(formatIp(l.ip));
    return gone;
  }

  async release(ip: IpAddress): Promise<void> {
    this.leases.delete(formatIp(ip));
  }
}
