/**
 * @module controller/ipFamilyPolicy — which IP families a Service gets, as the API server decides it (pure):
 * `spec.ipFamilyPolicy` SingleStack | PreferDualStack | RequireDualStack, `spec.ipFamilies` (order = the order of
 * `spec.clusterIPs`, primary first) and explicit `spec.clusterIPs`, against the families the cluster's service
 * CIDRs provide. Defaults follow Kubernetes: no policy → SingleStack, except RequireDualStack when two families
 * or two clusterIPs are given, and for a headless Service without selector on a dual-stack cluster; no families
 * → the cluster's primary family first. A request the cluster cannot meet is a problem naming the Service and the
 * field, never a silent single-stack fallback.
 */
import { ipFamilyOf } from '../common/ipAddress.ts';
import type { IPFamily, Service } from '../store/types.ts';

export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ServiceFamilies {
  families: IPFamily[];
  policy: IpFamilyPolicy;
  /** The Service's explicit clusterIPs (without None), in order. */
  explicit: string[];
}

export const familyOfIp = (ip: string): IPFamily | undefined => {
  const f = ipFamilyOf(ip);
  return f === 4 ? 'IPv4' : f === 6 ? 'IPv6' : undefined;
};

const other = (f: IPFamily): IPFamily => (f === 'IPv4' ? 'IPv6' : 'IPv4');

export function isHeadless(s: Service): boolean {
  return s.spec.clusterIP === 'None';
}

/** Explicit addresses: clusterIPs, else clusterIP; never "None" or empty. */
export function explicitClusterIPs(s: Service): string[] {
  const list = s.spec.clusterIPs?.length ? s.spec.clusterIPs : s.spec.clusterIP ? [s.spec.clusterIP] : [];
  return list.filter((ip) => ip !== '' && ip !== 'None');
}

function defaultPolicy(s: Service, given: IPFamily[], explicit: string[], clusterFamilies: readonly IPFamily[]): IpFamilyPolicy {
  if (given.length === 2 || explicit.length === 2) return 'RequireDualStack';
  const noSelector = !s.spec.selector || Object.keys(s.spec.selector).length === 0;
  if (isHeadless(s) && noSelector && clusterFamilies.length === 2) return 'RequireDualStack';
  return 'SingleStack';
}

/** The families `s` gets on a cluster whose service CIDRs provide `clusterFamilies` (primary first), or a problem. */
export function resolveServiceFamilies(s: Service, clusterFamilies: readonly IPFamily[]): ServiceFamilies | { problem: string } {
  const explicit = explicitClusterIPs(s);
  const explicitFamilies = explicit.map(familyOfIp);
  const bad = explicit.find((_, i) => explicitFamilies[i] === undefined);
  if (bad !== undefined) return { problem: `spec.clusterIPs: "${bad}" is not an IP address` };
  const asked = s.spec.ipFamilies ?? [];
  for (let i = 0; i < explicit.length && i < asked.length; i++) {
    if (asked[i] !== explicitFamilies[i]) return { problem: `spec.ipFamilies[${i}] is ${asked[i]} but spec.clusterIPs[${i}] ${explicit[i]} is ${explicitFamilies[i]}` };
  }
  const given = [...asked, ...(explicitFamilies as IPFamily[]).slice(asked.length)];
  if (given.length > 2 || new Set(given).size !== given.length) {
    return { problem: `spec.ipFamilies ${JSON.stringify(given)}: at most one IPv4 and one IPv6, each once` };
  }
  const policy = (s.spec.ipFamilyPolicy ?? defaultPolicy(s, given, explicit, clusterFamilies)) as IpFamilyPolicy;
  if (!isHeadless(s)) {
    const missing = given.find((f) => !clusterFamilies.includes(f));
    if (missing) return { problem: `spec.ipFamilies: ${missing} is not configured on this cluster (its service CIDRs are ${clusterFamilies.join(' and ')} only)` };
  }
  const primary = given[0] ?? clusterFamilies[0] ?? 'IPv4';
  if (policy === 'SingleStack') {
    if (given.length > 1) return { problem: `spec.ipFamilyPolicy SingleStack allows one family, got ${given.join(' and ')} (use PreferDualStack or RequireDualStack)` };
    return { families: [primary], policy, explicit };
  }
  const dualCluster = clusterFamilies.length === 2;
  if (policy === 'RequireDualStack' && !dualCluster && !isHeadless(s)) {
    return { problem: `spec.ipFamilyPolicy RequireDualStack, but this cluster is single-stack (its service CIDRs are ${clusterFamilies[0] ?? 'IPv4'} only); use PreferDualStack or SingleStack` };
  }
  if (policy !== 'PreferDualStack' && policy !== 'RequireDualStack') return { problem: `spec.ipFamilyPolicy: unknown policy "${String(policy)}"` };
  const families = dualCluster ? [primary, other(primary)] : given.length === 2 ? given : [primary];
  return { families, policy, explicit };
}
