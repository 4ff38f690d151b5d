/**
 * @module netlink/rtnetlink/linkCodec — typed link specs ⇄ RTM_*LINK bodies, pure. Names, devices and namespaces
 * are already resolved to indexes and fds here (links.ts does that I/O), so every function is bytes in/out.
 */
import { ByteWriter } from '../byteWriter.ts';
import { AF_UNSPEC, IFF_LOWER_UP, IFF_UP, NLM_F_CREATE, NLM_F_EXCL, RTM_DELLINK, RTM_NEWLINK } from '../constants.ts';
import type { RawRequest } from '../netlinkWorkerPool.ts';
import { NetlinkEncodeError } from '../errors.ts';
import { requireIpFamily } from '../addressText.ts';
import { linkBody, type BridgeAttrs, type IptunAttrs, type LinkAttrs, type VxlanAttrs } from '../specs/linkSpec.ts';
import type { IfInfoMsg } from '../structs.ts';

/** Fields every created link may set. `master`/`dev` are names or indexes; `netns` creates it elsewhere. */
export interface LinkCommon {
  name: string;
  mtu?: number;
  mac?: string;
  up?: boolean;
  txqlen?: number;
  master?: string | number;
}

export interface VethSpec extends LinkCommon {
  kind: 'veth';
  peer: { name: string; mac?: string; mtu?: number; netns?: string | number; txqlen?: number };
}
export interface BridgeSpec extends LinkCommon {
  kind: 'bridge';
  stp?: boolean;
  vlanFiltering?: boolean;
  /** Seconds a learned MAC stays (the kernel stores centiseconds). */
  ageingSeconds?: number;
}
export interface VxlanSpec extends LinkCommon {
  kind: 'vxlan';
  vni: number;
  /** UDP destination port; the kernel's default is 8472 when omitted (iproute2 prints a warning and uses 4789 only if asked). */
  port?: number;
  local?: string;
  /** Unicast remote VTEP (IFLA_VXLAN_GROUP[6] too; the kernel tells them apart by address). */
  remote?: string;
  /** Multicast group. */
  group?: string;
  dev?: string | number;
  learning?: boolean;
  ttl?: number;
  tos?: number;
  ageingSeconds?: number;
  udpCsum?: boolean;
  udpZeroCsum6Tx?: boolean;
  udpZeroCsum6Rx?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
}
export interface IpipSpec extends LinkCommon {
  kind: 'ipip';
  local?: string;
  remote?: string;
  ttl?: number;
  dev?: string | number;
}
export type LinkCreateSpec = VethSpec | BridgeSpec | VxlanSpec | IpipSpec;

/** Indexes and fds the I/O layer resolved for a spec. */
export interface ResolvedRefs {
  master?: number;
  dev?: number;
  peerNetnsFd?: number;
  netnsFd?: number;
}

const flag = (b: boolean | undefined) => (b === undefined ? undefined : b ? 1 : 0);

export function vxlanData(spec: VxlanSpec, dev?: number): VxlanAttrs {
  if (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni > 0xffffff) throw new NetlinkEncodeError(`vxlan ${spec.name}: VNI must be 0..16777215, got ${spec.vni}`);
  const d: VxlanAttrs = { IFLA_VXLAN_ID: spec.vni };
  const remote = spec.remote ?? spec.group;
  if (remote) d[requireIpFamily(remote) === 4 ? 'IFLA_VXLAN_GROUP' : 'IFLA_VXLAN_GROUP6'] = remote;
  if (spec.local) d[requireIpFamily(spec.local) === 4 ? 'IFLA_VXLAN_LOCAL' : 'IFLA_VXLAN_LOCAL6'] = spec.local;
  if (dev !== undefined) d.IFLA_VXLAN_LINK = dev;
  if (spec.port !== undefined) d.IFLA_VXLAN_PORT = spec.port;
  d.IFLA_VXLAN_TTL = spec.ttl;
  d.IFLA_VXLAN_TOS = spec.tos;
  d.IFLA_VXLAN_LEARNING = flag(spec.learning);
  d.IFLA_VXLAN_AGEING = spec.ageingSeconds;
  d.IFLA_VXLAN_UDP_CSUM = flag(spec.udpCsum);
  d.IFLA_VXLAN_UDP_ZERO_CSUM6_TX = flag(spec.udpZeroCsum6Tx);
  d.IFLA_VXLAN_UDP_ZERO_CSUM6_RX = flag(spec.udpZeroCsum6Rx);
  d.IFLA_VXLAN_L2MISS = flag(spec.l2miss);
  d.IFLA_VXLAN_L3MISS = flag(spec.l3miss);
  return d;
}

