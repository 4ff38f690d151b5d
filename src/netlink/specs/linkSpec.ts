/**
 * @module netlink/specs/linkSpec — RTM_*LINK attributes (include/uapi/linux/if_link.h, veth.h), kernel names kept.
 * Only what podnet reads or writes is listed; unknown attributes are skipped when decoding.
 */
import type { ByteWriter } from '../byteWriter.ts';
import { custom, decodeAttrs, encodeAttrs, type AttrsOf } from '../attributes.ts';
import { bodyCodec } from '../codec.ts';
import { IFINFOMSG, decodeStruct, encodeStruct, structSize, type IfInfoMsg } from '../structs.ts';

/** Attributes a link has regardless of kind; also what a veth peer (VETH_INFO_PEER) may carry. */
export const IFLA_BASE = {
  IFLA_ADDRESS: { type: 1, kind: 'mac' },
  IFLA_BROADCAST: { type: 2, kind: 'mac' },
  IFLA_IFNAME: { type: 3, kind: 'string' },
  IFLA_MTU: { type: 4, kind: 'u32' },
  IFLA_LINK: { type: 5, kind: 'u32' },
  IFLA_QDISC: { type: 6, kind: 'string' },
  IFLA_MASTER: { type: 10, kind: 'u32' },
  IFLA_TXQLEN: { type: 13, kind: 'u32' },
  IFLA_OPERSTATE: { type: 16, kind: 'u8' },
  IFLA_LINKMODE: { type: 17, kind: 'u8' },
  IFLA_NET_NS_PID: { type: 19, kind: 'u32' },
  IFLA_IFALIAS: { type: 20, kind: 'string' },
  IFLA_GROUP: { type: 27, kind: 'u32' },
  IFLA_NET_NS_FD: { type: 28, kind: 'u32' },
  IFLA_EXT_MASK: { type: 29, kind: 'u32' },
  IFLA_PROMISCUITY: { type: 30, kind: 'u32' },
  IFLA_NUM_TX_QUEUES: { type: 31, kind: 'u32' },
  IFLA_NUM_RX_QUEUES: { type: 32, kind: 'u32' },
  IFLA_CARRIER: { type: 33, kind: 'u8' },
  IFLA_LINK_NETNSID: { type: 37, kind: 's32' },
  IFLA_NEW_NETNSID: { type: 45, kind: 's32' },
  IFLA_TARGET_NETNSID: { type: 46, kind: 's32' },
  IFLA_MIN_MTU: { type: 50, kind: 'u32' },
  IFLA_MAX_MTU: { type: 51, kind: 'u32' },
  IFLA_PERM_ADDRESS: { type: 54, kind: 'mac' },
} as const;

export const IFLA_VXLAN = {
  IFLA_VXLAN_ID: { type: 1, kind: 'u32' },
  IFLA_VXLAN_GROUP: { type: 2, kind: 'ip' },
  IFLA_VXLAN_LINK: { type: 3, kind: 'u32' },
  IFLA_VXLAN_LOCAL: { type: 4, kind: 'ip' },
  IFLA_VXLAN_TTL: { type: 5, kind: 'u8' },
  IFLA_VXLAN_TOS: { type: 6, kind: 'u8' },
  IFLA_VXLAN_LEARNING: { type: 7, kind: 'u8' },
  IFLA_VXLAN_AGEING: { type: 8, kind: 'u32' },
  IFLA_VXLAN_LIMIT: { type: 9, kind: 'u32' },
  IFLA_VXLAN_PROXY: { type: 11, kind: 'u8' },
  IFLA_VXLAN_L2MISS: { type: 13, kind: 'u8' },
  IFLA_VXLAN_L3MISS: { type: 14, kind: 'u8' },
  IFLA_VXLAN_PORT: { type: 15, kind: 'u16be' },
  IFLA_VXLAN_GROUP6: { type: 16, kind: 'ip' },
  IFLA_VXLAN_LOCAL6: { type: 17, kind: 'ip' },
  IFLA_VXLAN_UDP_CSUM: { type: 18, kind: 'u8' },
  IFLA_VXLAN_UDP_ZERO_CSUM6_TX: { type: 19, kind: 'u8' },
  IFLA_VXLAN_UDP_ZERO_CSUM6_RX: { type: 20, kind: 'u8' },
  IFLA_VXLAN_GBP: { type: 23, kind: 'flag' },
  IFLA_VXLAN_COLLECT_METADATA: { type: 25, kind: 'u8' },
  IFLA_VXLAN_TTL_INHERIT: { type: 28, kind: 'u8' },
  IFLA_VXLAN_DF: { type: 29, kind: 'u8' },
} as const;

