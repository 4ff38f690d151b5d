/**
 * @module lab/addressPlan — who is where in a lab: namespaces, underlay addresses, gateways, cluster ranges.
 *
 * Pure: the same options always give the same plan, so `lab status` and `lab down` can recompute what `lab up`
 * built, and later issues (podnetd, kubelet, tests) read addresses from here instead of hard-coding them.
 * The address plan is a contract (design §3):
 *   underlay 198.18.0.0/24 (RFC 2544 benchmarking range), gateway .1, client .2, node i at .(10+i);
 *   cross-subnet: the second half of the nodes on 198.18.1.0/24 (gateway 198.18.1.1), joined by a router;
 *   IPv6 underlay on every host, always: segment A fd00:198:18::/64, segment B fd00:198:18:1::/64, the same host
 *   parts written as hex digits that read like the IPv4 ones (gateway ::1, client ::2, node i ::(10+i): n1 ::11);
 *   cluster CIDR 10.244.0.0/16, service CIDR 10.96.0.0/16, DNS 10.96.0.10, L2 pool 198.18.0.200-198.18.0.250;
 *   with `--ip-family dual` also the IPv6 cluster CIDR fd00:10:244::/56 (a /64 per node) and service CIDR
 *   fd00:10:96::/112 (kubeadm's dual-stack shape: IPv4 primary, IPv6 second).
 */
import { UsageError } from '../common/cli.ts';
import { labPrefix } from './labNames.ts';

export const LAB_ROUTINGS = ['none', 'vxlan', 'host-gw', 'cross-subnet', 'bgp'] as const;
export type LabRouting = (typeof LAB_ROUTINGS)[number];
export const LAB_STORES = ['file', 'etcd'] as const;
export type LabStoreKind = (typeof LAB_STORES)[number];
export const LAB_PROXY_MODES = ['nftables', 'iptables'] as const;
export type LabProxyMode = (typeof LAB_PROXY_MODES)[number];

export const LAB_IP_FAMILIES = ['ipv4', 'dual'] as const;
export type LabIpFamily = (typeof LAB_IP_FAMILIES)[number];

export const MAX_NODES = 100;

export interface LabOptions {
  name: string;
  nodes: number;
  routing: LabRouting;
  store: LabStoreKind;
  /** The nodes' service proxy mode (agent config `proxy.mode`); default nftables. */
  proxyMode?: LabProxyMode;
  /** The cluster's pod and service families (the underlay is always dual-stack); default ipv4. */
  ipFamily?: LabIpFamily;
}

/** One L2 segment of the underlay: a bridge in the fabric namespace. */
export interface LabSegment {
  bridge: string;
  subnet: string;
  prefixLen: number;
  /** The segment's default gateway: the fabric bridge itself (flat) or the router (cross-subnet). */
  gateway: string;
  /** The segment's IPv6 prefix (`fd00:198:18::`), its length (64) and IPv6 gateway (same host as `gateway`). */
  subnet6: string;
  prefixLen6: number;
  gateway6: string;
}

export interface LabInterface {
  dev: string;
  address: string;
  prefixLen: number;
  /** The IPv6 underlay address of the same interface (every lab host is dual-stack on the underlay). */
  address6: string;
  prefixLen6: number;
  /** Bridge (segment) this interface is plugged into, and the name of its port in the fabric namespace. */
  bridge: string;
  fabricPort: string;
}

export type LabHostRole = 'node' | 'client' | 'router';

export interface LabHost {
  /** Short name: `n1`, `client`, `router`; the namespace is `<lab>-<id>`. */
  id: string;
  role: LabHostRole;
  ns: string;
  interfaces: LabInterface[];
  /** Default gateway; absent on the router, which owns the gateways. */
  gateway?: string;
  /** IPv6 default gateway; absent exactly when `gateway` is. */
  gateway6?: string;
  forwarding: boolean;
}

export interface ClusterRanges {
  clusterCidr: string;
  nodeCidrPrefixLen: number;
  serviceCidr: string;
  dnsIp: string;
  l2Pool: { first: string; last: string };
  /** Dual-stack clusters only: the IPv6 cluster CIDR, its per-node subnet length and the IPv6 service CIDR. */
  clusterCidr6?: string;
  nodeCidrPrefixLen6?: number;
  serviceCidr6?: string;
}

export interface LabPlan {
  options: LabOptions;
  fabricNs: string;
  /** Address the fabric namespace holds on br0 (flat topology: the gateway), or none (cross-subnet). */
  fabricAddress?: { bridge: string; address: string; prefixLen: number; address6: string; prefixLen6: number };
  segments: LabSegment[];
  /** Nodes first (n1..nN), then the client, then the router if any. */
  hosts: LabHost[];
  cluster: ClusterRanges;
}

export const DUAL_STACK_RANGES = { clusterCidr6: 'fd00:10:244::/56', nodeCidrPrefixLen6: 64, serviceCidr6: 'fd00:10:96::/112' } as const;

/** Cluster CIDRs, primary (IPv4) first: what `--cluster-cidr` would say. */
export function clusterCidrsOf(c: ClusterRanges): string[] {
  return c.clusterCidr6 ? [c.clusterCidr, c.clusterCidr6] : [c.clusterCidr];
}

/** Service CIDRs, primary (IPv4) first: what `--service-cluster-ip-range` would say. */
export function serviceCidrsOf(c: ClusterRanges): string[] {
  return c.serviceCidr6 ? [c.serviceCidr, c.serviceCidr6] : [c.serviceCidr];
}

export const CLUSTER_RANGES: ClusterRanges = {
  clusterCidr: '10.244.0.0/16',
  nodeCidrPrefixLen: 24,
  serviceCidr: '10.96.0.0/16',
  dnsIp: '10.96.0.10',
  l2Pool: { first: '198.18.0.200', last: '198.18.0.250' },
};

