/**
 * @module bgp/pathAttributes — the path attribute model and its encoder (RFC 4271 4.3/5, RFC 4760, RFC 1997,
 * RFC 8092, RFC 4456, RFC 6793). Decoding, with RFC 7606 error handling, lives in attributeDecoder.ts. Pure.
 */
import { AFI_IPV4, parseAddress, parsePrefix, parseV4, writeNlri, nlriSize, type Afi } from './bgpPrefix.ts';

export const AttrType = {
  Origin: 1, AsPath: 2, NextHop: 3, Med: 4, LocalPref: 5, AtomicAggregate: 6, Aggregator: 7, Communities: 8,
  OriginatorId: 9, ClusterList: 10, MpReach: 14, MpUnreach: 15, As4Path: 17, As4Aggregator: 18, LargeCommunities: 32,
} as const;

export const AttrFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;

export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export const SegmentType = { AsSet: 1, AsSequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;

export interface AsPathSegment {
  type: number;
  asns: number[];
}

/** [global administrator, local data 1, local data 2] (RFC 8092). */
export type LargeCommunity = [number, number, number];

export interface MpReach {
  afi: number;
  safi: number;
  /** One global next hop, optionally followed by an IPv6 link-local one (RFC 2545 3). */
  nextHops: string[];
  nlri: string[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: string[];
}

/** An attribute we do not interpret, kept byte for byte so optional transitive ones can be passed on. */
export interface RawAttribute {
  flags: number;
  type: number;
  value: Uint8Array;
}

export interface PathAttributes {
  origin?: number;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** Standard communities as 32-bit numbers (high 16 bits = AS). */
  communities?: number[];
  largeCommunities?: LargeCommunity[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  unknown?: RawAttribute[];
}

/** What the encoder needs to know about the session. */
export interface EncodeContext {
  /** Both sides sent the 4-octet AS capability (RFC 6793); otherwise AS_PATH carries 2-octet numbers. */
  fourOctetAs: boolean;
}

export const AS_TRANS = 23456;

function header(flags: number, type: number, len: number): Uint8Array {
  if (len > 255) return new Uint8Array([flags | AttrFlag.ExtendedLength, type, len >> 8, len & 0xff]);
  return new Uint8Array([flags & ~AttrFlag.ExtendedLength, type, len]);
}

function attr(flags: number, type: number, value: Uint8Array): Uint8Array {
  const h = header(flags, type, value.length);
  const out = new Uint8Array(h.length + value.length);
  out.set(h);
  out.set(value, h.length);
  return out;
}

function u32s(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
  return out;
}

export function encodeAsPath(segments: AsPathSegment[], wide: boolean): Uint8Array {
  const w = wide ? 4 : 2;
  const parts: number[] = [];
  for (const s of segments) {
    // RFC 4271: a segment holds at most 255 ASNs; split longer ones.
    for (let i = 0; i < s.asns.length; i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      parts.push(s.type, chunk.length);
      for (const a of chunk) {
        const v = !wide && a > 0xffff ? AS_TRANS : a;
        if (w === 4) parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff);
        parts.push((v >>> 8) & 0xff, v & 0xff);
      }
    }
  }
  return new Uint8Array(parts);
}

function encodeNextHops(afi: number, nextHops: string[]): Uint8Array {
  const bytes = nextHops.map((n) => {
    const b = parseAddress(n);
    if (!b) throw new RangeError(`next hop ${n} is not an address`);
    return b;
  });
  const len = bytes.reduce((s, b) => s + b.length, 0);
  if (afi === AFI_IPV4 && len !== 4 && len !== 16 && len !== 32) throw new RangeError('bad IPv4 family next hop');
  const out = new Uint8Array(len);
  let off = 0;
  for (const b of bytes) { out.set(b, off); off += b.length; }
  return out;
}

export function encodeNlriList(prefixes: string[]): Uint8Array {
  const parsed = prefixes.map((p) => {
    const x = parsePrefix(p);
    if (!x) throw new RangeError(`${p} is not a prefix`);
    return x;
  });
  const out = new Uint8Array(parsed.reduce((s, p) => s + nlriSize(p.len), 0));
  let off = 0;
  for (const p of parsed) off = writeNlri(out, off, p);
  return out;
}

function encodeMpReach(m: MpReach): Uint8Array {
  const nh = encodeNextHops(m.afi, m.nextHops);
  const nlri = encodeNlriList(m.nlri);
  const v = new Uint8Array(5 + nh.length + nlri.length);
  v[0] = m.afi >> 8; v[1] = m.afi & 0xff; v[2] = m.safi; v[3] = nh.length;
  v.set(nh, 4);
  v[4 + nh.length] = 0;
  v.set(nlri, 5 + nh.length);
  return v;
}

function encodeMpUnreach(m: MpUnreach): Uint8Array {
  const nlri = encodeNlriList(m.withdrawn);
  const v = new Uint8Array(3 + nlri.length);
  v[0] = m.afi >> 8; v[1] = m.afi & 0xff; v[2] = m.safi;
  v.set(nlri, 3);
  return v;
}

function v4(s: string): Uint8Array {
  const b = parseV4(s);
  if (!b) throw new RangeError(`${s} is not an IPv4 address`);
  return b;
}

const WK = AttrFlag.Transitive;
const OPT = AttrFlag.Optional;
const OPT_T = AttrFlag.Optional | AttrFlag.Transitive;

function needsAs4Path(segments: AsPathSegment[] | undefined): boolean {
  return !!segments?.some((s) => s.asns.some((a) => a > 0xffff));
}

/** Encode attributes in type-code order (RFC 4271 5 recommends ascending order). */
export function encodeAttributes(a: PathAttributes, ctx: EncodeContext): Uint8Array {
  const out: Uint8Array[] = [];
  if (a.origin !== undefined) out.push(attr(WK, AttrType.Origin, new Uint8Array([a.origin])));
  if (a.asPath !== undefined) out.push(attr(WK, AttrType.AsPath, encodeAsPath(a.asPath, ctx.fourOctetAs)));
  if (a.nextHop !== undefined) out.push(attr(WK, AttrType.NextHop, v4(a.nextHop)));
  if (a.med !== undefined) out.push(attr(OPT, AttrType.Med, u32s([a.med])));
  if (a.localPref !== undefined) out.push(attr(WK, AttrType.LocalPref, u32s([a.localPref])));
  if (a.atomicAggregate) out.push(attr(WK, AttrType.AtomicAggregate, new Uint8Array(0)));
  if (a.aggregator) {
    const asn = ctx.fourOctetAs ? u32s([a.aggregator.asn]) : new Uint8Array([(a.aggregator.asn > 0xffff ? AS_TRANS : a.aggregator.asn) >> 8, (a.aggregator.asn > 0xffff ? AS_TRANS : a.aggregator.asn) & 0xff]);
    const v = new Uint8Array(asn.length + 4);
    v.set(asn); v.set(v4(a.aggregator.address), asn.length);
    out.push(attr(OPT_T, AttrType.Aggregator, v));
  }
  if (a.communities?.length) out.push(attr(OPT_T, AttrType.Communities, u32s(a.communities)));
  if (a.originatorId) out.push(attr(OPT, AttrType.OriginatorId, v4(a.originatorId)));
  if (a.clusterList?.length) out.push(attr(OPT, AttrType.ClusterList, new Uint8Array(a.clusterList.flatMap((c) => [...v4(c)]))));
  if (a.mpReach) out.push(attr(OPT, AttrType.MpReach, encodeMpReach(a.mpReach)));
  if (a.mpUnreach) out.push(attr(OPT, AttrType.MpUnreach, encodeMpUnreach(a.mpUnreach)));
  if (!ctx.fourOctetAs && needsAs4Path(a.asPath)) out.push(attr(OPT_T, AttrType.As4Path, encodeAsPath(a.asPath!, true)));
  if (a.largeCommunities?.length) out.push(attr(OPT_T, AttrType.LargeCommunities, u32s(a.largeCommunities.flat())));
  for (const u of a.unknown ?? []) {
    // RFC 4271 5: an optional transitive attribute we pass on without understanding gets the Partial bit.
    if ((u.flags & OPT_T) === OPT_T) out.push(attr(u.flags | AttrFlag.Partial, u.type, u.value));
  }
  const total = out.reduce((n, x) => n + x.length, 0);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const x of out) { buf.set(x, off); off += x.length; }
  return buf;
}

/** Number of ASNs on the path for best-path selection (an AS_SET counts as one, RFC 4271 9.1.2.2; confed as 0). */
export function asPathLength(segments: AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of segments ?? []) {
    if (s.type === SegmentType.AsSequence) n += s.asns.length;
    else if (s.type === SegmentType.AsSet) n += 1;
  }
  return n;
}

/** The neighbouring AS a route came from: the first ASN of a leading AS_SEQUENCE. */
export function firstAs(segments: AsPathSegment[] | undefined): number | undefined {
  const s = segments?.[0];
  return s && s.type === SegmentType.AsSequence ? s.asns[0] : undefined;
}

export function familyOfMp(afi: number): Afi | null {
  return afi === 1 || afi === 2 ? afi : null;
}
