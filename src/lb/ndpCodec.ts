/**
 * @module lb/ndpCodec — IPv6 Neighbor Discovery (RFC 4861) Neighbor Solicitation / Advertisement with the source
 * and target link-layer address options, in an Ethernet II + IPv6 frame, plus the ICMPv6 checksum over the IPv6
 * pseudo-header (RFC 8200 §8.1). Bytes in, objects out, no I/O. Whole frames, because the responder reads and
 * writes them on a packet socket (lb/ndpResponder.ts explains why not a raw ICMPv6 socket).
 */
export const ETHERTYPE_IPV6 = 0x86dd;
export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;
export const OPT_SOURCE_LLA = 1;
export const OPT_TARGET_LLA = 2;
const NEXT_HEADER_ICMPV6 = 58;
const ETH = 14;
const IP6 = 40;
/** NA flags (RFC 4861 §4.4). */
export const NA_ROUTER = 0x80;
export const NA_SOLICITED = 0x40;
export const NA_OVERRIDE = 0x20;

export interface NdpOption {
  type: number;
  /** Option body without the type/length bytes (for LLA options: the 6-byte MAC). */
  data: Uint8Array;
}

export interface NdpPacket {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  ipSrc: Uint8Array;
  ipDst: Uint8Array;
  hopLimit: number;
  type: typeof ICMPV6_NS | typeof ICMPV6_NA;
  code: number;
  /** NA flags byte (R/S/O); 0 for NS. */
  flags: number;
  target: Uint8Array;
  options: NdpOption[];
  /** Set by decode: whether the ICMPv6 checksum was correct. */
  checksumOk?: boolean;
}

export class NdpDecodeError extends Error {}

