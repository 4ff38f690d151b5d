/**
 * @module lb/allocator — which addresses each LoadBalancer Service holds, MetalLB's allocator rules:
 * - a requested address (spec.loadBalancerIP / `metallb.io/loadBalancerIPs`) must lie in a pool (the one named
 *   by `metallb.io/address-pool` when given) and be free or shareable; autoAssign does not matter for it;
 * - otherwise the first pool (by serviceAllocation priority, then name) that is autoAssign and whose namespace and
 *   service selectors match — or exactly the annotated pool — gives, per family, its first free address in range
 *   order (skipping .0/.255 with avoidBuggyIPs);
 * - an address may be held by several services only if all carry the same `allow-shared-ip` key, their ports do
 *   not clash, and (externalTrafficPolicy Local) they select the same pods.
 * A service keeps what it holds while that stays valid, so a config change never reshuffles healthy services.
 * In-memory and synchronous: the caller (allocController, one leader at a time) serialises all calls. Pure.
 */
import { formatIp, parseIp, tryParseIp, type IpFamily, type IpAddress } from '../common/ipAddress.ts';
import { isBuggyIp, rangeContains } from './ipRange.ts';
import { anySelectorMatches } from './labelSelector.ts';
import type { AddressPool, LbConfig } from './pools.ts';
import type { AllocationRequest, PortKey } from './serviceRequest.ts';

export type AllocationFailure =
  | 'invalidRequestedIp' | 'unknownPool' | 'ipNotInAnyPool' | 'ipNotInRequestedPool' | 'ipInUse'
  | 'noPoolMatches' | 'poolExhausted' | 'mixedPools';

export type AllocationResult =
  | { ok: true; ips: string[]; pool: string; changed: boolean }
  | { ok: false; reason: AllocationFailure; pool: string | undefined; message: string };

interface Holding {
  ips: string[];
  pool: string;
  sharingKey: string | undefined;
  ports: PortKey[];
  backendKey: string | undefined;
}

/** Namespace labels by namespace name, for serviceAllocation.namespaceSelectors. */
export type NamespaceLabels = (namespace: string) => Record<string, string>;

export class Allocator {
  #config: LbConfig = { pools: [], advertisements: [], problems: [] };
  #held = new Map<string, Holding>();
  #holders = new Map<string, Set<string>>();
  #nsLabels: NamespaceLabels;

  constructor(nsLabels: NamespaceLabels = () => ({})) {
    this.#nsLabels = nsLabels;
  }

  setConfig(config: LbConfig): void {
    this.#config = config;
  }

  /** What `key` holds now. */
  holding(key: string): { ips: string[]; pool: string } | undefined {
    const h = this.#held.get(key);
    return h ? { ips: [...h.ips], pool: h.pool } : undefined;
  }

  /** Every held address → the services holding it. */
  holders(): Map<string, string[]> {
    return new Map([...this.#holders].map(([ip, s]) => [ip, [...s].sort()]));
  }

  release(key: string): void {
    const h = this.#held.get(key);
    if (!h) return;
    for (const ip of h.ips) {
      const set = this.#holders.get(ip);
      set?.delete(key);
      if (set && set.size === 0) this.#holders.delete(ip);
    }
    this.#held.delete(key);
  }

  #take(req: AllocationRequest, ips: string[], pool: string): void {
    this.release(req.key);
    this.#held.set(req.key, { ips, pool, sharingKey: req.sharingKey, ports: req.ports, backendKey: req.backendKey });
    for (const ip of ips) {
      let set = this.#holders.get(ip);
      if (!set) this.#holders.set(ip, (set = new Set()));
      set.add(req.key);
    }
  }

  /** Why `req` may not use `ip` now (another holder that may not share it), or undefined when it may. */
  sharingConflict(req: AllocationRequest, ip: string): string | undefined {
    for (const other of this.#holders.get(ip) ?? []) {
      if (other === req.key) continue;
      const h = this.#held.get(other)!;
      if (!req.sharingKey || req.sharingKey !== h.sharingKey) return `${ip} is in use by ${other} (no common metallb.io/allow-shared-ip key)`;
      const clash = req.ports.find((p) => h.ports.some((q) => q.port === p.port && q.protocol === p.protocol));
      if (clash) return `${ip} is shared with ${other}, which also uses port ${clash.port}/${clash.protocol}`;
      if (req.backendKey !== h.backendKey) return `${ip} is shared with ${other}; with externalTrafficPolicy Local both must select the same pods`;
    }
    return undefined;
  }

  poolOf(ip: IpAddress): AddressPool | undefined {
    return this.#config.pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
  }

  #poolAccepts(pool: AddressPool, req: AllocationRequest): boolean {
    const ns = pool.namespaces.length === 0 && pool.namespaceSelectors.length === 0
      || pool.namespaces.includes(req.namespace)
      || (pool.namespaceSelectors.length > 0 && anySelectorMatches(pool.namespaceSelectors, this.#nsLabels(req.namespace)));
    return ns && anySelectorMatches(pool.serviceSelectors, req.labels);
  }

  /** Whether what `req.key` holds still satisfies `req` under the current config. */
  #stillValid(req: AllocationRequest, h: Holding): boolean {
    const pool = this.#config.pools.find((p) => p.name === h.pool);
    if (!pool || (req.poolName && req.poolName !== pool.name)) return false;
    if (req.requestedIps.length && [...req.requestedIps].sort().join() !== [...h.ips].sort().join()) return false;
    const fams = h.ips.map((ip) => parseIp(ip).family);
    if (fams.length !== req.families.length || !req.families.every((f) => fams.includes(f))) return false;
    return h.ips.every((ip) => this.poolOf(parseIp(ip)) === pool && !this.sharingConflict(req, ip)
      && !(pool.avoidBuggyIPs && !req.requestedIps.length && isBuggyIp(parseIp(ip))));
  }

  /** Decide what `req` holds: keep, assign the requested addresses, or pick from a pool. */
  allocate(req: AllocationRequest): AllocationResult {
    if (req.invalidRequest !== undefined) {
      return { ok: false, reason: 'invalidRequestedIp', pool: undefined, message: `requested address "${req.invalidRequest}" is not an IP address` };
    }
    const current = this.#held.get(req.key);
    if (current && this.#stillValid(req, current)) {
      this.#held.set(req.key, { ...current, sharingKey: req.sharingKey, ports: req.ports, backendKey: req.backendKey });
      return { ok: true, ips: [...current.ips], pool: current.pool, changed: false };
    }
    const result = req.requestedIps.length ? this.#assignRequested(req) : this.#pickFromPools(req);
    if (result.ok) {
      result.changed = !current || current.ips.join() !== result.ips.join();
      this.#take(req, result.ips, result.pool);
    } else {
      this.release(req.key);
    }
    return result;
  }

  #assignRequested(req: AllocationRequest): AllocationResult {
    let poolName: string | undefined;
    for (const text of req.requestedIps) {
      const pool = this.poolOf(parseIp(text));
      if (!pool) return { ok: false, reason: 'ipNotInAnyPool', pool: req.poolName, message: `requested address ${text} is in no address pool` };
      if (req.poolName && pool.name !== req.poolName) {
        return { ok: false, reason: 'ipNotInRequestedPool', pool: req.poolName, message: `requested address ${text} is in pool "${pool.name}", not in the requested pool "${req.poolName}"` };
      }
      if (poolName && poolName !== pool.name) return { ok: false, reason: 'mixedPools', pool: poolName, message: `requested addresses come from two pools ("${poolName}", "${pool.name}")` };
      poolName = pool.name;
      const conflict = this.sharingConflict(req, text);
      if (conflict) return { ok: false, reason: 'ipInUse', pool: pool.name, message: `requested address ${conflict}` };
    }
    return { ok: true, ips: [...req.requestedIps], pool: poolName!, changed: true };
  }

