/**
 * @module services/iptables/iptPlanner — service model → PODNET-* chains for iptables-restore, as data, per family.
 *
 * The fallback for kernels without nftables. Same structure as kube-proxy's iptables mode, and the same
 * behaviour as our nftables planner (the netns and lab tests run both):
 * - nat `PODNET-SERVICES` dispatches on destination (O(services) per new connection — the reason nftables is the
 *   default); a chain per service port (`PODNET-SVC-*`) picks an endpoint with `statistic --probability
 *   1/(N-i)`; a chain per endpoint (`PODNET-SEP-*`) marks hairpin traffic, records affinity and DNATs.
 * - `PODNET-EXT-*` for NodePort / LB / externalIP traffic (masquerade with ETP Cluster; ETP Local keeps the
 *   source, except for traffic from the node itself, which is masqueraded and may use any endpoint).
 * - `PODNET-FW-*` for loadBalancerSourceRanges: allowed sources go on to `PODNET-EXT-*`; the others fall through
 *   un-DNATed and are dropped in the filter table, where their destination is still the LB IP (kube-proxy's way:
 *   the nat table cannot drop).
 * - ClientIP affinity: `-m recent` list per endpoint chain (`--rcheck --seconds T --reap` in the service chain,
 *   `--set` in the endpoint chain), as kube-proxy does.
 * - filter `PODNET-REJECT` (from INPUT, FORWARD, OUTPUT; runs after DNAT): firewall drops, REJECT for ports with
 *   no endpoints at all, DROP when only a Local policy leaves none here, and last a REJECT for anything still
 *   addressed to a ClusterIP (ipset `PODNET-CLUSTER-IPS[6]`) — a served packet's destination is an endpoint by
 *   then, so that is an unused port.
 * Names: prefix + 16 hex digits of a hash (iptables chain names are limited to 28 characters).
 */
import type { ServiceModel, ServicePortView, EndpointTarget } from '../serviceModel.ts';
import type { IPFamily } from '../../store/types.ts';
import { shortHash } from '../nftables/nftNames.ts';

export interface IptDesired {
  /** table → chain → rules (each rule is the argument text after `-A CHAIN`). */
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
  /** Members of the ipset `clusterIPSet` (the ClusterIPs we serve), sorted. */
  clusterIPs: string[];
}

/**
 * The ClusterIPs we serve, as an ipset per family: the unused-port REJECT is then one set lookup per new
 * connection instead of one rule per ClusterIP (which would double iptables mode's linear per-connection cost).
 */
export function clusterIPSet(family: IPFamily): string {
  return family === 'IPv4' ? 'PODNET-CLUSTER-IPS' : 'PODNET-CLUSTER-IPS6';
}

export interface IptPlanOptions {
  /** Pod networks (both families; filtered here): other sources are masqueraded on their way to a ClusterIP. */
  clusterCIDRs: string[];
  masqueradeAll: boolean;
}

export const MASQ_MARK = '0x4000/0x4000';

function hash16(text: string): string {
  return `${shortHash(text)}${shortHash(`${text}#`)}`;
}
export const svcChain = (p: ServicePortView) => `PODNET-SVC-${hash16(`${p.id}|${p.family}`)}`;
export const extChain = (p: ServicePortView) => `PODNET-EXT-${hash16(`${p.id}|${p.family}`)}`;
export const fwChain = (p: ServicePortView) => `PODNET-FW-${hash16(`${p.id}|${p.family}`)}`;
export const sepChain = (p: ServicePortView, e: EndpointTarget) => `PODNET-SEP-${hash16(`${p.id}|${e.ip}|${e.port}`)}`;

/** Per-family spelling: host prefix length and the DNAT target. */
interface Fam { host: string; dnat: (e: EndpointTarget) => string }
const FAMILIES: Record<IPFamily, Fam> = {
  IPv4: { host: '/32', dnat: (e) => `${e.ip}:${e.port}` },
  IPv6: { host: '/128', dnat: (e) => `[${e.ip}]:${e.port}` },
};

