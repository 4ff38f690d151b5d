/**
 * @module netlink/specs/neighSpec — RTM_*NEIGH attributes (include/uapi/linux/neighbour.h), kernel names kept.
 * The same message carries ARP/NDP entries (AF_INET/AF_INET6) and bridge/vxlan FDB entries (AF_BRIDGE).
 */
import { bodyCodec } from '../codec.ts';
import type { AttrsOf } from '../attributes.ts';
import { NDMSG } from '../structs.ts';

export const NDA = {
  NDA_DST: { type: 1, kind: 'ip' },
  NDA_LLADDR: { type: 2, kind: 'mac' },
  NDA_CACHEINFO: { type: 3, kind: 'binary' },
  NDA_PROBES: { type: 4, kind: 'u32' },
  NDA_VLAN: { type: 5, kind: 'u16' },
  NDA_PORT: { type: 6, kind: 'u16be' },
  NDA_VNI: { type: 7, kind: 'u32' },
  NDA_IFINDEX: { type: 8, kind: 'u32' },
  NDA_MASTER: { type: 9, kind: 'u32' },
  NDA_LINK_NETNSID: { type: 10, kind: 's32' },
  NDA_SRC_VNI: { type: 11, kind: 'u32' },
  NDA_PROTOCOL: { type: 12, kind: 'u8' },
  NDA_FLAGS_EXT: { type: 15, kind: 'u32' },
} as const;

export type NeighAttrs = AttrsOf<typeof NDA>;
export const neighBody = bodyCodec('ndmsg', NDMSG, NDA);