  #candidatePools(req: AllocationRequest): AddressPool[] | AllocationResult {
    if (req.poolName) {
      const pool = this.#config.pools.find((p) => p.name === req.poolName);
      if (!pool) return { ok: false, reason: 'unknownPool', pool: req.poolName, message: `address pool "${req.poolName}" does not exist` };
      return [pool];
    }
    const prio = (p: AddressPool) => p.priority ?? Number.MAX_SAFE_INTEGER;
    const pools = this.#config.pools.filter((p) => p.autoAssign && this.#poolAccepts(p, req))
      .sort((a, b) => prio(a) - prio(b) || a.name.localeCompare(b.name));
    if (pools.length === 0) return { ok: false, reason: 'noPoolMatches', pool: undefined, message: 'no auto-assign address pool accepts this service' };
    return pools;
  }

  #pickFromPools(req: AllocationRequest): AllocationResult {
    const pools = this.#candidatePools(req);
    if (!Array.isArray(pools)) return pools;
    for (const pool of pools) {
      const ips = req.families.map((f) => this.#firstUsable(pool, f, req));
      if (ips.every((ip) => ip !== undefined)) return { ok: true, ips: ips as string[], pool: pool.name, changed: true };
    }
    const names = pools.map((p) => `"${p.name}"`).join(', ');
    const fams = req.families.map((f) => `IPv${f}`).join('+');
    return { ok: false, reason: 'poolExhausted', pool: pools[0]!.name, message: `no free ${fams} address in pool ${names}` };
  }

  /** First address of `family` in `pool` that `req` may hold; scans at most (held addresses + 1) per range. */
  #firstUsable(pool: AddressPool, family: IpFamily, req: AllocationRequest): string | undefined {
    for (const r of pool.ranges) {
      if (r.family !== family) continue;
      for (let v = r.first; v <= r.last; v++) {
        const ip: IpAddress = { family, value: v };
        if (pool.avoidBuggyIPs && isBuggyIp(ip)) continue;
        const text = formatIp(ip);
        if (!this.sharingConflict(req, text)) return text;
      }
    }
    return undefined;
  }
}

/**
 * Restore what a service held before (its status) after a restart or a change of leader, if it is still
 * valid; otherwise the next allocate() picks again. Returns whether it was adopted.
 */
export function adoptHolding(alloc: Allocator, req: AllocationRequest, ips: string[]): boolean {
  if (ips.length === 0) return false;
  const parsed = ips.map((t) => tryParseIp(t));
  if (parsed.some((p) => !p)) return false;
  const pools = new Set(parsed.map((p) => alloc.poolOf(p!)));
  const pool = [...pools][0];
  if (pools.size !== 1 || !pool) return false;
  if (ips.some((ip) => alloc.sharingConflict(req, ip))) return false;
  const asRequested = { ...req, requestedIps: req.requestedIps.length ? req.requestedIps : ips };
  const res = alloc.allocate(asRequested);
  return res.ok;
}
