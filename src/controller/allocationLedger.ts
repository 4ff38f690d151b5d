/**
 * @module controller/allocationLedger — who holds which clusterIP and nodePort, kept incrementally as Services
 * come, change and go, so allocating for one new Service costs O(its addresses), not a sort and scan of every
 * Service (issue 14 item 2). The rules are serviceAllocator.ts's: explicit values are honoured; the oldest
 * Service (creationTimestamp, then namespace/name) claiming a value owns it and every newer claimant is a clash,
 * reported by name and left unallocated; dynamic values avoid every claim, explicit or pending.
 *
 * A value handed out is a *pending* claim from the moment it is planned until the Service is seen carrying it
 * (or the write that would have set it fails), so two allocations in flight never pick the same address.
 * `observe`/`forget`/`settle` return the Services whose outcome may have changed (other claimants of a value that
 * moved; Services waiting for a full range when something was freed): the caller re-plans only those.
 */
import type { Service } from '../store/types.ts';
import { explicitClusterIPs, isHeadless, resolveServiceFamilies } from './ipFamilyPolicy.ts';
import {
  addressAt, hashOf, offsetIn, pickFree, servicePools, serviceKey, wantsNodePorts,
  type AllocatorConfig, type Pool,
} from './servicePools.ts';
import type { Allocation } from './serviceAllocator.ts';

/** A claimed value: `pool index:offset` for an address, `port:n` for a node port. */
type Slot = string;

interface Holder {
  service: Service;
  created: string;
  explicit: Slot[];
  pending: Slot[];
  /** resourceVersion of the last version observed, and of the write that set the pending values. */
  observedRv?: string;
  writtenRv?: string;
}

export interface LedgerPlan {
  /** Clashes and out-of-range explicit values (these block nothing but the Service itself). */
  claimProblems: string[];
  allocation?: Allocation;
  allocProblems: string[];
}

const ipSlot = (pool: number, off: number): Slot => `${pool}:${off}`;
const portSlot = (port: number): Slot => `port:${port}`;

export class AllocationLedger {
  readonly pools: Pool[];
  #cfg: AllocatorConfig;
  #claimants = new Map<Slot, Set<string>>();
  #holders = new Map<string, Holder>();
  /** Services that found a range full: worth another try when anything is freed. */
  #starved = new Set<string>();

  constructor(cfg: AllocatorConfig) {
    this.#cfg = cfg;
    this.pools = servicePools(cfg);
  }

  /** Record `s` as it is now (its explicit values replace what it held before). */
  observe(s: Service): Set<string> {
    const key = serviceKey(s);
    const h = this.#holders.get(key) ?? { service: s, created: '', explicit: [], pending: [] };
    this.#holders.set(key, h);
    h.service = s;
    h.created = s.metadata.creationTimestamp ?? '';
    h.observedRv = s.metadata.resourceVersion;
    const affected = new Set([key]);
    const next = this.#explicitSlots(s);
    this.#release(key, h.explicit.filter((x) => !next.includes(x)), h.pending, affected);
    for (const x of next) if (!h.explicit.includes(x)) this.#claim(key, x, affected);
    h.explicit = next;
    // Pending values the Service now carries are explicit; once our own write is seen, the rest never will be.
    const settled = h.writtenRv !== undefined && h.writtenRv === h.observedRv;
    this.#dropPending(key, h, (x) => settled || next.includes(x), affected);
    return affected;
  }

  forget(key: string): Set<string> {
    const affected = new Set<string>();
    const h = this.#holders.get(key);
    if (!h) return affected;
    this.#release(key, [...h.explicit, ...h.pending], [], affected);
    this.#holders.delete(key);
    this.#starved.delete(key);
    affected.delete(key);
    return affected;
  }

  /** A write for `key` ended: `writtenRv` when it stored the allocation, undefined when it failed or was moot. */
  settle(key: string, writtenRv: string | undefined): Set<string> {
    const affected = new Set<string>();
    const h = this.#holders.get(key);
    if (!h) return affected;
    h.writtenRv = writtenRv;
    if (writtenRv === undefined || writtenRv === h.observedRv) this.#dropPending(key, h, () => true, affected);
    return affected;
  }

