/**
 * @module node/podCidrPool — the pod subnets a cluster CIDR splits into (flannel's SubnetLen; a /24 per node from
 * 10.244.0.0/16 by default) and the lease name of each. Pure. IPv4 only: dual-stack pod CIDRs come from the kube
 * store's Node.spec.podCIDRs, never from this pool.
 */
import { AddressError, ConfigError } from '../common/errors.ts';
import { formatIp } from '../common/ipAddress.ts';
import { parsePrefix, type IpPrefix } from '../common/ipPrefix.ts';

export interface Ipv4Cidr { base: number; bits: number }

/** Host bits are cleared (`10.244.1.0/16` means 10.244.0.0/16), as flannel's config has always been read. */
export function parseIpv4Cidr(text: string, field = 'cidr'): Ipv4Cidr {
  const problem = (why: string) => new ConfigError(`must be an IPv4 CIDR such as 10.244.0.0/16, got "${text}": ${why}`, { field });
  let p: IpPrefix;
  try {
    p = parsePrefix(text.trim(), { hostBits: 'clear' });
  } catch (err) {
    if (err instanceof AddressError) throw problem(err.reason);
    throw err;
  }
  if (p.addr.family !== 4) throw problem('it is IPv6; dual-stack pod CIDRs come from Node.spec.podCIDRs');
  return { base: Number(p.addr.value), bits: p.prefixLen };
}

export function formatIpv4(n: number): string {
  return formatIp({ family: 4, value: BigInt(n >>> 0) });
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.bits}`;
}

/** How many /`subnetBits` subnets `cluster` holds. */
export function subnetCount(cluster: Ipv4Cidr, subnetBits: number): number {
  if (subnetBits < cluster.bits || subnetBits > 30) {
    throw new ConfigError(`must be between the cluster prefix /${cluster.bits} and /30, got /${subnetBits}`, { field: 'podSubnetLength' });
  }
  return 2 ** (subnetBits - cluster.bits);
}

export function subnetAt(cluster: Ipv4Cidr, subnetBits: number, index: number): string {
  return formatCidr({ base: (cluster.base + index * 2 ** (32 - subnetBits)) >>> 0, bits: subnetBits });
}

/** `podcidr-10-244-3-0-24`: one lease per subnet, so etcd/file CAS on that one key decides who holds it. */
export function leaseNameFor(cidr: string): string {
  return `podcidr-${cidr.replace(/[./]/g, '-')}`;
}

/** Whether `cidr` is one of the pool's subnets (a previous lease from another configuration is not). */
export function isPoolSubnet(cluster: Ipv4Cidr, subnetBits: number, cidr: string): boolean {
  try {
    const c = parseIpv4Cidr(cidr);
    const size = 2 ** (32 - subnetBits);
    return c.bits === subnetBits && c.base >= cluster.base && c.base < cluster.base + subnetCount(cluster, subnetBits) * size;
  } catch {
    return false;
  }
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
