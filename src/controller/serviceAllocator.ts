/**
 * @module controller/serviceAllocator — what an API server allocates for Services, where there is none (file and
 * etcd stores): `spec.clusterIP(s)` from the service CIDRs and `nodePort`s from 30000-32767. Pure: all Services
 * in, the allocations to write and the problems to log out.
 *
 * Dual-stack: one pool per service CIDR (the API server's `--service-cluster-ip-range=IPv4,IPv6`); which families
 * a Service gets follows its ipFamilyPolicy/ipFamilies (ipFamilyPolicy.ts), `clusterIPs` in family order, primary
 * first, `clusterIP` = `clusterIPs[0]`. A PreferDualStack Service that has only its primary address gets the
 * secondary one added (the upgrade Kubernetes allows); nothing is ever removed.
 *
 * Explicit values are honoured; a value another Service already holds is a clash: the older Service keeps it and
 * the newer one is reported by name and left unallocated. The first address (network), the second (the
 * `kubernetes` Service's by convention), the last, and the DNS address (10.96.0.10 by default) are never handed
 * out dynamically, only when asked for explicitly. Dynamic addresses come from above the static band (the lowest
 * 1/16 of the range, at least 16 and at most 256 addresses), as Kubernetes does since 1.27, so explicit
 * low addresses stay free.
 */
import type { IPFamily, Service } from '../store/types.ts';
import { formatIp, tryParseIp } from '../common/ipAddress.ts';
import { formatPrefix, parsePrefix, type IpPrefix } from '../common/ipPrefix.ts';
import { ConfigError } from '../common/errors.ts';
import { explicitClusterIPs, isHeadless, resolveServiceFamilies, type IpFamilyPolicy } from './ipFamilyPolicy.ts';

export interface AllocatorConfig {
  /** The primary service CIDR. */
  serviceCIDR: string;
  /** Every service CIDR, primary first (dual-stack: one IPv4 and one IPv6); defaults to [serviceCIDR]. */
  serviceCIDRs?: string[];
  nodePortRange: [number, number];
  /** Addresses handed out only when requested explicitly (the cluster DNS address). */
  reserved: string[];
}

export interface Allocation {
  namespace: string;
  name: string;
  /** The primary clusterIP, when this allocation sets the Service's addresses. */
  clusterIP?: string;
  /** The complete clusterIPs (explicit ones kept, new ones appended), with the families and policy they follow. */
  clusterIPs?: string[];
  ipFamilies?: IPFamily[];
  ipFamilyPolicy?: IpFamilyPolicy;
  /** port index → node port */
  nodePorts: Map<number, number>;
}

export interface AllocationPlan {
  allocations: Allocation[];
  problems: string[];
}

/** One service CIDR: offsets from its network address, so an IPv6 /112 is 65,536 plain numbers. */
export interface Pool {
  family: IPFamily;
  cidr: IpPrefix;
  text: string;
  size: number;
  band: number;
  reserved: Set<number>;
  owner: Map<number, string>;
}

const keyOf = (s: Service) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;

/** kube-apiserver refuses IPv6 service ranges larger than /108 (2^20 addresses); so do we, for both families. */
const MAX_POOL_BITS = 20;

function poolOf(text: string, reserved: readonly string[]): Pool {
  let cidr: IpPrefix;
  try {
    cidr = parsePrefix(text.trim(), { hostBits: 'clear' });
  } catch (err) {
    throw new ConfigError(`must be a CIDR such as 10.96.0.0/16 or fd00:10:96::/112, got "${text}": ${(err as Error).message}`, { field: 'serviceCIDR' });
  }
  const hostBits = (cidr.addr.family === 4 ? 32 : 128) - cidr.prefixLen;
  if (hostBits > MAX_POOL_BITS) {
    throw new ConfigError(`${formatPrefix(cidr)} is too large for a service range (at most ${2 ** MAX_POOL_BITS} addresses: /${(cidr.addr.family === 4 ? 32 : 128) - MAX_POOL_BITS} or longer)`, { field: 'serviceCIDR' });
  }
  const size = 2 ** hostBits;
  const pool: Pool = { family: cidr.addr.family === 4 ? 'IPv4' : 'IPv6', cidr, text: formatPrefix(cidr), size,
    band: Math.min(256, Math.max(16, Math.floor(size / 16))), reserved: new Set([0, 1, size - 1]), owner: new Map() };
  for (const ip of reserved) {
    const i = offsetIn(pool, ip);
    if (i !== undefined) pool.reserved.add(i);
  }
  return pool;
}

