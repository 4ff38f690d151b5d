/**
 * @module controller/servicePools — the address and port arithmetic behind clusterIP and nodePort allocation
 * (pure): one pool per service CIDR as offsets from its network address, the static band, the reserved
 * addresses, and the hashed-start search for a free value. Used by allocationLedger.ts.
 */
import type { IPFamily, Service } from '../store/types.ts';
import { formatIp, tryParseIp } from '../common/ipAddress.ts';
import { formatPrefix, parsePrefix, type IpPrefix } from '../common/ipPrefix.ts';
import { ConfigError } from '../common/errors.ts';

export interface AllocatorConfig {
  /** The primary service CIDR. */
  serviceCIDR: string;
  /** Every service CIDR, primary first (dual-stack: one IPv4 and one IPv6); defaults to [serviceCIDR]. */
  serviceCIDRs?: string[];
  nodePortRange: [number, number];
  /** Addresses handed out only when requested explicitly (the cluster DNS address). */
  reserved: string[];
}

/** One service CIDR: offsets from its network address, so an IPv6 /112 is 65,536 plain numbers. */
export interface Pool {
  family: IPFamily;
  cidr: IpPrefix;
  text: string;
  size: number;
  band: number;
  reserved: Set<number>;
}

export const serviceKey = (s: Service): string => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;

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
    band: Math.min(256, Math.max(16, Math.floor(size / 16))), reserved: new Set([0, 1, size - 1]) };
  for (const ip of reserved) {
    const i = offsetIn(pool, ip);
    if (i !== undefined) pool.reserved.add(i);
  }
  return pool;
}

/** The offset of `ip` in the pool, undefined when it is of another family or outside. */
export function offsetIn(pool: Pool, ip: string): number | undefined {
  const a = tryParseIp(ip);
  if (!a || a.family !== pool.cidr.addr.family) return undefined;
  const off = a.value - pool.cidr.addr.value;
  return off >= 0n && off < BigInt(pool.size) ? Number(off) : undefined;
}

export function addressAt(pool: Pool, i: number): string {
  return formatIp({ family: pool.cidr.addr.family, value: pool.cidr.addr.value + BigInt(i) });
}

export function wantsNodePorts(s: Service): boolean {
  return s.spec.type === 'NodePort' || (s.spec.type === 'LoadBalancer' && s.spec.allocateLoadBalancerNodePorts !== false);
}

export function hashOf(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
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

/** A free index, first in [band, size) from a hashed start, then in [0, band). */
export function pickFree(size: number, band: number, start: number, free: (i: number) => boolean): number | undefined {
  const upper = size - band;
  for (let k = 0; k < upper; k++) {
    const i = band + ((start + k) % upper);
    if (free(i)) return i;
  }
  for (let i = 0; i < band; i++) if (free(i)) return i;
  return undefined;
}