export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  let sum = 0;
  const add16 = (b: Uint8Array) => { for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0); };
  add16(src);
  add16(dst);
  sum += (icmp.length >>> 16) + (icmp.length & 0xffff) + NEXT_HEADER_ICMPV6;
  add16(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function encodeOptions(options: NdpOption[]): Uint8Array {
  const parts = options.map((o) => {
    const len = Math.ceil((o.data.length + 2) / 8) * 8;
    const b = new Uint8Array(len);
    b[0] = o.type;
    b[1] = len / 8;
    b.set(o.data, 2);
    return b;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

export function encodeNdp(p: NdpPacket): Uint8Array {
  const opts = encodeOptions(p.options);
  const icmp = new Uint8Array(24 + opts.length);
  icmp[0] = p.type;
  icmp[1] = p.code;
  icmp[4] = p.flags;
  icmp.set(p.target, 8);
  icmp.set(opts, 24);
  new DataView(icmp.buffer).setUint16(2, icmpv6Checksum(p.ipSrc, p.ipDst, icmp));
  const frame = new Uint8Array(ETH + IP6 + icmp.length);
  const dv = new DataView(frame.buffer);
  frame.set(p.ethDst, 0);
  frame.set(p.ethSrc, 6);
  dv.setUint16(12, ETHERTYPE_IPV6);
  dv.setUint32(ETH, 0x60000000);
  dv.setUint16(ETH + 4, icmp.length);
  frame[ETH + 6] = NEXT_HEADER_ICMPV6;
  frame[ETH + 7] = p.hopLimit;
  frame.set(p.ipSrc, ETH + 8);
  frame.set(p.ipDst, ETH + 24);
  frame.set(icmp, ETH + IP6);
  return frame;
}

function decodeOptions(b: Uint8Array): NdpOption[] {
  const out: NdpOption[] = [];
  for (let off = 0; off < b.length;) {
    if (off + 2 > b.length) throw new NdpDecodeError('truncated NDP option');
    const len = b[off + 1]! * 8;
    if (len === 0 || off + len > b.length) throw new NdpDecodeError(`bad NDP option length ${b[off + 1]} at offset ${off}`);
    out.push({ type: b[off]!, data: b.slice(off + 2, off + len) });
    off += len;
  }
  return out;
}

/** Decode an Ethernet frame carrying an NS or NA without extension headers; anything else throws NdpDecodeError. */
export function decodeNdp(frame: Uint8Array): NdpPacket {
  if (frame.length < ETH + IP6 + 24) throw new NdpDecodeError(`frame too short for NDP: ${frame.length} bytes`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (dv.getUint16(12) !== ETHERTYPE_IPV6) throw new NdpDecodeError('not an IPv6 frame');
  if (frame[ETH]! >> 4 !== 6) throw new NdpDecodeError('IPv6 header with a wrong version');
  if (frame[ETH + 6] !== NEXT_HEADER_ICMPV6) throw new NdpDecodeError(`not ICMPv6 (next header ${frame[ETH + 6]})`);
  const payloadLen = dv.getUint16(ETH + 4);
  if (ETH + IP6 + payloadLen > frame.length || payloadLen < 24) throw new NdpDecodeError(`IPv6 payload length ${payloadLen} does not fit the frame`);
  const icmp = frame.subarray(ETH + IP6, ETH + IP6 + payloadLen);
  const type = icmp[0]!;
  if (type !== ICMPV6_NS && type !== ICMPV6_NA) throw new NdpDecodeError(`ICMPv6 type ${type} is not NS or NA`);
  const ipSrc = frame.slice(ETH + 8, ETH + 24);
  const ipDst = frame.slice(ETH + 24, ETH + 40);
  return {
    ethDst: frame.slice(0, 6), ethSrc: frame.slice(6, 12), ipSrc, ipDst, hopLimit: frame[ETH + 7]!,
    type, code: icmp[1]!, flags: icmp[4]!, target: icmp.slice(8, 24), options: decodeOptions(icmp.subarray(24)),
    checksumOk: icmpv6Checksum(ipSrc, ipDst, icmp) === 0,
  };
}

export function optionMac(p: NdpPacket, type: number): Uint8Array | undefined {
  const o = p.options.find((x) => x.type === type);
  return o && o.data.length >= 6 ? o.data.slice(0, 6) : undefined;
}

/** ff02::1:ffXX:XXXX — the solicited-node multicast group of `ip` (RFC 4291 §2.7.1). */
export function solicitedNodeGroup(ip: Uint8Array): Uint8Array {
  const g = new Uint8Array(16);
  g.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]);
  g.set(ip.subarray(13, 16), 13);
  return g;
}

/** 33:33:xx:xx:xx:xx — the Ethernet address of an IPv6 multicast group (RFC 2464 §7). */
export function multicastMac(group: Uint8Array): Uint8Array {
  return Uint8Array.from([0x33, 0x33, ...group.subarray(12, 16)]);
}

export const ALL_NODES = Uint8Array.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** The solicited NA answering `ns` for its target at `mac`, unicast to the solicitor (RFC 4861 §7.2.4). */
export function advertisementFor(ns: NdpPacket, mac: Uint8Array): NdpPacket {
  const unspecified = ns.ipSrc.every((b) => b === 0);
  const ipDst = unspecified ? ALL_NODES : ns.ipSrc;
  return {
    ethDst: unspecified ? multicastMac(ALL_NODES) : optionMac(ns, OPT_SOURCE_LLA) ?? ns.ethSrc, ethSrc: mac,
    ipSrc: ns.target, ipDst, hopLimit: 255, type: ICMPV6_NA, code: 0,
    flags: (unspecified ? 0 : NA_SOLICITED) | NA_OVERRIDE, target: ns.target,
    options: [{ type: OPT_TARGET_LLA, data: mac }],
  };
}

/** The unsolicited NA announcing `ip` at `mac` to all nodes, Override set (RFC 4861 §7.2.6). */
export function unsolicitedAdvertisement(ip: Uint8Array, mac: Uint8Array): NdpPacket {
  return {
    ethDst: multicastMac(ALL_NODES), ethSrc: mac, ipSrc: ip, ipDst: ALL_NODES, hopLimit: 255, type: ICMPV6_NA, code: 0,
    flags: NA_OVERRIDE, target: ip, options: [{ type: OPT_TARGET_LLA, data: mac }],
  };
}
