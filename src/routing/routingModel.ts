/**
 * @module routing/routingModel — the data the routing planner produces and the applier consumes: plain objects
 * naming the kernel state podnet wants for the pod network between nodes. No I/O here.
 */
import type { IpFamily } from '../common/ipAddress.ts';
import { ROUTE_PROTO } from '../common/routeProtocols.ts';

/** Routes podnet's routing part installs carry this `rtm_protocol`, so the applier finds (and only touches) its own
 * (the table of all of podnet's numbers is common/routeProtocols.ts). */
export const ROUTING_ROUTE_PROTO = ROUTE_PROTO.routing;

/** The devices podnet's routing may create. Every name here is podnet's: a device of these names that the current
 * backend does not want is removed, so switching backends leaves no orphan. */
export const VXLAN_DEVICE = 'podnet.1';
export const IPIP_DEVICE = 'podnet.ipip';
export const OWNED_DEVICES = [VXLAN_DEVICE, IPIP_DEVICE] as const;
export type OwnedDevice = (typeof OWNED_DEVICES)[number];

export const DEFAULT_VNI = 1;
/** The Linux kernel's historical VXLAN port (flannel's default); IANA's 4789 is configurable with --port. */
export const DEFAULT_VXLAN_PORT = 8472;

export type BackendName = 'vxlan' | 'host-gw' | 'cross-subnet' | 'ipip';

/** What this node knows about itself once its Node object and uplink are read. */
export interface LocalNode {
  name: string;
  /** The underlay address other nodes reach this one at (VXLAN/IPIP outer source). */
  endpoint: string;
  endpointFamily: IpFamily;
  uplink: { name: string; index: number; mtu: number; prefixLen: number };
  /**
   * Dual-stack underlay: this node's InternalIP of the other family, held on the uplink (host-gw routes a pod CIDR
   * via a node address of the pod CIDR's family; tunnels carry both families over `endpoint`).
   */
  otherFamilyAddress?: { address: string; prefixLen: number };
  /** Pod CIDRs leased to this node (one per family). */
  podCidrs: string[];
  vtepMac: string;
}

/** A remote node as the planner needs it, parsed from its Node object. */
export interface PeerNode {
  name: string;
  endpoint: string;
  endpointFamily: IpFamily;
  /** The peer's InternalIP of the other family, when it has one (dual-stack underlay). */
  otherFamilyAddress?: string;
  podCidrs: string[];
  backend: string | undefined;
  vni: number | undefined;
  port: number | undefined;
  vtepMac: string | undefined;
}

export interface RoutingSettings {
  backend: BackendName;
  vni: number;
  port: number;
}

export interface DesiredVxlan {
  kind: 'vxlan';
  name: typeof VXLAN_DEVICE;
  vni: number;
  port: number;
  local: string;
  /** Index of the uplink the tunnel is pinned to. */
  uplinkIndex: number;
  mtu: number;
  mac: string;
}

export interface DesiredIpip {
  kind: 'ipip';
  name: typeof IPIP_DEVICE;
  local: string;
  uplinkIndex: number;
  mtu: number;
}

export type DesiredLink = DesiredVxlan | DesiredIpip;

export interface DesiredNeighbour {
  address: string;
  lladdr: string;
}

export interface DesiredFdb {
  lladdr: string;
  /** Remote VTEP (the peer's tunnel endpoint). */
  dst: string;
}

export interface DesiredRoute {
  dst: string;
  gateway: string;
  /** `tunnel`: over podnet's device (index known only once it exists); a number: that link (the uplink). */
  dev: 'tunnel' | number;
  onlink: boolean;
}

/** Everything podnet's routing owns in one namespace. Neighbours and FDB entries live on the tunnel device. */
export interface DesiredState {
  link: DesiredLink | undefined;
  /** Addresses on the tunnel device, with prefix ("10.244.1.0/32"). */
  addresses: string[];
  neighbours: DesiredNeighbour[];
  fdb: DesiredFdb[];
  routes: DesiredRoute[];
}

/** A remote node the planner could not program, with the reason; logged naming both nodes. */
export interface PeerProblem {
  node: string;
  code: 'notReady' | 'backendMismatch' | 'vniMismatch' | 'portMismatch' | 'familyMismatch' | 'notOnSegment'
    | 'duplicateMac' | 'overlappingCidr' | 'badAnnotation';
  message: string;
}

export interface RoutingPlan {
  desired: DesiredState;
  problems: PeerProblem[];
  /** MTU pods on this node should use (uplink minus encapsulation). */
  podMtu: number;
  /** Remote nodes programmed. */
  peers: string[];
}

export function emptyDesiredState(): DesiredState {
  return { link: undefined, addresses: [], neighbours: [], fdb: [], routes: [] };
}
