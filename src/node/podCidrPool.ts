/**
 * @module node/podCidrPool — the pod subnets a cluster CIDR splits into (flannel's SubnetLen; a /24 per node from
 * 10.244.0.0/16 by default, a /64 per node from an IPv6 cluster CIDR such as fd00:10:244::/56, as
 * kube-controller-manager's --node-cidr-mask-size-ipv6) and the lease name of each. Pure. A dual-stack node leases
 * one subnet from each family's pool.
 */
import { AddressError, ConfigError } from '../common/errors.ts';
import { formatIp } from '../common/ipAddress.ts';
import { formatPrefix, parsePrefix, prefixContains, subnetAt as prefixSubnetAt, type IpPrefix } from '../common/ipPrefix.ts';

/** Any family; host bits cleared. Throws ConfigError naming `field`. */
export function parseClusterCidr(text: string, field = 'clusterCIDR'): IpPrefix {
  try {
    return parsePrefix(text.trim(), { hostBits: 'clear' });
  } catch (err) {
    if (err instanceof AddressError) {
      throw new ConfigError(`must be a CIDR such as 10.244.0.0/16 or fd00:10:244::/56, got "${text}": ${err.reason}`, { field });
    }
    throw err;
  }
}

/** kube-controller-manager refuses more than 16 bits between the cluster CIDR and a node's subnet; so do we (IPv6). */
const MAX_SUBNET_BITS = { 4: 30, 6: 126 } as const;

/** How many /`subnetBits` subnets the cluster CIDR of either family holds. */
export function poolSize(cluster: IpPrefix, subnetBits: number): number {
  const family = cluster.addr.family;
  const field = family === 4 ? 'podSubnetLength' : 'podSubnetLength6';
  if (subnetBits < cluster.prefixLen || subnetBits > MAX_SUBNET_BITS[family]) {
    throw new ConfigError(`must be between the cluster prefix /${cluster.prefixLen} and /${MAX_SUBNET_BITS[family]}, got /${subnetBits}`, { field });
  }
  if (family === 6 && subnetBits - cluster.prefixLen > 16) {
    throw new ConfigError(`/${subnetBits} is more than 16 bits longer than the cluster CIDR ${formatPrefix(cluster)}`, { field });
  }
  return 2 ** (subnetBits - cluster.prefixLen);
}

export function poolSubnetAt(cluster: IpPrefix, subnetBits: number, index: number): string {
  return formatPrefix(prefixSubnetAt(cluster, subnetBits, BigInt(index)));
}

/** Whether `cidr` is one of the pool's subnets, in either family (a lease from another configuration is not). */
export function isInPool(cluster: IpPrefix, subnetBits: number, cidr: string): boolean {
  try {
    const c = parsePrefix(cidr, { hostBits: 'reject' });
    return c.prefixLen === subnetBits && c.addr.family === cluster.addr.family && prefixContains(cluster, c.addr);
  } catch {
    return false;
  }
}

export interface Ipv4Cidr { base: number; bits: number }

/**
 * IPv4 only, as a plain number (the same subnets as poolSubnetAt for IPv4). Host bits are cleared
 * (`10.244.1.0/16` means 10.244.0.0/16), as flannel's config has always been read.
 */
export function parseIpv4Cidr(text: string, field = 'cidr'): Ipv4Cidr {
  const problem = (why: string) => new ConfigError(`must be an IPv4 CIDR such as 10.244.0.0/16, got "${text}": ${why}`, { field });
  let p: IpPrefix;
  try {
    p = parsePrefix(text.trim(), { hostBits: 'clear' });
  } catch (err) {
    if (err instanceof AddressError) throw problem(err.reason);
    throw err;
  }
  if (p.addr.family !== 4) throw problem('it is IPv6 (use parseClusterCidr for either family)');
  return { base: Number(p.addr.value), bits: p.prefixLen };
}

export function formatIpv4(n: number): string {
  return formatIp({ family: 4, value: BigInt(n >>> 0) });
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.bits}`;
}

export function subnetAt(cluster: Ipv4Cidr, subnetBits: number, index: number): string {
  return formatCidr({ base: (cluster.base + index * 2 ** (32 - subnetBits)) >>> 0, bits: subnetBits });
}

/**
 * `podcidr-10-244-3-0-24`, `podcidr-fd00-10-244-3---64`: one lease per subnet, so etcd/file CAS on that one key
 * decides who holds it.
 */
export function leaseNameFor(cidr: string): string {
  return `podcidr-${cidr.replace(/[./:]/g, '-')}`;
}

/**
 * The order in which a node tries subnets: its previous one first, then every subnet from an offset derived
 * from its name, so nodes starting at the same moment mostly try different subnets first (fewer lost CAS races).
 */
export function candidateOrder(count: number, nodeName: string): number[] {
  let h = 2166136261;
  for (const ch of nodeName) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const start = h % count;
  return Array.from({ length: count }, (_, i) => (start + i) % count);
}