  /** `keys` oldest Service first (creationTimestamp, then namespace/name), as the clash rule orders them. */
  oldestFirst(keys: readonly string[]): string[] {
    return [...keys].sort((a, b) => (a === b ? 0 : this.#older(a, b) ? -1 : 1));
  }

  /** A write planned for `key` has not been seen yet: re-planning it now would only pick other values. */
  isPending(key: string): boolean {
    return (this.#holders.get(key)?.pending.length ?? 0) > 0;
  }

  /** Clash problems for `key`, and what it still needs (recorded as pending claims). */
  plan(key: string): LedgerPlan {
    const out: LedgerPlan = { claimProblems: [], allocProblems: [] };
    const h = this.#holders.get(key);
    if (!h) return out;
    const blocked = this.#claimProblems(key, h, out.claimProblems);
    this.#starved.delete(key);
    if (blocked || h.pending.length > 0) return out;
    const s = h.service;
    const a: Allocation = { namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, nodePorts: new Map() };
    const taken: Slot[] = [];
    if (s.spec.type !== 'ExternalName') this.#allocateIps(s, a, taken, out.allocProblems);
    if (wantsNodePorts(s)) this.#allocateNodePorts(s, a, taken, out.allocProblems);
    if (!a.clusterIPs && !a.ipFamilies && a.nodePorts.size === 0) return out;
    for (const x of taken) this.#claim(key, x, undefined);
    h.pending = taken;
    h.writtenRv = undefined;
    out.allocation = a;
    return out;
  }

  #explicitSlots(s: Service): Slot[] {
    const slots: Slot[] = [];
    if (s.spec.type !== 'ExternalName') {
      for (const ip of explicitClusterIPs(s)) {
        const p = this.pools.findIndex((pool) => offsetIn(pool, ip) !== undefined);
        if (p >= 0) slots.push(ipSlot(p, offsetIn(this.pools[p]!, ip)!));
      }
    }
    const [lo, hi] = this.#cfg.nodePortRange;
    for (const port of s.spec.ports ?? []) {
      if (port.nodePort !== undefined && port.nodePort >= lo && port.nodePort <= hi) slots.push(portSlot(port.nodePort));
    }
    return [...new Set(slots)];
  }

  /** The problems serviceAllocator's claim pass reports for `s`; true when a clash blocks it. */
  #claimProblems(key: string, h: Holder, problems: string[]): boolean {
    const s = h.service;
    let blocked = false;
    if (s.spec.type !== 'ExternalName') {
      for (const ip of explicitClusterIPs(s)) {
        const p = this.pools.findIndex((pool) => offsetIn(pool, ip) !== undefined);
        if (p < 0) {
          problems.push(`Service ${key}: spec.clusterIP ${ip} is outside the service CIDR ${this.pools.map((x) => x.text).join(' and ')}; not allocated`);
          continue;
        }
        const owner = this.#owner(ipSlot(p, offsetIn(this.pools[p]!, ip)!));
        if (owner !== key) { problems.push(`Service ${key}: spec.clusterIP ${ip} is already allocated to Service ${owner}; rejected`); blocked = true; }
      }
    }
    const [lo, hi] = this.#cfg.nodePortRange;
    for (const port of s.spec.ports ?? []) {
      if (port.nodePort === undefined) continue;
      if (port.nodePort < lo || port.nodePort > hi) {
        problems.push(`Service ${key}: nodePort ${port.nodePort} is outside the range ${lo}-${hi}; not allocated`);
        continue;
      }
      const owner = this.#owner(portSlot(port.nodePort));
      if (owner !== key) { problems.push(`Service ${key}: nodePort ${port.nodePort} is already allocated to Service ${owner}; rejected`); blocked = true; }
    }
    return blocked;
  }

  #allocateIps(s: Service, a: Allocation, taken: Slot[], problems: string[]): void {
    const key = serviceKey(s);
    const resolved = resolveServiceFamilies(s, this.pools.map((p) => p.family));
    if ('problem' in resolved) { problems.push(`Service ${key}: ${resolved.problem}; no clusterIP allocated`); return; }
    const { families, policy, explicit } = resolved;
    if (isHeadless(s)) {
      // Headless: no address, but on a dual-stack cluster the families decide which EndpointSlices it gets.
      if (this.pools.length === 2 && !s.spec.ipFamilies?.length) { a.ipFamilies = families; a.ipFamilyPolicy = policy; }
      return;
    }
    if (explicit.length >= families.length) return;
    const ips = [...explicit];
    const picked: Slot[] = [];
    for (const family of families.slice(explicit.length)) {
      const p = this.pools.findIndex((x) => x.family === family);
      const pool = this.pools[p]!;
      // IPv4 keeps the start it always had, so single-stack clusters allocate exactly as before.
      const n = pickFree(pool.size, pool.band, hashOf(family === 'IPv4' ? key : `${key}/${family}`),
        (i) => !pool.reserved.has(i) && !this.#claimants.has(ipSlot(p, i)) && !picked.includes(ipSlot(p, i)));
      if (n === undefined) {
        problems.push(`Service ${key}: the service CIDR ${pool.text} is full; no clusterIP allocated`);
        this.#starved.add(key);
        return;
      }
      picked.push(ipSlot(p, n));
      ips.push(addressAt(pool, n));
    }
    taken.push(...picked);
    Object.assign(a, { clusterIP: ips[0]!, clusterIPs: ips, ipFamilies: families, ipFamilyPolicy: policy });
  }

  #allocateNodePorts(s: Service, a: Allocation, taken: Slot[], problems: string[]): void {
    const key = serviceKey(s);
    const [lo, hi] = this.#cfg.nodePortRange;
    (s.spec.ports ?? []).forEach((p, i) => {
      if (p.nodePort !== undefined) return;
      const n = pickFree(hi - lo + 1, 0, hashOf(`${key}/${i}`), (k) => !this.#claimants.has(portSlot(lo + k)) && !taken.includes(portSlot(lo + k)));
      if (n === undefined) { problems.push(`Service ${key}: no free nodePort in ${lo}-${hi}`); this.#starved.add(key); }
      else { taken.push(portSlot(lo + n)); a.nodePorts.set(i, lo + n); }
    });
  }

  /** The oldest claimant of `slot`. */
  #owner(slot: Slot): string | undefined {
    let best: string | undefined;
    for (const k of this.#claimants.get(slot) ?? []) {
      if (best === undefined || this.#older(k, best)) best = k;
    }
    return best;
  }

  #older(a: string, b: string): boolean {
    const ca = this.#holders.get(a)?.created ?? '';
    const cb = this.#holders.get(b)?.created ?? '';
    return ca !== cb ? ca < cb : a < b;
  }

  #claim(key: string, slot: Slot, affected: Set<string> | undefined): void {
    let set = this.#claimants.get(slot);
    if (!set) this.#claimants.set(slot, (set = new Set()));
    if (affected) for (const k of set) affected.add(k);
    set.add(key);
  }

  /** Drop `key`'s claim on `slots` (unless `keep` still holds them); others on those slots may now own them. */
  #release(key: string, slots: readonly Slot[], keep: readonly Slot[], affected: Set<string>): void {
    let freed = false;
    for (const x of slots) {
      if (keep.includes(x)) continue;
      const set = this.#claimants.get(x);
      if (!set?.delete(key)) continue;
      for (const k of set) affected.add(k);
      if (set.size === 0) { this.#claimants.delete(x); freed = true; }
    }
    if (freed) for (const k of this.#starved) affected.add(k);
  }

  #dropPending(key: string, h: Holder, drop: (x: Slot) => boolean, affected: Set<string>): void {
    const gone = h.pending.filter(drop);
    if (gone.length === 0) return;
    h.pending = h.pending.filter((x) => !drop(x));
    this.#release(key, gone, h.explicit, affected);
  }
}
