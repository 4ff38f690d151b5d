/**
 * @module cni/attachmentPlan — what an ADD builds, as plain data, and the CNI result that describes it. Pure.
 *
 * routed (default, Calico-style): the pod gets /32 and /128 addresses and reaches everything through a link-local
 * gateway, 169.254.1.1 (answered by proxy ARP on the host veth, so no per-node gateway address exists anywhere)
 * and fe80::1 (put on the host veth, without DAD, so the pod's first packet needs no wait). The node routes
 * `<podIP>/32 dev pnX`. No bridge and no L2 between pods: every pod-to-pod packet is routed by the node.
 * bridge (flannel/reference-bridge style): the pod gets its subnet prefix, the bridge carries the gateway address.
 */
import { ROUTED_HOST_MAC, derivedMac, hostVethAlias, hostVethName } from './attachmentNames.ts';
import type { CniInterface, CniIpConfig, CniResult, CniRoute } from './cniTypes.ts';
import type { PodnetConf } from './netConf.ts';
import type { IpFamily as Family } from '../common/ipAddress.ts';
import { canonicalPrefix, tryParsePrefix } from '../common/ipPrefix.ts';
import { ROUTE_PROTO } from '../common/routeProtocols.ts';

export const LINK_LOCAL_GW4 = '169.254.1.1';
export const LINK_LOCAL_GW6 = 'fe80::1';
/** Route protocol number on the host routes the CNI adds, so they are recognisably ours (common/routeProtocols.ts). */
export const PODNET_ROUTE_PROTO = ROUTE_PROTO.cni;

export interface PodRoute { dst: string; via?: string; scopeLink?: boolean }

export interface AttachmentPlan {
  mode: PodnetConf['mode'];
  podNetns: string;
  podIfname: string;
  podMac: string;
  hostIfname: string;
  hostMac: string;
  /** Tags the host veth as this network's (see hostVethAlias). */
  hostAlias: string;
  mtu: number;
  /** CIDRs as they go on the pod interface. */
  podAddresses: string[];
  podRoutes: PodRoute[];
  podSysctls: Record<string, string>;
  /**
   * Routed: a permanent neighbour 169.254.1.1 → the host veth's MAC. proxy ARP answers only when the node has a
   * route to 169.254.1.1 through another interface (Calico relies on the node's default route); the static entry
   * works on a node without one and saves the pod's first ARP round trip.
   */
  podNeighbours: Array<{ ip: string; mac: string }>;
  /** Routed: `<podIP>/32|128 dev hostIfname`; bridge: none (the bridge's connected route covers it). */
  hostRoutes: string[];
  /** Routed: fe80::1/64 when the pod has IPv6; bridge: none. */
  hostAddresses: string[];
  hostSysctls: Record<string, string>;
  families: Family[];
  bridge?: { name: string; mac: string; gatewayCidrs: string[]; hairpin: boolean };
  masq?: { podIps: string[]; exceptCidrs: string[]; comment: string };
}

export interface PlanInput {
  conf: PodnetConf;
  containerId: string;
  ifname: string;
  netns: string;
  mtu: number;
  /** The IPAM result (abbreviated: ips with gateway, routes, dns). */
  ipam: CniResult;
  /** Cluster CIDRs for ipMasq (conf, else node state); empty = the pod subnets. */
  clusterCIDRs: string[];
}

const familyOf = (cidr: string): Family => (cidr.includes(':') ? 6 : 4);
const defaultDst = (f: Family) => (f === 4 ? '0.0.0.0/0' : '::/0');

function podRoutesFor(input: PlanInput, gateways: Map<Family, string>, routed: boolean): PodRoute[] {
  const routes: PodRoute[] = [];
  if (routed && gateways.has(4)) routes.push({ dst: `${LINK_LOCAL_GW4}/32`, scopeLink: true });
  for (const [f, gw] of gateways) routes.push({ dst: defaultDst(f), via: gw });
  for (const r of input.ipam.routes ?? []) {
    const f = familyOf(r.dst);
    const gw = routed ? gateways.get(f) : (r.gw ?? gateways.get(f));
    if (!gw || routes.some((x) => x.dst === r.dst || (tryParsePrefix(r.dst, { hostBits: 'keep' })?.prefixLen === 0 && x.dst === defaultDst(f)))) continue;
    routes.push({ dst: r.dst, via: gw });
  }
  return routes;
}

