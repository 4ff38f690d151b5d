/**
 * @module bgp/attributeDecoder — path attributes from bytes, with RFC 7606 revised error handling.
 *
 * Every malformation maps to one of RFC 7606's approaches, returned as data (never thrown):
 * - treat-as-withdraw (ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, LARGE_COMMUNITIES,
 *   ORIGINATOR_ID, CLUSTER_LIST, wrong flags, an attribute overrunning the attribute field, a missing
 *   well-known attribute): the UPDATE's routes are withdrawn, the session stays up;
 * - attribute discard (ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH, AS4_AGGREGATOR, duplicates after the first);
 * - session reset (MP_REACH/MP_UNREACH whose NLRI cannot be located, an unrecognised well-known attribute,
 *   more than one MP_REACH or MP_UNREACH): the caller sends the NOTIFICATION carried in `error`.
 */
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, formatV4, formatV6, readNlri } from './bgpPrefix.ts';
import { ErrorCode, UpdateSubcode, protocolError, type ProtocolError } from './notification.ts';
import {
  AttrFlag, AttrType, SegmentType, type AsPathSegment, type LargeCommunity, type MpReach, type MpUnreach,
  type PathAttributes,
} from './pathAttributes.ts';

export interface DecodeContext {
  fourOctetAs: boolean;
  /** The peer is external: LOCAL_PREF from it is discarded (RFC 7606 7.5). */
  external: boolean;
}

export interface AttributeOutcome {
  attrs: PathAttributes;
  /** Reasons the UPDATE must be treated as a withdraw; empty when its routes are usable. */
  withdrawReasons: string[];
  /** Attributes dropped under attribute-discard, for logging. */
  discarded: string[];
}

export type AttributeResult = { ok: true; outcome: AttributeOutcome } | { ok: false; error: ProtocolError };

const OPT = AttrFlag.Optional;
const TRANS = AttrFlag.Transitive;

/** Expected Optional|Transitive bits of the attributes we know (RFC 7606 3.c checks exactly these two bits). */
const EXPECTED_FLAGS: Record<number, number> = {
  [AttrType.Origin]: TRANS, [AttrType.AsPath]: TRANS, [AttrType.NextHop]: TRANS, [AttrType.Med]: OPT,
  [AttrType.LocalPref]: TRANS, [AttrType.AtomicAggregate]: TRANS, [AttrType.Aggregator]: OPT | TRANS,
  [AttrType.Communities]: OPT | TRANS, [AttrType.OriginatorId]: OPT, [AttrType.ClusterList]: OPT,
  [AttrType.MpReach]: OPT, [AttrType.MpUnreach]: OPT, [AttrType.As4Path]: OPT | TRANS,
  [AttrType.As4Aggregator]: OPT | TRANS, [AttrType.LargeCommunities]: OPT | TRANS,
};

const DISCARD_ON_ERROR = new Set<number>([AttrType.AtomicAggregate, AttrType.Aggregator, AttrType.As4Path, AttrType.As4Aggregator]);

function u32(v: Uint8Array, off: number): number {
  return ((v[off]! << 24) >>> 0) + (v[off + 1]! << 16) + (v[off + 2]! << 8) + v[off + 3]!;
}

export function decodeAsPath(v: Uint8Array, wide: boolean): AsPathSegment[] | null {
  const w = wide ? 4 : 2;
  const segs: AsPathSegment[] = [];
  for (let off = 0; off < v.length;) {
    if (off + 2 > v.length) return null;
    const type = v[off]!;
    const count = v[off + 1]!;
    if (type < SegmentType.AsSet || type > SegmentType.ConfedSet || count === 0) return null;
    if (off + 2 + count * w > v.length) return null;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      const p = off + 2 + i * w;
      asns.push(wide ? u32(v, p) : (v[p]! << 8) | v[p + 1]!);
    }
    segs.push({ type, asns });
    off += 2 + count * w;
  }
  return segs;
}

type MpReachResult = { ok: true; value: MpReach | null } | { ok: false; reason: string };

