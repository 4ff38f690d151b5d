/**
 * @module controller/serviceAllocator — what an API server allocates for Services, where there is none (file and
 * etcd stores): `spec.clusterIP(s)` from the service CIDR and `nodePort`s from 30000-32767. Pure: all Services in,
 * the allocations to write and the problems to log out.
 *
 * Explicit values are honoured; a value another Service already holds is a clash: the older Service keeps it and
 * the newer one is reported by name and left unallocated. The first address (network), the second (the
 * `kubernetes` Service's by convention) and the DNS address (10.96.0.10 by default) are never handed out
 * dynamically, only when asked for explicitly. Dynamic addresses come from above the static band (the lowest
 * 1/16 of the range, at least 16 and at most 256 addresses), as Kubernetes does since 1.27, so explicit
 * low addresses stay free.
 */
import type { Service } from '../store/types.ts';
import { tryParseIp } from '../common/ipAddress.ts';
import { formatIpv4, parseIpv4Cidr } from '../node/podCidrPool.ts';

export interface AllocatorConfig {
  serviceCIDR: string;
  nodePortRange: [number, number];
  /** Addresses handed out only when requested explicitly (the cluster DNS address). */
  reserved: string[];
}

export interface Allocation {
  namespace: string;
  name: string;
  clusterIP?: string;
  /** port index → node port */
  nodePorts: Map<number, number>;
}

export interface AllocationPlan {
  allocations: Allocation[];
  problems: string[];
}

const keyOf = (s: Service) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;

/** IPv4 address as a number (the allocator's bitmap index space), undefined for anything else. */
function ipToInt(ip: string): number | undefined {
  const a = tryParseIp(ip);
  return a?.family === 4 ? Number(a.value) : undefined;
}

function needsClusterIP(s: Service): boolean {
  return s.spec.type !== 'ExternalName' && (s.spec.clusterIP === undefined || s.spec.clusterIP === '');
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
  ipOwner: Map<number, string>;
  portOwner: Map<number, string>;
  /** Services with a clash: nothing is allocated for them until the clash is fixed. */
  blocked: Set<string>;
  problems: string[];
}

/** Record every explicit clusterIP and nodePort, oldest Service first; later duplicates are clashes. */
function claimExplicit(ordered: readonly Service[], base: number, size: number, cfg: AllocatorConfig): Claims {
  const c: Claims = { ipOwner: new Map(), portOwner: new Map(), blocked: new Set(), problems: [] };
  for (const s of ordered) {
    const ip = s.spec.clusterIP;
    if (ip && ip !== 'None') {
      const n = ipToInt(ip);
      if (n === undefined || n < base || n >= base + size) {
        c.problems.push(`Service ${keyOf(s)}: spec.clusterIP ${ip} is outside the service CIDR ${cfg.serviceCIDR}; not allocated`);
      } else if (c.ipOwner.has(n)) {
        c.problems.push(`Service ${keyOf(s)}: spec.clusterIP ${ip} is already allocated to Service ${c.ipOwner.get(n)}; rejected`);
        c.blocked.add(keyOf(s));
      } else c.ipOwner.set(n, keyOf(s));
    }
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

export function planServiceAllocations(services: readonly Service[], cfg: AllocatorConfig): AllocationPlan {
  const cidr = parseIpv4Cidr(cfg.serviceCIDR, 'serviceCIDR');
  const size = 2 ** (32 - cidr.bits);
  const ordered = [...services].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || keyOf(a).localeCompare(keyOf(b)));
  const { ipOwner, portOwner, blocked, problems } = claimExplicit(ordered, cidr.base, size, cfg);
  const reserved = new Set([cidr.base, cidr.base + 1, cidr.base + size - 1, ...cfg.reserved.map(ipToInt).filter((n): n is number => n !== undefined)]);
  const band = Math.min(256, Math.max(16, Math.floor(size / 16)));
  const allocations: Allocation[] = [];
  for (const s of ordered) {
    if (blocked.has(keyOf(s))) continue;
    const a: Allocation = { namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, nodePorts: new Map() };
    if (needsClusterIP(s)) {
      const n = pickFree(size, band, hashOf(keyOf(s)), (i) => !reserved.has(cidr.base + i) && !ipOwner.has(cidr.base + i));
      if (n === undefined) problems.push(`Service ${keyOf(s)}: the service CIDR ${cfg.serviceCIDR} is full; no clusterIP allocated`);
      else { ipOwner.set(cidr.base + n, keyOf(s)); a.clusterIP = formatIpv4(cidr.base + n); }
    }
    if (wantsNodePorts(s)) {
      const [lo, hi] = cfg.nodePortRange;
      (s.spec.ports ?? []).forEach((p, i) => {
        if (p.nodePort !== undefined) return;
        const n = pickFree(hi - lo + 1, 0, hashOf(`${keyOf(s)}/${i}`), (k) => !portOwner.has(lo + k));
        if (n === undefined) problems.push(`Service ${keyOf(s)}: no free nodePort in ${lo}-${hi}`);
        else { portOwner.set(lo + n, keyOf(s)); a.nodePorts.set(i, lo + n); }
      });
    }
    if (a.clusterIP || a.nodePorts.size > 0) allocations.push(a);
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
