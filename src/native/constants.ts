/**
 * Kernel constants the addon's callers pass through it (uapi values; they never change on Linux). Protocol-specific
 * tables (RTM_*, IFLA_*, ND types...) belong to the codec that speaks the protocol, not here.
 */

/** Netlink families for `openNetlink({ protocol })`. */
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;
export const NETLINK_GENERIC = 16;

/** Socket option levels and options for `setsockoptInt`. */
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SOL_NETLINK = 270;
export const NETLINK_NO_ENOBUFS = 5;
export const NETLINK_GET_STRICT_CHK = 12;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;

/** Address families and socket types for `openSocket`. */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;

/** Ethertypes (host order) for `openPacket({ protocol })`. */
export const ETH_P_ALL = 0x0003;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

/** `RecvInfo.pktType` of packet sockets. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;