function decodeNextHops(afi: number, nh: Uint8Array): string[] | null {
  if (afi === AFI_IPV4 && nh.length === 4) return [formatV4(nh)];
  if (nh.length === 16) return [formatV6(nh)];
  // RFC 2545 3: global followed by link-local; some speakers send link-local only or :: as the global.
  if (nh.length === 32) return [formatV6(nh), formatV6(nh, 16)];
  return null;
}

function decodeMpReach(v: Uint8Array): MpReachResult {
  if (v.length < 5) return { ok: false, reason: `MP_REACH_NLRI of ${v.length} octets` };
  const afi = (v[0]! << 8) | v[1]!;
  const safi = v[2]!;
  const nhLen = v[3]!;
  if (4 + nhLen + 1 > v.length) return { ok: false, reason: 'MP_REACH_NLRI next hop runs past the attribute' };
  // A family we do not carry: RFC 4760 7 lets us ignore it; the session never negotiated it.
  if ((afi !== AFI_IPV4 && afi !== AFI_IPV6) || safi !== SAFI_UNICAST) return { ok: true, value: null };
  const nextHops = decodeNextHops(afi, v.subarray(4, 4 + nhLen));
  if (!nextHops) return { ok: false, reason: `MP_REACH_NLRI next hop length ${nhLen} for AFI ${afi}` };
  const nlri = readNlri(v, 5 + nhLen, v.length, afi);
  if (!nlri.ok) return { ok: false, reason: `MP_REACH_NLRI: ${nlri.reason}` };
  return { ok: true, value: { afi, safi, nextHops, nlri: nlri.prefixes } };
}

function decodeMpUnreach(v: Uint8Array): { ok: true; value: MpUnreach | null } | { ok: false; reason: string } {
  if (v.length < 3) return { ok: false, reason: `MP_UNREACH_NLRI of ${v.length} octets` };
  const afi = (v[0]! << 8) | v[1]!;
  const safi = v[2]!;
  if ((afi !== AFI_IPV4 && afi !== AFI_IPV6) || safi !== SAFI_UNICAST) return { ok: true, value: null };
  const nlri = readNlri(v, 3, v.length, afi);
  if (!nlri.ok) return { ok: false, reason: `MP_UNREACH_NLRI: ${nlri.reason}` };
  return { ok: true, value: { afi, safi, withdrawn: nlri.prefixes } };
}

/** Outcome of interpreting one known attribute's value. */
type One = { kind: 'ok' } | { kind: 'malformed'; reason: string } | { kind: 'reset'; subcode: number; reason: string };

const OK: One = { kind: 'ok' };
const bad = (reason: string): One => ({ kind: 'malformed', reason });

function decodeSimple(type: number, v: Uint8Array, ctx: DecodeContext, a: PathAttributes): One {
  switch (type) {
    case AttrType.Origin:
      if (v.length !== 1 || v[0]! > 2) return bad(`ORIGIN of length ${v.length} value ${v[0]}`);
      a.origin = v[0]!;
      return OK;
    case AttrType.AsPath: {
      const p = decodeAsPath(v, ctx.fourOctetAs);
      if (!p) return bad('malformed AS_PATH');
      a.asPath = p;
      return OK;
    }
    case AttrType.NextHop:
      if (v.length !== 4) return bad(`NEXT_HOP of length ${v.length}`);
      if (v[0] === 0 || v[0]! >= 224) return bad(`NEXT_HOP ${formatV4(v)} is not a unicast address`);
      a.nextHop = formatV4(v);
      return OK;
    case AttrType.Med:
      if (v.length !== 4) return bad(`MULTI_EXIT_DISC of length ${v.length}`);
      a.med = u32(v, 0);
      return OK;
    case AttrType.LocalPref:
      if (ctx.external) return { kind: 'ok' }; // RFC 7606 7.5: ignored from external peers
      if (v.length !== 4) return bad(`LOCAL_PREF of length ${v.length}`);
      a.localPref = u32(v, 0);
      return OK;
    case AttrType.Communities:
      if (v.length === 0 || v.length % 4) return bad(`COMMUNITIES of length ${v.length}`);
      a.communities = Array.from({ length: v.length / 4 }, (_, i) => u32(v, 4 * i));
      return OK;
    case AttrType.LargeCommunities:
      if (v.length === 0 || v.length % 12) return bad(`LARGE_COMMUNITY of length ${v.length}`);
      a.largeCommunities = Array.from({ length: v.length / 12 }, (_, i): LargeCommunity => [u32(v, 12 * i), u32(v, 12 * i + 4), u32(v, 12 * i + 8)]);
      return OK;
    case AttrType.OriginatorId:
      if (v.length !== 4) return bad(`ORIGINATOR_ID of length ${v.length}`);
      a.originatorId = formatV4(v);
      return OK;
    case AttrType.ClusterList:
      if (v.length === 0 || v.length % 4) return bad(`CLUSTER_LIST of length ${v.length}`);
      a.clusterList = Array.from({ length: v.length / 4 }, (_, i) => formatV4(v, 4 * i));
      return OK;
    default:
      return decodeDiscardable(type, v, ctx, a);
  }
}

