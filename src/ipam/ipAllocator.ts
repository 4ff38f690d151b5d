/**
 * @module ipam/ipAllocator — host-local's allocation rules over a LeaseStore: one address per range set,
 * round robin from the recorded cursor, requested addresses honoured, the gateway never handed out, a second
 * allocation for the same (container, ifname) refused. Callers hold the store's lock.
 */
import { CniCode, CniError } from '../cni/cniError.ts';
import { formatIp, ipEquals, type IpAddress } from '../common/ipAddress.ts';
import type { LeaseOwner, LeaseStore } from './leaseStore.ts';
import { candidates, describeRangeSet, rangeFor, type IpRange, type RangeSet } from './rangeSet.ts';

export interface Allocation {
  readonly ip: IpAddress;
  readonly range: IpRange;
  readonly rangeSetIndex: number;
}

async function allocateRequested(store: LeaseStore, set: RangeSet, index: number, owner: LeaseOwner,
  ip: IpAddress): Promise<Allocation> {
  const range = rangeFor(set, ip)!;
  if (ipEquals(range.gateway, ip)) {
    throw new CniError(CniCode.addressConflict, `requested IP ${formatIp(ip)} is the gateway of its range`);
  }
  if (!(await store.reserve(owner, ip, index))) {
    throw new CniError(CniCode.addressConflict,
      `requested IP address ${formatIp(ip)} is not available in range set ${describeRangeSet(set)}`);
  }
  return { ip, range, rangeSetIndex: index };
}

/** One address from range set `index`; `requested` must lie inside the set (see allocateAll). */
export async function allocateFromSet(store: LeaseStore, set: RangeSet, index: number, owner: LeaseOwner,
  requested?: IpAddress): Promise<Allocation> {
  if (requested) return allocateRequested(store, set, index, owner, requested);
  const held = (await store.list()).find((l) => l.containerId === owner.containerId && l.ifname === owner.ifname
    && rangeFor(set, l.ip));
  if (held) {
    throw new CniError(CniCode.addressConflict,
      `${formatIp(held.ip)} has been allocated to ${owner.containerId}, duplicate allocation is not allowed`);
  }
  for (const c of candidates(set, await store.lastReservedIp(index))) {
    if (await store.reserve(owner, c.ip, index)) return { ip: c.ip, range: c.range, rangeSetIndex: index };
  }
  throw new CniError(CniCode.tryAgainLater,
    `failed to allocate for range ${index}: no IP addresses available in range set: ${describeRangeSet(set)}`);
}

/**
 * One address per range set, all or nothing: when a later set fails, the leases taken for this owner are released.
 * Each requested address goes to the first set that contains it; one that fits no set is an error.
 */
export async function allocateAll(store: LeaseStore, sets: readonly RangeSet[], owner: LeaseOwner,
  requested: readonly IpAddress[]): Promise<Allocation[]> {
  const pending = [...requested];
  const done: Allocation[] = [];
  try {
    for (const [index, set] of sets.entries()) {
      const at = pending.findIndex((ip) => rangeFor(set, ip));
      const want = at >= 0 ? pending.splice(at, 1)[0] : undefined;
      done.push(await allocateFromSet(store, set, index, owner, want));
    }
    if (pending.length > 0) {
      throw new CniError(CniCode.invalidConfig,
        `failed to allocate all requested IPs: ${pending.map(formatIp).join(', ')} (not inside any range set)`);
    }
    return done;
  } catch (err) {
    for (const a of done) await store.release(a.ip);
    throw err;
  }
}
