/**
 * @module netlink/constants — numbers from the kernel's uapi headers, under their kernel names
 * (include/uapi/linux/netlink.h, rtnetlink.h, if_addr.h, neighbour.h, genetlink.h, if.h). Attribute numbers live
 * in the declarative specs (specs/*.ts) next to their names instead.
 */

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;
export const NETLINK_GENERIC = 16;

export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
/** Flags on NLMSG_ERROR: the request was not echoed (CAP_ACK) / TLVs follow (EXT_ACK). */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNEIGH = 28;
export const RTM_DELNEIGH = 29;
export const RTM_GETNEIGH = 30;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;

/** rtnetlink multicast groups (enum rtnetlink_groups), 1-based as NETLINK_ADD_MEMBERSHIP takes them. */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_NEIGH = 3;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

export const IFA_F: Readonly<Record<string, number>> = {
  secondary: 0x01,
  nodad: 0x02,
  optimistic: 0x04,
  dadfailed: 0x08,
  homeaddress: 0x10,
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
  managetempaddr: 0x100,
  noprefixroute: 0x200,
  mcautojoin: 0x400,
  stable_privacy: 0x800,
};

export const RT_SCOPE: Readonly<Record<string, number>> = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
export const RT_TABLE: Readonly<Record<string, number>> = { unspec: 0, default: 253, main: 254, local: 255 };
export const RTPROT: Readonly<Record<string, number>> = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4 };
export const RTN: Readonly<Record<string, number>> = {
  unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7,
  prohibit: 8, throw: 9, nat: 10, xresolve: 11,
};
export const RTNH_F_ONLINK = 0x4;

export const NUD: Readonly<Record<string, number>> = {
  none: 0, incomplete: 0x01, reachable: 0x02, stale: 0x04, delay: 0x08, probe: 0x10, failed: 0x20, noarp: 0x40,
  permanent: 0x80,
};
export const NTF: Readonly<Record<string, number>> = {
  use: 0x01, self: 0x02, master: 0x04, proxy: 0x08, extern_learn: 0x10, offloaded: 0x20, sticky: 0x40, router: 0x80,
};

export const GENL_ID_CTRL = 16;
export const CTRL_CMD_GETFAMILY = 3;

/** Names of the set bits of `value` according to a name → bit table. */
export function bitNames(table: Readonly<Record<string, number>>, value: number): string[] {
  return Object.entries(table).filter(([, bit]) => bit !== 0 && (value & bit) === bit).map(([n]) => n);
}

/** Reverse lookup for enumerations (scope, table, protocol, type, state); unknown numbers stay numbers. */
export function enumName(table: Readonly<Record<string, number>>, value: number): string | number {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return value;
}