export const IFLA_IPTUN = {
  IFLA_IPTUN_LINK: { type: 1, kind: 'u32' },
  IFLA_IPTUN_LOCAL: { type: 2, kind: 'ip' },
  IFLA_IPTUN_REMOTE: { type: 3, kind: 'ip' },
  IFLA_IPTUN_TTL: { type: 4, kind: 'u8' },
  IFLA_IPTUN_TOS: { type: 5, kind: 'u8' },
  IFLA_IPTUN_PMTUDISC: { type: 10, kind: 'u8' },
} as const;

export const IFLA_BR = {
  IFLA_BR_FORWARD_DELAY: { type: 1, kind: 'u32' },
  IFLA_BR_HELLO_TIME: { type: 2, kind: 'u32' },
  IFLA_BR_MAX_AGE: { type: 3, kind: 'u32' },
  IFLA_BR_AGEING_TIME: { type: 4, kind: 'u32' },
  IFLA_BR_STP_STATE: { type: 5, kind: 'u32' },
  IFLA_BR_PRIORITY: { type: 6, kind: 'u16' },
  IFLA_BR_VLAN_FILTERING: { type: 7, kind: 'u8' },
  IFLA_BR_VLAN_PROTOCOL: { type: 8, kind: 'u16be' },
  IFLA_BR_MCAST_SNOOPING: { type: 23, kind: 'u8' },
} as const;

/** The peer of a veth: a struct ifinfomsg followed by link attributes (drivers/net/veth.c veth_newlink). */
export interface VethPeer {
  header: Partial<IfInfoMsg>;
  attrs: AttrsOf<typeof IFLA_BASE>;
}

const vethPeerCodec = custom<VethPeer>({
  encode(w: ByteWriter, v: VethPeer) {
    encodeStruct(w, IFINFOMSG, v.header);
    encodeAttrs(w, IFLA_BASE, v.attrs);
  },
  decode(data: Uint8Array, _offset: number, path: string) {
    const header = decodeStruct(data, 0, IFINFOMSG, path);
    return { header, attrs: decodeAttrs(data, structSize(IFINFOMSG), data.length, IFLA_BASE, path) };
  },
});

export const VETH_INFO = {
  VETH_INFO_PEER: { type: 1, ...vethPeerCodec },
} as const;

export const IFLA_INFO = {
  IFLA_INFO_KIND: { type: 1, kind: 'string' },
  IFLA_INFO_DATA: {
    type: 2,
    kind: 'variant',
    selector: 'IFLA_INFO_KIND',
    variants: { vxlan: IFLA_VXLAN, ipip: IFLA_IPTUN, bridge: IFLA_BR, veth: VETH_INFO },
  },
  IFLA_INFO_SLAVE_KIND: { type: 4, kind: 'string' },
} as const;

export const IFLA = {
  ...IFLA_BASE,
  IFLA_LINKINFO: { type: 18, kind: 'nested', spec: IFLA_INFO },
} as const;

export type LinkAttrs = AttrsOf<typeof IFLA>;
export type VxlanAttrs = AttrsOf<typeof IFLA_VXLAN>;
export type IptunAttrs = AttrsOf<typeof IFLA_IPTUN>;
export type BridgeAttrs = AttrsOf<typeof IFLA_BR>;

export const linkBody = bodyCodec('ifinfomsg', IFINFOMSG, IFLA);
