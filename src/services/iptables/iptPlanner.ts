/**
 * @module services/iptables/iptPlanner — service model → PODNET-* chains for iptables-restore, as data.
 *
 * The fallback for kernels without nftables. Same structure as kube-proxy's iptables mode: PODNET-SERVICES
 * dispatches on destination (O(services) per new connection — the reason nftables is the default), a chain per
 * service port (PODNET-SVC-*) chooses an endpoint with `statistic --probability 1/(N-i)`, a chain per endpoint
 * (PODNET-SEP-*) DNATs. Services without endpoints are REJECTed from the filter table (PODNET-REJECT).
 * Names: prefix + 16 hex digits of a hash (iptables chain names are limited to 28 characters).
 */
import type { ServiceModel, ServicePortView, EndpointTarget } from '../serviceModel.ts';
import { shortHash } from '../nftables/nftNames.ts';

export interface IptDesired {
  /** table → chain → rules (each rule is the argument text after `-A CHAIN`). */
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
}

export const MASQ_MARK = '0x4000/0x4000';

function hash16(text: string): string {
  return `${shortHash(text)}${shortHash(`${text}#`)}`;
}
export const svcChain = (p: ServicePortView) => `PODNET-SVC-${hash16(p.id)}`;
export const extChain = (p: ServicePortView) => `PODNET-EXT-${hash16(p.id)}`;
export const sepChain = (p: ServicePortView, e: EndpointTarget) => `PODNET-SEP-${hash16(`${p.id}|${e.ip}|${e.port}`)}`;

function comment(p: ServicePortView): string {
  return `-m comment --comment "${p.namespace}/${p.name}:${p.portName}"`;
}

function dispatch(d: IptDesired, p: ServicePortView, eps: readonly EndpointTarget[]): string[] {
  const proto = p.protocol.toLowerCase();
  return eps.map((e, i) => {
    const sep = sepChain(p, e);
    if (!d.nat.has(sep)) {
      d.nat.set(sep, [`-s ${e.ip}/32 -j PODNET-MARK-MASQ`, `-p ${proto} -m ${proto} -j DNAT --to-destination ${e.ip}:${e.port}`]);
    }
    const left = eps.length - i;
    return left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sep}` : `-j ${sep}`;
  });
}

function rejectRule(match: string, p: ServicePortView): string {
  return `${match} ${comment(p)} -j ${p.hasAnyEndpoints ? 'DROP' : 'REJECT'}`;
}

function planPort(d: IptDesired, p: ServicePortView, clusterCIDRs: string[]): void {
  const proto = p.protocol.toLowerCase();
  const services = d.nat.get('PODNET-SERVICES')!;
  const match = `-d ${p.clusterIP}/32 -p ${proto} -m ${proto} --dport ${p.port}`;
  if (p.internalEndpoints.length > 0) {
    const masq = clusterCIDRs.map((c) => `! -s ${c} ${match} -j PODNET-MARK-MASQ`);
    d.nat.set(svcChain(p), [...masq, ...dispatch(d, p, p.internalEndpoints)]);
    services.push(`${match} ${comment(p)} -j ${svcChain(p)}`);
  } else {
    d.filter.get('PODNET-REJECT')!.push(rejectRule(match, p));
  }
  const addrs = [...p.externalIPs, ...p.loadBalancerIPs];
  if (addrs.length === 0 && p.nodePort === 0) return;
  const ext = p.externalEndpoints.length > 0;
  if (ext) d.nat.set(extChain(p), ['-j PODNET-MARK-MASQ', ...dispatch(d, p, p.externalEndpoints)]);
  for (const ip of addrs) {
    const m = `-d ${ip}/32 -p ${proto} -m ${proto} --dport ${p.port}`;
    if (ext) services.push(`${m} ${comment(p)} -j ${extChain(p)}`);
    else d.filter.get('PODNET-REJECT')!.push(rejectRule(m, p));
  }
  if (p.nodePort > 0) {
    const m = `-p ${proto} -m ${proto} --dport ${p.nodePort}`;
    if (ext) d.nat.get('PODNET-NODEPORTS')!.push(`${m} ${comment(p)} -j ${extChain(p)}`);
    else d.filter.get('PODNET-REJECT')!.push(rejectRule(`-m addrtype --dst-type LOCAL ${m}`, p));
  }
}

export function planIptables(model: ServiceModel, opts: { clusterCIDRs: string[] }): IptDesired {
  const d: IptDesired = {
    nat: new Map([
      ['PODNET-SERVICES', []],
      ['PODNET-NODEPORTS', []],
      ['PODNET-POSTROUTING', ['-m mark ! --mark 0x4000/0x4000 -j RETURN', '-j MARK --xor-mark 0x4000', '-j MASQUERADE --random-fully']],
      ['PODNET-MARK-MASQ', ['-j MARK --or-mark 0x4000']],
    ]),
    filter: new Map([['PODNET-REJECT', []]]),
  };
  const cidrs = opts.clusterCIDRs.filter((c) => !c.includes(':'));
  for (const p of model.ports) if (p.family === 'IPv4') planPort(d, p, cidrs);
  // NodePorts only on the chosen node addresses (never localhost), last in PODNET-SERVICES like kube-proxy.
  for (const ip of model.nodePortIPs.IPv4) d.nat.get('PODNET-SERVICES')!.push(`-d ${ip}/32 -j PODNET-NODEPORTS`);
  return d;
}