const SEGMENT_A: LabSegment = { bridge: 'br0', subnet: '198.18.0.0', prefixLen: 24, gateway: '198.18.0.1',
  subnet6: 'fd00:198:18::', prefixLen6: 64, gateway6: 'fd00:198:18::1' };
const SEGMENT_B: LabSegment = { bridge: 'br1', subnet: '198.18.1.0', prefixLen: 24, gateway: '198.18.1.1',
  subnet6: 'fd00:198:18:1::', prefixLen6: 64, gateway6: 'fd00:198:18:1::1' };
const CLIENT_HOST_PART = 2;
const NODE_HOST_BASE = 10;

export function validateLabOptions(o: LabOptions): LabOptions {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) {
    throw new UsageError(`--nodes: must be an integer from 1 to ${MAX_NODES}, got ${o.nodes}`);
  }
  if (!(LAB_ROUTINGS as readonly string[]).includes(o.routing)) {
    throw new UsageError(`--routing: must be one of ${LAB_ROUTINGS.join(', ')}, got "${o.routing}"`);
  }
  if (!(LAB_STORES as readonly string[]).includes(o.store)) {
    throw new UsageError(`--store: must be one of ${LAB_STORES.join(', ')}, got "${o.store}"`);
  }
  if (o.proxyMode !== undefined && !(LAB_PROXY_MODES as readonly string[]).includes(o.proxyMode)) {
    throw new UsageError(`--proxy-mode: must be one of ${LAB_PROXY_MODES.join(', ')}, got "${o.proxyMode}"`);
  }
  if (o.ipFamily !== undefined && !(LAB_IP_FAMILIES as readonly string[]).includes(o.ipFamily)) {
    throw new UsageError(`--ip-family: must be one of ${LAB_IP_FAMILIES.join(', ')}, got "${o.ipFamily}"`);
  }
  if (o.routing === 'cross-subnet' && o.nodes < 2) {
    throw new UsageError('--routing cross-subnet needs at least 2 nodes (one per subnet)');
  }
  return o;
}

function hostAddress(segment: LabSegment, hostPart: number): string {
  return segment.subnet.replace(/\.0$/, `.${hostPart}`);
}

/** Host part h as the IPv6 interface id written with the same digits (`::11` for .11): easy to read side by side. */
function hostAddress6(segment: LabSegment, hostPart: number): string {
  return `${segment.subnet6}${hostPart}`;
}

function plug(segment: LabSegment, dev: string, hostPart: number, fabricPort: string): LabInterface {
  return { dev, address: hostAddress(segment, hostPart), prefixLen: segment.prefixLen,
    address6: hostAddress6(segment, hostPart), prefixLen6: segment.prefixLen6, bridge: segment.bridge, fabricPort };
}

/** Segment of node i (1-based): all on A, or with cross-subnet the first ⌈N/2⌉ on A and the rest on B. */
export function nodeSegment(o: LabOptions, i: number): LabSegment {
  if (o.routing !== 'cross-subnet') return SEGMENT_A;
  return i <= Math.ceil(o.nodes / 2) ? SEGMENT_A : SEGMENT_B;
}

export function planLab(options: LabOptions): LabPlan {
  const o = validateLabOptions(options);
  const ns = (id: string) => `${labPrefix(o.name)}${id}`;
  const crossSubnet = o.routing === 'cross-subnet';
  const segments = crossSubnet ? [SEGMENT_A, SEGMENT_B] : [SEGMENT_A];
  const hosts: LabHost[] = [];
  for (let i = 1; i <= o.nodes; i++) {
    const seg = nodeSegment(o, i);
    const id = `n${i}`;
    hosts.push({ id, role: 'node', ns: ns(id), interfaces: [plug(seg, 'eth0', NODE_HOST_BASE + i, id)],
      gateway: seg.gateway, gateway6: seg.gateway6, forwarding: true });
  }
  hosts.push({ id: 'client', role: 'client', ns: ns('client'),
    interfaces: [plug(SEGMENT_A, 'eth0', CLIENT_HOST_PART, 'client')], gateway: SEGMENT_A.gateway,
    gateway6: SEGMENT_A.gateway6, forwarding: false });
  if (crossSubnet) {
    hosts.push({ id: 'router', role: 'router', ns: ns('router'), forwarding: true,
      interfaces: [plug(SEGMENT_A, 'eth0', 1, 'router0'), plug(SEGMENT_B, 'eth1', 1, 'router1')] });
  }
  const plan: LabPlan = { options: o, fabricNs: ns('fabric'), segments, hosts,
    cluster: o.ipFamily === 'dual' ? { ...CLUSTER_RANGES, ...DUAL_STACK_RANGES } : CLUSTER_RANGES };
  if (!crossSubnet) {
    plan.fabricAddress = { bridge: SEGMENT_A.bridge, address: SEGMENT_A.gateway, prefixLen: SEGMENT_A.prefixLen,
      address6: SEGMENT_A.gateway6, prefixLen6: SEGMENT_A.prefixLen6 };
  }
  return plan;
}

/** Every namespace of the plan, fabric first (it must exist before veth peers are moved into the others). */
export function planNamespaces(plan: LabPlan): string[] {
  return [plan.fabricNs, ...plan.hosts.map((h) => h.ns)];
}

export function nodesOf(plan: LabPlan): LabHost[] {
  return plan.hosts.filter((h) => h.role === 'node');
}

/** The underlay address of a host (its first interface). */
export function primaryAddress(h: LabHost): string {
  return h.interfaces[0]!.address;
}

/** The IPv6 underlay address of a host (its first interface). */
export function primaryAddress6(h: LabHost): string {
  return h.interfaces[0]!.address6;
}