export function planAttachment(input: PlanInput): AttachmentPlan {
  const { conf, containerId, ifname } = input;
  const routed = conf.mode === 'routed';
  const ipamIps = input.ipam.ips ?? [];
  const families = [...new Set(ipamIps.map((i) => familyOf(i.address)))];
  const gateways = new Map<Family, string>();
  for (const ip of ipamIps) {
    const f = familyOf(ip.address);
    if (!gateways.has(f)) {
      const gw = routed ? (f === 4 ? LINK_LOCAL_GW4 : LINK_LOCAL_GW6) : ip.gateway;
      if (gw) gateways.set(f, gw);
    }
  }
  const bare = ipamIps.map((i) => i.address.split('/')[0]!);
  const plan: AttachmentPlan = {
    mode: conf.mode,
    podNetns: input.netns,
    podIfname: ifname,
    podMac: conf.mac ?? derivedMac(`pod/${containerId}/${ifname}`),
    hostIfname: hostVethName(containerId, ifname),
    hostMac: routed ? ROUTED_HOST_MAC : derivedMac(`host/${containerId}/${ifname}`),
    hostAlias: hostVethAlias(conf.name, containerId, ifname),
    mtu: input.mtu,
    podAddresses: routed ? bare.map((a) => `${a}/${familyOf(a) === 4 ? 32 : 128}`) : ipamIps.map((i) => i.address),
    podRoutes: podRoutesFor(input, gateways, routed),
    podNeighbours: routed && families.includes(4) ? [{ ip: LINK_LOCAL_GW4, mac: ROUTED_HOST_MAC }] : [],
    podSysctls: Object.fromEntries(Object.entries(conf.sysctls).map(([k, v]) => [k.replaceAll('IFNAME', ifname), v])),
    hostRoutes: routed ? bare.map((a) => `${a}/${familyOf(a) === 4 ? 32 : 128}`) : [],
    hostAddresses: routed && families.includes(6) ? [`${LINK_LOCAL_GW6}/64`] : [],
    hostSysctls: {},
    families,
  };
  const host = plan.hostIfname;
  if (families.includes(4)) {
    plan.hostSysctls['net.ipv4.ip_forward'] = '1';
    if (routed) {
      plan.hostSysctls[`net.ipv4.conf.${host}.proxy_arp`] = '1';
      plan.hostSysctls[`net.ipv4.neigh.${host}.proxy_delay`] = '0';
    }
  }
  if (families.includes(6)) plan.hostSysctls['net.ipv6.conf.all.forwarding'] = '1';
  if (!routed) {
    plan.bridge = {
      name: conf.bridge, mac: derivedMac(`bridge/${conf.bridge}`), hairpin: conf.hairpinMode,
      gatewayCidrs: ipamIps.filter((i) => i.gateway).map((i) => `${i.gateway}/${i.address.split('/')[1]}`),
    };
  }
  if (conf.ipMasq) {
    const subnets = ipamIps.map((i) => canonicalPrefix(i.address));
    plan.masq = { podIps: bare, exceptCidrs: input.clusterCIDRs.length ? input.clusterCIDRs : subnets, comment: `${containerId}/${ifname}` };
  }
  return plan;
}

/** The ADD result: every interface made (host side without sandbox), addresses pointing at the pod interface. */
export function resultOf(plan: AttachmentPlan, ipam: CniResult): CniResult {
  const interfaces: CniInterface[] = [];
  if (plan.bridge) interfaces.push({ name: plan.bridge.name, mac: plan.bridge.mac, mtu: plan.mtu });
  interfaces.push({ name: plan.hostIfname, mac: plan.hostMac, mtu: plan.mtu });
  interfaces.push({ name: plan.podIfname, mac: plan.podMac, mtu: plan.mtu, sandbox: plan.podNetns });
  const podIndex = interfaces.length - 1;
  const ips: CniIpConfig[] = plan.podAddresses.map((address) => {
    const f = familyOf(address);
    const gw = plan.podRoutes.find((r) => r.dst === defaultDst(f))?.via;
    return { address, ...(gw ? { gateway: gw } : {}), interface: podIndex };
  });
  const routes: CniRoute[] = plan.podRoutes.map((r) => ({ dst: r.dst, ...(r.via ? { gw: r.via } : {}) }));
  return { interfaces, ips, routes, ...(ipam.dns && Object.keys(ipam.dns).length ? { dns: ipam.dns } : {}) };
}