function infoOf(spec: LinkCreateSpec, refs: ResolvedRefs): NonNullable<LinkAttrs['IFLA_LINKINFO']> {
  switch (spec.kind) {
    case 'veth': {
      const peer = spec.peer;
      const attrs: LinkAttrs = { IFLA_IFNAME: peer.name, IFLA_ADDRESS: peer.mac, IFLA_MTU: peer.mtu, IFLA_TXQLEN: peer.txqlen, IFLA_NET_NS_FD: refs.peerNetnsFd };
      return { IFLA_INFO_KIND: 'veth', IFLA_INFO_DATA: { VETH_INFO_PEER: { header: { ifi_family: AF_UNSPEC }, attrs } } };
    }
    case 'bridge': {
      const data: BridgeAttrs = {
        IFLA_BR_STP_STATE: flag(spec.stp),
        IFLA_BR_VLAN_FILTERING: flag(spec.vlanFiltering),
        IFLA_BR_AGEING_TIME: spec.ageingSeconds === undefined ? undefined : spec.ageingSeconds * 100,
      };
      return { IFLA_INFO_KIND: 'bridge', IFLA_INFO_DATA: data };
    }
    case 'vxlan':
      return { IFLA_INFO_KIND: 'vxlan', IFLA_INFO_DATA: vxlanData(spec, refs.dev) };
    case 'ipip': {
      const data: IptunAttrs = { IFLA_IPTUN_LOCAL: spec.local, IFLA_IPTUN_REMOTE: spec.remote, IFLA_IPTUN_TTL: spec.ttl, IFLA_IPTUN_LINK: refs.dev };
      for (const a of [spec.local, spec.remote]) if (a && requireIpFamily(a) !== 4) throw new NetlinkEncodeError(`ipip ${spec.name}: ${a} is not IPv4`);
      return { IFLA_INFO_KIND: 'ipip', IFLA_INFO_DATA: data };
    }
  }
}

/** RTM_NEWLINK body creating `spec` (flags NLM_F_CREATE|NLM_F_EXCL are the caller's). */
export function encodeLinkCreate(w: ByteWriter, spec: LinkCreateSpec, refs: ResolvedRefs = {}): void {
  if (!spec.name || spec.name.length > 15) throw new NetlinkEncodeError(`link name "${spec.name}" must be 1..15 characters`);
  const header: Partial<IfInfoMsg> = { ifi_family: AF_UNSPEC, ...(spec.up ? { ifi_flags: IFF_UP, ifi_change: IFF_UP } : {}) };
  linkBody.encode(w, header, {
    IFLA_IFNAME: spec.name,
    IFLA_ADDRESS: spec.mac,
    IFLA_MTU: spec.mtu,
    IFLA_TXQLEN: spec.txqlen,
    IFLA_MASTER: refs.master,
    IFLA_NET_NS_FD: refs.netnsFd,
    IFLA_LINKINFO: infoOf(spec, refs),
  });
}

/** A link named by name or index: the kernel accepts either in RTM_NEWLINK/DELLINK/GETLINK. */
export function linkSelector(link: string | number): { header: Partial<IfInfoMsg>; attrs: LinkAttrs } {
  return typeof link === 'number' ? { header: { ifi_index: link }, attrs: {} } : { header: { ifi_index: 0 }, attrs: { IFLA_IFNAME: link } };
}

