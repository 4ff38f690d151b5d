/**
 * @module netlink/specs/addrSpec — RTM_*ADDR attributes (include/uapi/linux/if_addr.h), kernel names kept.
 */
import { bodyCodec } from '../codec.ts';
import type { AttrsOf } from '../attributes.ts';
import { IFADDRMSG } from '../structs.ts';

export const IFA = {
  IFA_ADDRESS: { type: 1, kind: 'ip' },
  IFA_LOCAL: { type: 2, kind: 'ip' },
  IFA_LABEL: { type: 3, kind: 'string' },
  IFA_BROADCAST: { type: 4, kind: 'ip' },
  IFA_ANYCAST: { type: 5, kind: 'ip' },
  IFA_CACHEINFO: { type: 6, kind: 'binary' },
  IFA_MULTICAST: { type: 7, kind: 'ip' },
  /** The full 32-bit flags; ifa_flags in the header only holds the low 8. */
  IFA_FLAGS: { type: 8, kind: 'u32' },
  IFA_RT_PRIORITY: { type: 9, kind: 'u32' },
  IFA_PROTO: { type: 11, kind: 'u8' },
} as const;

export type AddrAttrs = AttrsOf<typeof IFA>;
export const addrBody = bodyCodec('ifaddrmsg', IFADDRMSG, IFA);
