/**
 * @module netlink/specs/genlSpec — the generic netlink controller's attributes (include/uapi/linux/genetlink.h).
 */
import { bodyCodec } from '../codec.ts';
import type { AttrsOf } from '../attributes.ts';
import { GENLMSGHDR } from '../structs.ts';

export const CTRL_ATTR_MCAST_GRP = {
  CTRL_ATTR_MCAST_GRP_NAME: { type: 1, kind: 'string' },
  CTRL_ATTR_MCAST_GRP_ID: { type: 2, kind: 'u32' },
} as const;

export const CTRL_ATTR = {
  CTRL_ATTR_FAMILY_ID: { type: 1, kind: 'u16' },
  CTRL_ATTR_FAMILY_NAME: { type: 2, kind: 'string' },
  CTRL_ATTR_VERSION: { type: 3, kind: 'u32' },
  CTRL_ATTR_HDRSIZE: { type: 4, kind: 'u32' },
  CTRL_ATTR_MAXATTR: { type: 5, kind: 'u32' },
  CTRL_ATTR_MCAST_GROUPS: { type: 7, kind: 'array', spec: CTRL_ATTR_MCAST_GRP },
} as const;

export type CtrlAttrs = AttrsOf<typeof CTRL_ATTR>;
export const ctrlBody = bodyCodec('genlmsghdr', GENLMSGHDR, CTRL_ATTR);