export interface LinkChange {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Index of the new master; 0 or null detaches (nomaster). */
  master?: number | null;
  /** New name. */
  name?: string;
  netnsFd?: number;
  txqlen?: number;
}

/** RTM_NEWLINK body changing an existing link (no NLM_F_CREATE). */
export function encodeLinkChange(w: ByteWriter, link: string | number, change: LinkChange): void {
  const sel = linkSelector(link);
  if (change.name !== undefined && typeof link === 'string' && change.name !== link) {
    throw new NetlinkEncodeError(`renaming ${link}: identify the link by index to rename it`);
  }
  const header: Partial<IfInfoMsg> = { ...sel.header, ifi_family: AF_UNSPEC };
  if (change.up !== undefined) {
    header.ifi_flags = change.up ? IFF_UP : 0;
    header.ifi_change = IFF_UP;
  }
  linkBody.encode(w, header, {
    ...sel.attrs,
    ...(change.name !== undefined ? { IFLA_IFNAME: change.name } : {}),
    IFLA_MTU: change.mtu,
    IFLA_ADDRESS: change.mac,
    IFLA_MASTER: change.master === null ? 0 : change.master,
    IFLA_NET_NS_FD: change.netnsFd,
    IFLA_TXQLEN: change.txqlen,
  });
}

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

/** A link as podnet code uses it; `attrs` keeps everything decoded under kernel names. */
export interface Link {
  index: number;
  name: string;
  kind: string | undefined;
  flags: number;
  up: boolean;
  lowerUp: boolean;
  operState: string;
  mtu: number | undefined;
  mac: string | undefined;
  master: number | undefined;
  /** IFLA_LINK: the peer's index for a veth, the lower device for vxlan/macvlan. */
  parentIndex: number | undefined;
  /** Set when the peer/lower device lives in another namespace (its id as seen from here). */
  linkNetnsId: number | undefined;
  attrs: LinkAttrs;
}

export function decodeLink(payload: Uint8Array): Link {
  const { header, attrs } = linkBody.decode(payload);
  return {
    index: header.ifi_index,
    name: attrs.IFLA_IFNAME ?? '',
    kind: attrs.IFLA_LINKINFO?.IFLA_INFO_KIND,
    flags: header.ifi_flags,
    up: (header.ifi_flags & IFF_UP) !== 0,
    lowerUp: (header.ifi_flags & IFF_LOWER_UP) !== 0,
    operState: OPERSTATES[attrs.IFLA_OPERSTATE ?? 0] ?? String(attrs.IFLA_OPERSTATE),
    mtu: attrs.IFLA_MTU,
    mac: attrs.IFLA_ADDRESS,
    master: attrs.IFLA_MASTER || undefined,
    parentIndex: attrs.IFLA_LINK,
    linkNetnsId: attrs.IFLA_LINK_NETNSID,
    attrs,
  };
}

/** The vxlan attributes of a decoded link, or undefined when it is not a vxlan. */
export function vxlanInfo(link: Link): VxlanAttrs | undefined {
  const info = link.attrs.IFLA_LINKINFO;
  return info?.IFLA_INFO_KIND === 'vxlan' ? (info.IFLA_INFO_DATA as VxlanAttrs) : undefined;
}

/** Pre-encoded RTM_DELLINK for NetlinkWorkerPool.run. */
export function linkDeleteRequest(link: string | number): RawRequest {
  const w = new ByteWriter(64);
  const sel = linkSelector(link);
  linkBody.encode(w, sel.header, sel.attrs);
  return { type: RTM_DELLINK, body: w.finish(), what: `deleting link ${String(link)}` };
}

/** Pre-encoded RTM_NEWLINK (create, exclusive) for NetlinkWorkerPool.run; references must be resolved already. */
export function linkCreateRequest(spec: LinkCreateSpec, refs: ResolvedRefs = {}): RawRequest {
  const w = new ByteWriter(128);
  encodeLinkCreate(w, spec, refs);
  return { type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, body: w.finish(), what: `creating ${spec.kind} ${spec.name}` };
}