function comment(p: ServicePortView): string {
  return `-m comment --comment "${p.namespace}/${p.name}:${p.portName}"`;
}

function l4(p: ServicePortView, port: number): string {
  const proto = p.protocol.toLowerCase();
  return `-p ${proto} -m ${proto} --dport ${port}`;
}

/** The endpoint chains and the rules of the choosing chain (sticky rules first, then the random cascade). */
function dispatch(d: IptDesired, fam: Fam, p: ServicePortView, eps: readonly EndpointTarget[]): string[] {
  const rules: string[] = [];
  const names = eps.map((e) => sepChain(p, e));
  eps.forEach((e, i) => {
    const sep = names[i]!;
    if (!d.nat.has(sep)) {
      const aff = p.affinitySeconds > 0 ? [`-m recent --name ${sep} --set --rsource`] : [];
      d.nat.set(sep, [`-s ${e.ip}${fam.host} -j PODNET-MARK-MASQ`, ...aff, `-p ${p.protocol.toLowerCase()} -j DNAT --to-destination ${fam.dnat(e)}`]);
    }
    if (p.affinitySeconds > 0) rules.push(`-m recent --name ${sep} --rcheck --seconds ${p.affinitySeconds} --reap --rsource -j ${sep}`);
  });
  names.forEach((sep, i) => {
    const left = names.length - i;
    rules.push(left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sep}` : `-j ${sep}`);
  });
  return rules;
}

function refuse(p: ServicePortView): string {
  // Endpoints exist elsewhere but a Local policy leaves none here: drop (the client may retry another node).
  // No endpoints at all: reject at once (connection refused, not a timeout: k/k#17359).
  return p.hasAnyEndpoints ? 'DROP' : 'REJECT';
}

function sameTargets(a: readonly EndpointTarget[], b: readonly EndpointTarget[]): boolean {
  return a.length === b.length && a.every((e, i) => e.ip === b[i]!.ip && e.port === b[i]!.port);
}

function planInternal(d: IptDesired, fam: Fam, p: ServicePortView, opts: IptPlanOptions): void {
  const match = `-d ${p.clusterIP}${fam.host} ${l4(p, p.port)}`;
  if (p.internalEndpoints.length === 0) {
    d.filter.get('PODNET-REJECT')!.push(`${match} ${comment(p)} -j ${refuse(p)}`);
    return;
  }
  const masq = opts.masqueradeAll ? [`${match} -j PODNET-MARK-MASQ`] : opts.clusterCIDRs.map((c) => `! -s ${c} ${match} -j PODNET-MARK-MASQ`);
  d.nat.set(svcChain(p), [...masq, ...dispatch(d, fam, p, p.internalEndpoints)]);
  d.nat.get('PODNET-SERVICES')!.push(`${match} ${comment(p)} -j ${svcChain(p)}`);
}

function externalRules(d: IptDesired, fam: Fam, p: ServicePortView): string[] {
  if (!p.externalLocal) {
    const shared = p.internalEndpoints.length > 0 && sameTargets(p.internalEndpoints, p.externalEndpoints);
    return ['-j PODNET-MARK-MASQ', ...(shared ? [`-j ${svcChain(p)}`] : dispatch(d, fam, p, p.externalEndpoints))];
  }
  // ETP Local keeps the client's address; the node's own traffic is masqueraded and may use any endpoint
  // (kube-proxy's short-circuit), otherwise a node could not reach its own LB IPs.
  const local = !p.internalLocal && p.internalEndpoints.length > 0
    ? ['-m addrtype --src-type LOCAL -j PODNET-MARK-MASQ', `-m addrtype --src-type LOCAL -j ${svcChain(p)}`] : [];
  return [...local, ...dispatch(d, fam, p, p.externalEndpoints)];
}

function planExternal(d: IptDesired, fam: Fam, p: ServicePortView, nodePortIPs: readonly string[]): void {
  const addrs = [...p.externalIPs, ...p.loadBalancerIPs];
  if (addrs.length === 0 && p.nodePort === 0) return;
  const reject = d.filter.get('PODNET-REJECT')!;
  const services = d.nat.get('PODNET-SERVICES')!;
  if (p.externalEndpoints.length === 0) {
    for (const ip of addrs) reject.push(`-d ${ip}${fam.host} ${l4(p, p.port)} ${comment(p)} -j ${refuse(p)}`);
    for (const ip of p.nodePort > 0 ? nodePortIPs : []) reject.push(`-d ${ip}${fam.host} ${l4(p, p.nodePort)} ${comment(p)} -j ${refuse(p)}`);
    return;
  }
  d.nat.set(extChain(p), externalRules(d, fam, p));
  const firewalled = p.sourceRanges.length > 0;
  if (firewalled && p.loadBalancerIPs.length > 0) d.nat.set(fwChain(p), p.sourceRanges.map((r) => `-s ${r} -j ${extChain(p)}`));
  for (const ip of p.externalIPs) services.push(`-d ${ip}${fam.host} ${l4(p, p.port)} ${comment(p)} -j ${extChain(p)}`);
  for (const ip of p.loadBalancerIPs) {
    const m = `-d ${ip}${fam.host} ${l4(p, p.port)} ${comment(p)}`;
    services.push(`${m} -j ${firewalled ? fwChain(p) : extChain(p)}`);
    // Refused sources were not DNATed: their destination is still the LB IP here.
    if (firewalled) d.filter.get('PODNET-FIREWALL')!.push(`${m} -j DROP`);
  }
  if (p.nodePort > 0) d.nat.get('PODNET-NODEPORTS')!.push(`${l4(p, p.nodePort)} ${comment(p)} -j ${extChain(p)}`);
}

/** The desired PODNET-* chains of one family. Pure: same model → same data. */
export function planIptables(model: ServiceModel, family: IPFamily, opts: IptPlanOptions): IptDesired {
  const fam = FAMILIES[family];
  const d: IptDesired = {
    nat: new Map([
      ['PODNET-SERVICES', []],
      ['PODNET-NODEPORTS', []],
      ['PODNET-POSTROUTING', [`-m mark ! --mark ${MASQ_MARK} -j RETURN`, '-j MARK --xor-mark 0x4000', '-j MASQUERADE --random-fully']],
      ['PODNET-MARK-MASQ', ['-j MARK --or-mark 0x4000']],
    ]),
    // Only new flows: an established flow's packets were DNATed already (or never were ours).
    filter: new Map([['PODNET-REJECT', ['-m conntrack ! --ctstate NEW -j RETURN', '-j PODNET-FIREWALL']], ['PODNET-FIREWALL', []]]),
    clusterIPs: [],
  };
  const famOpts = { ...opts, clusterCIDRs: opts.clusterCIDRs.filter((c) => c.includes(':') === (family === 'IPv6')) };
  const clusterIPs = new Set<string>();
  for (const p of model.ports) {
    if (p.family !== family) continue;
    clusterIPs.add(p.clusterIP);
    planInternal(d, fam, p, famOpts);
    planExternal(d, fam, p, model.nodePortIPs[family]);
  }
  // NodePorts only on the chosen node addresses (never localhost), last in PODNET-SERVICES like kube-proxy.
  for (const ip of model.nodePortIPs[family]) d.nat.get('PODNET-SERVICES')!.push(`-d ${ip}${fam.host} -j PODNET-NODEPORTS`);
  d.filter.get('PODNET-REJECT')!.push(`-m set --match-set ${clusterIPSet(family)} dst -m comment --comment "unused port" -j REJECT`);
  d.clusterIPs = [...clusterIPs].sort();
  return d;
}