function decodeDiscardable(type: number, v: Uint8Array, ctx: DecodeContext, a: PathAttributes): One {
  switch (type) {
    case AttrType.AtomicAggregate:
      if (v.length !== 0) return bad(`ATOMIC_AGGREGATE of length ${v.length}`);
      a.atomicAggregate = true;
      return OK;
    case AttrType.Aggregator: {
      const w = ctx.fourOctetAs ? 4 : 2;
      if (v.length !== w + 4) return bad(`AGGREGATOR of length ${v.length}`);
      a.aggregator = { asn: w === 4 ? u32(v, 0) : (v[0]! << 8) | v[1]!, address: formatV4(v, w) };
      return OK;
    }
    case AttrType.As4Aggregator:
      if (v.length !== 8) return bad(`AS4_AGGREGATOR of length ${v.length}`);
      if (!ctx.fourOctetAs) a.aggregator = { asn: u32(v, 0), address: formatV4(v, 4) };
      return OK;
    default:
      return OK;
  }
}

function decodeMp(type: number, v: Uint8Array, a: PathAttributes): One {
  if (type === AttrType.MpReach) {
    if (a.mpReach) return { kind: 'reset', subcode: UpdateSubcode.MalformedAttributeList, reason: 'MP_REACH_NLRI twice' };
    const r = decodeMpReach(v);
    if (!r.ok) return { kind: 'reset', subcode: UpdateSubcode.OptionalAttributeError, reason: r.reason };
    if (r.value) a.mpReach = r.value;
    return OK;
  }
  if (a.mpUnreach) return { kind: 'reset', subcode: UpdateSubcode.MalformedAttributeList, reason: 'MP_UNREACH_NLRI twice' };
  const r = decodeMpUnreach(v);
  if (!r.ok) return { kind: 'reset', subcode: UpdateSubcode.OptionalAttributeError, reason: r.reason };
  if (r.value) a.mpUnreach = r.value;
  return OK;
}

function updateError(subcode: number, reason: string, data?: Uint8Array): ProtocolError {
  return protocolError(ErrorCode.Update, subcode, reason, data);
}

/** RFC 6793 4.2.3: rebuild the real path from AS_PATH (2-octet, AS_TRANS) and AS4_PATH. */
function mergeAs4Path(asPath: AsPathSegment[], as4: AsPathSegment[]): AsPathSegment[] {
  const count = (segs: AsPathSegment[]) => segs.reduce((n, s) => n + (s.type === SegmentType.AsSet ? 1 : s.asns.length), 0);
  const keep = count(asPath) - count(as4);
  if (keep < 0) return asPath; // AS4_PATH longer than AS_PATH: ignore it, as the RFC says
  const head: AsPathSegment[] = [];
  let left = keep;
  for (const s of asPath) {
    if (left <= 0) break;
    if (s.type === SegmentType.AsSet) { head.push(s); left -= 1; continue; }
    const take = s.asns.slice(0, left);
    head.push({ type: s.type, asns: take });
    left -= take.length;
  }
  return [...head, ...as4];
}

