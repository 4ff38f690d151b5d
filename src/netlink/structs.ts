/**
 * @module netlink/structs — the fixed family headers that precede attributes (struct ifinfomsg, ifaddrmsg, rtmsg,
 * ndmsg, genlmsghdr, rtnexthop), declared once as ordered field lists with their kernel field names.
 */
import type { ByteWriter } from './byteWriter.ts';
import { NetlinkDecodeError } from './errors.ts';

type FieldKind = 'u8' | 'u16' | 's32' | 'u32';
const SIZE: Record<FieldKind, number> = { u8: 1, u16: 2, s32: 4, u32: 4 };

export type StructSpec = ReadonlyArray<readonly [string, FieldKind]>;
export type StructOf<S extends StructSpec> = { [F in S[number] as F[0]]: number };

export function structSize(spec: StructSpec): number {
  return spec.reduce((n, [, k]) => n + SIZE[k], 0);
}

/** Write a struct; missing fields are zero. */
export function encodeStruct<S extends StructSpec>(w: ByteWriter, spec: S, value: Partial<StructOf<S>>): void {
  const rec = value as Record<string, number | undefined>;
  for (const [name, kind] of spec) {
    const v = rec[name] ?? 0;
    if (kind === 'u8') w.u8(v & 0xff);
    else if (kind === 'u16') w.u16(v & 0xffff);
    else if (kind === 's32') w.s32(v | 0);
    else w.u32(v);
  }
}

export function decodeStruct<S extends StructSpec>(data: Uint8Array, offset: number, spec: S, where: string): StructOf<S> {
  const size = structSize(spec);
  if (data.length - offset < size) {
    throw new NetlinkDecodeError(`${where} needs ${size} bytes, only ${data.length - offset} present`, offset, where);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Record<string, number> = {};
  let off = offset;
  for (const [name, kind] of spec) {
    if (kind === 'u8') out[name] = view.getUint8(off);
    else if (kind === 'u16') out[name] = view.getUint16(off, true);
    else if (kind === 's32') out[name] = view.getInt32(off, true);
    else out[name] = view.getUint32(off, true);
    off += SIZE[kind];
  }
  return out as StructOf<S>;
}

export const IFINFOMSG = [
  ['ifi_family', 'u8'], ['__ifi_pad', 'u8'], ['ifi_type', 'u16'], ['ifi_index', 's32'], ['ifi_flags', 'u32'], ['ifi_change', 'u32'],
] as const;
export const IFADDRMSG = [
  ['ifa_family', 'u8'], ['ifa_prefixlen', 'u8'], ['ifa_flags', 'u8'], ['ifa_scope', 'u8'], ['ifa_index', 'u32'],
] as const;
export const RTMSG = [
  ['rtm_family', 'u8'], ['rtm_dst_len', 'u8'], ['rtm_src_len', 'u8'], ['rtm_tos', 'u8'], ['rtm_table', 'u8'],
  ['rtm_protocol', 'u8'], ['rtm_scope', 'u8'], ['rtm_type', 'u8'], ['rtm_flags', 'u32'],
] as const;
export const NDMSG = [
  ['ndm_family', 'u8'], ['ndm_pad1', 'u8'], ['ndm_pad2', 'u16'], ['ndm_ifindex', 's32'], ['ndm_state', 'u16'],
  ['ndm_flags', 'u8'], ['ndm_type', 'u8'],
] as const;
export const GENLMSGHDR = [['cmd', 'u8'], ['version', 'u8'], ['reserved', 'u16']] as const;
export const RTNEXTHOP = [['rtnh_len', 'u16'], ['rtnh_flags', 'u8'], ['rtnh_hops', 'u8'], ['rtnh_ifindex', 's32']] as const;

export type IfInfoMsg = StructOf<typeof IFINFOMSG>;
export type IfAddrMsg = StructOf<typeof IFADDRMSG>;
export type RtMsg = StructOf<typeof RTMSG>;
export type NdMsg = StructOf<typeof NDMSG>;
export type GenlMsgHdr = StructOf<typeof GENLMSGHDR>;
