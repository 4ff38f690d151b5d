/**
 * @module ipam/leaseStore — the storage seam of the allocator (host-local's backend.Store, in TypeScript).
 *
 * Implementations: DiskLeaseStore (host-local's on-disk layout) and FakeLeaseStore (memory, for tests).
 * `reserve` must be atomic on its own (exclusive create), so that two allocators that do not share a lock (say
 * host-local and podnet-ipam on one data directory) still never hand out one address twice; the lock only
 * serialises the round-robin cursor and the duplicate check.
 */
import type { IpAddress } from '../common/ipAddress.ts';

/** Who holds a lease: the container id and the interface name (host-local's `id\r\nifname`). */
export interface LeaseOwner {
  readonly containerId: string;
  /** Empty for leases written by old host-local versions, which stored only the id. */
  readonly ifname: string;
}

export interface Lease extends LeaseOwner {
  readonly ip: IpAddress;
}

export interface LeaseStore {
  /** Run `fn` holding the store's exclusive lock. */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Create the lease for `ip` unless it exists; false when the address is taken. Records the round-robin cursor. */
  reserve(owner: LeaseOwner, ip: IpAddress, rangeSetIndex: number): Promise<boolean>;
  /** The cursor of a range set, or null when none was recorded. */
  lastReservedIp(rangeSetIndex: number): Promise<IpAddress | null>;
  /** Every lease held by this network. */
  list(): Promise<Lease[]>;
  /** Remove every lease of (containerId, ifname), and legacy id-only leases of containerId; returns them. */
  releaseByOwner(owner: LeaseOwner): Promise<Lease[]>;
  /** Remove the lease of one address (GC). */
  release(ip: IpAddress): Promise<void>;
}

/** Whether a lease belongs to an owner, honouring legacy id-only leases as host-local does. */
export function leaseMatches(lease: LeaseOwner, owner: LeaseOwner): boolean {
  if (lease.containerId !== owner.containerId) return false;
  return lease.ifname === '' || lease.ifname === owner.ifname;
}
