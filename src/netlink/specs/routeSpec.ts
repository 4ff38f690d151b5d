/**
 * @module netlink/specs/routeSpec — RTM_*ROUTE attributes (include/uapi/linux/rtnetlink.h), kernel names kept.
 * RTA_MULTIPATH is a list of struct rtnexthop, each followed by its own attributes (RTA_GATEWAY, ...).
 */
import type { ByteWriter } from '../byteWriter.ts';
import { align4 } from '../byteWriter.ts';
import { custom, decodeAttrs, encodeAttrs, type AttrsOf } from '../attributes.ts';
import { bodyCodec } from '../codec.ts';
import { NetlinkDecodeError } from '../errors.ts';
import { RTMSG, RTNEXTHOP, decodeStruct, encodeStruct } from '../structs.ts';

export const RTAX = {
  RTAX_LOCK: { type: 1, kind: 'u32' },
  RTAX_MTU: { type: 2, kind: 'u32' },
  RTAX_WINDOW: { type: 3, kind: 'u32' },
  RTAX_RTT: { type: 4, kind: 'u32' },
  RTAX_ADVMSS: { type: 8, kind: 'u32' },
  RTAX_HOPLIMIT: { type: 10, kind: 'u32' },
  RTAX_INITCWND: { type: 11, kind: 'u32' },
  RTAX_INITRWND: { type: 14, kind: 'u32' },
  RTAX_QUICKACK: { type: 15, kind: 'u32' },
} as const;

/** Attributes allowed after a struct rtnexthop. */
export const RTA_NH = {
  RTA_GATEWAY: { type: 5, kind: 'ip' },
  RTA_FLOW: { type: 11, kind: 'u32' },
} as const;

export interface RtNextHop {
  rtnh_flags: number;
  /** Weight minus one, as the kernel stores it. */
  rtnh_hops: number;
  rtnh_ifindex: number;
  attrs: AttrsOf<typeof RTA_NH>;
}

const multipathCodec = custom<RtNextHop[]>({
  encode(w: ByteWriter, hops: RtNextHop[]) {
    for (const hop of hops) {
      const start = w.length;
      encodeStruct(w, RTNEXTHOP, { rtnh_flags: hop.rtnh_flags, rtnh_hops: hop.rtnh_hops, rtnh_ifindex: hop.rtnh_ifindex });
      encodeAttrs(w, RTA_NH, hop.attrs);
      w.patchU16(start, w.length - start);
      w.pad();
    }
  },
  decode(data: Uint8Array, offset: number, path: string) {
    const hops: RtNextHop[] = [];
    let off = 0;
    while (data.length - off >= 8) {
      const nh = decodeStruct(data, off, RTNEXTHOP, path);
      if (nh.rtnh_len < 8 || off + nh.rtnh_len > data.length) {
        throw new NetlinkDecodeError(`rtnexthop length ${nh.rtnh_len} does not fit (${data.length - off} bytes left)`, offset + off, path);
      }
      const attrs = decodeAttrs(data, off + 8, off + nh.rtnh_len, RTA_NH, `${path}[${hops.length}]`);
      hops.push({ rtnh_flags: nh.rtnh_flags, rtnh_hops: nh.rtnh_hops, rtnh_ifindex: nh.rtnh_ifindex, attrs });
      off += align4(nh.rtnh_len);
    }
    return hops;
  },
});

export const RTA = {
  RTA_DST: { type: 1, kind: 'ip' },
  RTA_SRC: { type: 2, kind: 'ip' },
  RTA_IIF: { type: 3, kind: 'u32' },
  RTA_OIF: { type: 4, kind: 'u32' },
  RTA_GATEWAY: { type: 5, kind: 'ip' },
  RTA_PRIORITY: { type: 6, kind: 'u32' },
  RTA_PREFSRC: { type: 7, kind: 'ip' },
  RTA_METRICS: { type: 8, kind: 'nested', spec: RTAX },
  RTA_MULTIPATH: { type: 9, ...multipathCodec },
  RTA_TABLE: { type: 15, kind: 'u32' },
  RTA_MARK: { type: 16, kind: 'u32' },
  RTA_PREF: { type: 20, kind: 'u8' },
  RTA_EXPIRES: { type: 23, kind: 'u32' },
} as const;

export type RouteAttrs = AttrsOf<typeof RTA>;
export const routeBody = bodyCodec('rtmsg', RTMSG, RTA);
