/**
 * @module lab/addressPlan — who is where in a lab: namespaces, underlay addresses, gateways, cluster ranges.
 *
 * Pure: the same options always give the same plan, so `lab status` and `lab down` can recompute what `lab up`
 * built, and later issues (podnetd, kubelet, tests) read addresses from here instead of hard-coding them.
 * The address plan is a contract (design §3):
 *   underlay 198.18.0.0/24 (RFC 2544 benchmarking range), gateway .1, client .2, node i at .(10+i);
 *   cross-subnet: the second half of the nodes on 198.18.1.0/24 (gateway 198.18.1.1), joined by a router;
 *   cluster CIDR 10.244.0.0/16, service CIDR 10.96.0.0/16, DNS 10.96.0.10, L2 pool 198.18.0.200-198.18.0.250.
 */
import { UsageError } from '../common/cli.ts';
import { labPrefix } from './labNames.ts';

export const LAB_ROUTINGS = ['none', 'vxlan', 'host-gw', 'cross-subnet', 'bgp'] as const;
export type LabRouting = (typeof LAB_ROUTINGS)[number];
export const LAB_STORES = ['file', 'etcd'] as const;
export type LabStoreKind = (typeof LAB_STORES)[number];

export const MAX_NODES = 100;

export interface LabOptions {
  name: string;
  nodes: number;
  routing: LabRouting;
  store: LabStoreKind;
}

/** One L2 segment of the underlay: a bridge in the fabric namespace. */
export interface LabSegment {
  bridge: string;
  subnet: string;
  prefixLen: number;
  /** The segment's default gateway: the fabric bridge itself (flat) or the router (cross-subnet). */
  gateway: string;
}

export interface LabInterface {
  dev: string;
  address: string;
  prefixLen: number;
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
  forwarding: boolean;
}

export interface ClusterRanges {
  clusterCidr: string;
  nodeCidrPrefixLen: number;
  serviceCidr: string;
  dnsIp: string;
  l2Pool: { first: string; last: string };
}

export interface LabPlan {
  options: LabOptions;
  fabricNs: string;
  /** Address the fabric namespace holds on br0 (flat topology: the gateway), or none (cross-subnet). */
  fabricAddress?: { bridge: string; address: string; prefixLen: number };
  segments: LabSegment[];
  /** Nodes first (n1..nN), then the client, then the router if any. */
  hosts: LabHost[];
  cluster: ClusterRanges;
}

export const CLUSTER_RANGES: ClusterRanges = {
  clusterCidr: '10.244.0.0/16',
  nodeCidrPrefixLen: 24,
  serviceCidr: '10.96.0.0/16',
  dnsIp: '10.96.0.10',
  l2Pool: { first: '198.18.0.200', last: '198.18.0.250' },
};

const SEGMENT_A: LabSegment = { bridge: 'br0', subnet: '198.18.0.0', prefixLen: 24, gateway: '198.18.0.1' };
const SEGMENT_B: LabSegment = { bridge: 'br1', subnet: '198.18.1.0', prefixLen: 24, gateway: '198.18.1.1' };
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
  if (o.routing === 'cross-subnet' && o.nodes < 2) {
    throw new UsageError('--routing cross-subnet needs at least 2 nodes (one per subnet)');
  }
  return o;
}

function hostAddress(segment: LabSegment, hostPart: number): string {
  return segment.subnet.replace(/\.0$/, `.${hostPart}`);
}

function plug(segment: LabSegment, dev: string, hostPart: number, fabricPort: string): LabInterface {
  return { dev, address: hostAddress(segment, hostPart), prefixLen: segment.prefixLen, bridge: segment.bridge, fabricPort };
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
      gateway: seg.gateway, forwarding: true });
  }
  hosts.push({ id: 'client', role: 'client', ns: ns('client'),
    interfaces: [plug(SEGMENT_A, 'eth0', CLIENT_HOST_PART, 'client')], gateway: SEGMENT_A.gateway, forwarding: false });
  if (crossSubnet) {
    hosts.push({ id: 'router', role: 'router', ns: ns('router'), forwarding: true,
      interfaces: [plug(SEGMENT_A, 'eth0', 1, 'router0'), plug(SEGMENT_B, 'eth1', 1, 'router1')] });
  }
  const plan: LabPlan = { options: o, fabricNs: ns('fabric'), segments, hosts, cluster: CLUSTER_RANGES };
  if (!crossSubnet) plan.fabricAddress = { bridge: SEGMENT_A.bridge, address: SEGMENT_A.gateway, prefixLen: 24 };
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