interface Walk {
  a: PathAttributes;
  seen: Set<number>;
  withdrawReasons: string[];
  discarded: string[];
  as4Path?: AsPathSegment[];
}

/** Handle one attribute; a ProtocolError return means the session must be reset. */
function visit(w: Walk, flags: number, type: number, v: Uint8Array, raw: Uint8Array, ctx: DecodeContext): ProtocolError | null {
  const isMp = type === AttrType.MpReach || type === AttrType.MpUnreach;
  if (w.seen.has(type)) {
    if (isMp) return updateError(UpdateSubcode.MalformedAttributeList, `attribute ${type} appears twice`);
    w.discarded.push(`duplicate attribute ${type}`); // RFC 7606 3.g: keep the first
    return null;
  }
  w.seen.add(type);
  const expected = EXPECTED_FLAGS[type];
  if (expected === undefined) {
    if (!(flags & OPT)) return updateError(UpdateSubcode.UnrecognizedWellKnownAttribute, `unrecognised well-known attribute ${type}`, raw);
    if (flags & TRANS) (w.a.unknown ??= []).push({ flags, type, value: v.slice() });
    return null; // optional non-transitive: quietly ignored (RFC 4271 5)
  }
  if ((flags & (OPT | TRANS)) !== expected) {
    if (isMp) return updateError(UpdateSubcode.AttributeFlagsError, `attribute ${type} with flags 0x${flags.toString(16)}`, raw);
    (DISCARD_ON_ERROR.has(type) ? w.discarded : w.withdrawReasons).push(`attribute ${type} with flags 0x${flags.toString(16)}`);
    return null;
  }
  if (type === AttrType.As4Path) {
    const p = decodeAsPath(v, true);
    if (!p) w.discarded.push('malformed AS4_PATH');
    else if (!ctx.fourOctetAs) w.as4Path = p; // RFC 6793: a NEW speaker ignores AS4_PATH from a NEW peer
    return null;
  }
  const r = isMp ? decodeMp(type, v, w.a) : decodeSimple(type, v, ctx, w.a);
  if (r.kind === 'reset') return updateError(r.subcode, r.reason, raw);
  if (r.kind === 'malformed') (DISCARD_ON_ERROR.has(type) ? w.discarded : w.withdrawReasons).push(r.reason);
  return null;
}

/** Decode the Path Attributes field b[start, end). */
export function decodeAttributes(b: Uint8Array, start: number, end: number, ctx: DecodeContext): AttributeResult {
  const w: Walk = { a: {}, seen: new Set(), withdrawReasons: [], discarded: [] };
  for (let off = start; off < end;) {
    const flags = b[off]!;
    const hlen = flags & AttrFlag.ExtendedLength ? 4 : 3;
    if (off + hlen > end) { w.withdrawReasons.push('attribute header runs past the attribute field'); break; }
    const type = b[off + 1]!;
    const len = hlen === 4 ? (b[off + 2]! << 8) | b[off + 3]! : b[off + 2]!;
    if (off + hlen + len > end) {
      // RFC 7606 4: the attribute list cannot be parsed further; the routes are withdrawn, the session stays.
      w.withdrawReasons.push(`attribute ${type} of length ${len} runs past the attribute field`);
      break;
    }
    const err = visit(w, flags, type, b.subarray(off + hlen, off + hlen + len), b.subarray(off, off + hlen + len), ctx);
    if (err) return { ok: false, error: err };
    off += hlen + len;
  }
  if (w.as4Path && w.a.asPath) w.a.asPath = mergeAs4Path(w.a.asPath, w.as4Path);
  return { ok: true, outcome: { attrs: w.a, withdrawReasons: w.withdrawReasons, discarded: w.discarded } };
}