/** The offset of `ip` in the pool, undefined when it is of another family or outside. */
function offsetIn(pool: Pool, ip: string): number | undefined {
  const a = tryParseIp(ip);
  if (!a || a.family !== pool.cidr.addr.family) return undefined;
  const off = a.value - pool.cidr.addr.value;
  return off >= 0n && off < BigInt(pool.size) ? Number(off) : undefined;
}

function addressAt(pool: Pool, i: number): string {
  return formatIp({ family: pool.cidr.addr.family, value: pool.cidr.addr.value + BigInt(i) });
}

function wantsNodePorts(s: Service): boolean {
  return s.spec.type === 'NodePort' || (s.spec.type === 'LoadBalancer' && s.spec.allocateLoadBalancerNodePorts !== false);
}

function hashOf(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

interface Claims {
  portOwner: Map<number, string>;
  /** Services with a clash: nothing is allocated for them until the clash is fixed. */
  blocked: Set<string>;
  problems: string[];
}

function claimExplicitIps(s: Service, pools: readonly Pool[], c: Claims): void {
  for (const ip of explicitClusterIPs(s)) {
    const pool = pools.find((p) => offsetIn(p, ip) !== undefined);
    const i = pool && offsetIn(pool, ip);
    if (!pool || i === undefined) {
      c.problems.push(`Service ${keyOf(s)}: spec.clusterIP ${ip} is outside the service CIDR ${pools.map((p) => p.text).join(' and ')}; not allocated`);
    } else if (pool.owner.has(i) && pool.owner.get(i) !== keyOf(s)) {
      c.problems.push(`Service ${keyOf(s)}: spec.clusterIP ${ip} is already allocated to Service ${pool.owner.get(i)}; rejected`);
      c.blocked.add(keyOf(s));
    } else pool.owner.set(i, keyOf(s));
  }
}

/** Record every explicit clusterIP and nodePort, oldest Service first; later duplicates are clashes. */
function claimExplicit(ordered: readonly Service[], pools: readonly Pool[], cfg: AllocatorConfig): Claims {
  const c: Claims = { portOwner: new Map(), blocked: new Set(), problems: [] };
  for (const s of ordered) {
    if (s.spec.type !== 'ExternalName') claimExplicitIps(s, pools, c);
    for (const p of s.spec.ports ?? []) {
      if (p.nodePort === undefined) continue;
      const owner = c.portOwner.get(p.nodePort);
      if (owner && owner !== keyOf(s)) {
        c.problems.push(`Service ${keyOf(s)}: nodePort ${p.nodePort} is already allocated to Service ${owner}; rejected`);
        c.blocked.add(keyOf(s));
      } else if (p.nodePort < cfg.nodePortRange[0] || p.nodePort > cfg.nodePortRange[1]) {
        c.problems.push(`Service ${keyOf(s)}: nodePort ${p.nodePort} is outside the range ${cfg.nodePortRange[0]}-${cfg.nodePortRange[1]}; not allocated`);
      } else c.portOwner.set(p.nodePort, keyOf(s));
    }
  }
  return c;
}

/** Pools from the config, primary first; the primary must lead and families must not repeat. */
export function servicePools(cfg: AllocatorConfig): Pool[] {
  const texts = cfg.serviceCIDRs?.length ? cfg.serviceCIDRs : [cfg.serviceCIDR];
  const pools = texts.map((t) => poolOf(t, cfg.reserved));
  if (pools.length > 2 || (pools.length === 2 && pools[0]!.family === pools[1]!.family)) {
    throw new ConfigError(`at most one IPv4 and one IPv6 service CIDR, got ${texts.join(',')}`, { field: 'serviceCIDR' });
  }
  return pools;
}

/** Fill the Service's missing families; the problem when a family's pool is full or it cannot have them. */
function allocateIps(s: Service, pools: readonly Pool[], a: Allocation, problems: string[]): void {
  const resolved = resolveServiceFamilies(s, pools.map((p) => p.family));
  if ('problem' in resolved) { problems.push(`Service ${keyOf(s)}: ${resolved.problem}; no clusterIP allocated`); return; }
  const { families, policy, explicit } = resolved;
  if (isHeadless(s)) {
    // Headless: no address, but on a dual-stack cluster the families decide which EndpointSlices it gets.
    if (pools.length === 2 && !s.spec.ipFamilies?.length) { a.ipFamilies = families; a.ipFamilyPolicy = policy; }
    return;
  }
  if (explicit.length >= families.length) return;
  const ips = [...explicit];
  for (const family of families.slice(explicit.length)) {
    const pool = pools.find((p) => p.family === family)!;
    // IPv4 keeps the start it always had, so single-stack clusters allocate exactly as before.
    const n = pickFree(pool.size, pool.band, hashOf(family === 'IPv4' ? keyOf(s) : `${keyOf(s)}/${family}`), (i) => !pool.reserved.has(i) && !pool.owner.has(i));
    if (n === undefined) { problems.push(`Service ${keyOf(s)}: the service CIDR ${pool.text} is full; no clusterIP allocated`); return; }
    pool.owner.set(n, keyOf(s));
    ips.push(addressAt(pool, n));
  }
  Object.assign(a, { clusterIP: ips[0]!, clusterIPs: ips, ipFamilies: families, ipFamilyPolicy: policy });
}

function allocateNodePorts(s: Service, cfg: AllocatorConfig, portOwner: Map<number, string>, a: Allocation, problems: string[]): void {
  const [lo, hi] = cfg.nodePortRange;
  (s.spec.ports ?? []).forEach((p, i) => {
    if (p.nodePort !== undefined) return;
    const n = pickFree(hi - lo + 1, 0, hashOf(`${keyOf(s)}/${i}`), (k) => !portOwner.has(lo + k));
    if (n === undefined) problems.push(`Service ${keyOf(s)}: no free nodePort in ${lo}-${hi}`);
    else { portOwner.set(lo + n, keyOf(s)); a.nodePorts.set(i, lo + n); }
  });
}

export function planServiceAllocations(services: readonly Service[], cfg: AllocatorConfig): AllocationPlan {
  const pools = servicePools(cfg);
  const ordered = [...services].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || keyOf(a).localeCompare(keyOf(b)));
  const { portOwner, blocked, problems } = claimExplicit(ordered, pools, cfg);
  const allocations: Allocation[] = [];
  for (const s of ordered) {
    if (blocked.has(keyOf(s))) continue;
    const a: Allocation = { namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, nodePorts: new Map() };
    if (s.spec.type !== 'ExternalName') allocateIps(s, pools, a, problems);
    if (wantsNodePorts(s)) allocateNodePorts(s, cfg, portOwner, a, problems);
    if (a.clusterIPs || a.ipFamilies || a.nodePorts.size > 0) allocations.push(a);
  }
  return { allocations, problems };
}

/** A free index, first in [band, size) from a hashed start, then in [0, band). */
function pickFree(size: number, band: number, start: number, free: (i: number) => boolean): number | undefined {
  const upper = size - band;
  for (let k = 0; k < upper; k++) {
    const i = band + ((start + k) % upper);
    if (free(i)) return i;
  }
  for (let i = 0; i < band; i++) if (free(i)) return i;
  return undefined;
}
