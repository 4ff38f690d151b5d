/**
 * @module bgp/updateMessage — the UPDATE body (RFC 4271 4.3), End-of-RIB markers (RFC 4724 2) and packing many
 * prefixes into as few messages as fit. RFC 7606 outcomes come back as data: `withdrawReasons` non-empty means the
 * routes of this UPDATE are to be treated as withdrawn (see routeChanges). Pure.
 */
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, afiOf, nlriSize, parsePrefix, readNlri, writeNlri, type Afi } from './bgpPrefix.ts';
import { decodeAttributes, type DecodeContext } from './attributeDecoder.ts';
import { ErrorCode, UpdateSubcode, protocolError, type ProtocolError } from './notification.ts';
import { encodeAttributes, type EncodeContext, type PathAttributes } from './pathAttributes.ts';

export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes in the Withdrawn Routes field. */
  withdrawn: string[];
  attributes: PathAttributes;
  /** IPv4 prefixes in the NLRI field. */
  nlri: string[];
}

export interface DecodedUpdate {
  message: UpdateMessage;
  withdrawReasons: string[];
  discarded: string[];
}

export type UpdateResult = { ok: true; update: DecodedUpdate } | { ok: false; error: ProtocolError };

function fail(subcode: number, reason: string): UpdateResult {
  return { ok: false, error: protocolError(ErrorCode.Update, subcode, reason) };
}

function missingWellKnown(m: UpdateMessage): string | null {
  const announces = m.nlri.length > 0 || (m.attributes.mpReach?.nlri.length ?? 0) > 0;
  if (!announces) return null;
  if (m.attributes.origin === undefined) return 'ORIGIN missing';
  if (m.attributes.asPath === undefined) return 'AS_PATH missing';
  if (m.nlri.length > 0 && m.attributes.nextHop === undefined) return 'NEXT_HOP missing';
  return null;
}

export function decodeUpdateBody(b: Uint8Array, ctx: DecodeContext): UpdateResult {
  if (b.length < 4) return fail(UpdateSubcode.MalformedAttributeList, `UPDATE body of ${b.length} octets`);
  const wLen = (b[0]! << 8) | b[1]!;
  if (2 + wLen + 2 > b.length) return fail(UpdateSubcode.MalformedAttributeList, `withdrawn routes length ${wLen} overruns the message`);
  const withdrawn = readNlri(b, 2, 2 + wLen, AFI_IPV4);
  if (!withdrawn.ok) return fail(UpdateSubcode.InvalidNetworkField, `withdrawn routes: ${withdrawn.reason}`);
  const aStart = 2 + wLen + 2;
  const aLen = (b[aStart - 2]! << 8) | b[aStart - 1]!;
  if (aStart + aLen > b.length) return fail(UpdateSubcode.MalformedAttributeList, `path attribute length ${aLen} overruns the message`);
  const attrs = decodeAttributes(b, aStart, aStart + aLen, ctx);
  if (!attrs.ok) return attrs;
  const nlri = readNlri(b, aStart + aLen, b.length, AFI_IPV4);
  // RFC 7606 5.3: NLRI that cannot be parsed leave nothing to withdraw reliably: session reset.
  if (!nlri.ok) return fail(UpdateSubcode.InvalidNetworkField, `NLRI: ${nlri.reason}`);
  const message: UpdateMessage = { type: 'update', withdrawn: withdrawn.prefixes, attributes: attrs.outcome.attrs, nlri: nlri.prefixes };
  const withdrawReasons = [...attrs.outcome.withdrawReasons];
  const missing = withdrawReasons.length ? null : missingWellKnown(message);
  if (missing) withdrawReasons.push(missing); // RFC 7606 3.d
  return { ok: true, update: { message, withdrawReasons, discarded: attrs.outcome.discarded } };
}

export function encodeUpdateBody(m: Omit<UpdateMessage, 'type'>, ctx: EncodeContext): Uint8Array {
  const w = encodePrefixField(m.withdrawn);
  const a = encodeAttributes(m.attributes, ctx);
  const n = encodePrefixField(m.nlri);
  const out = new Uint8Array(4 + w.length + a.length + n.length);
  out[0] = w.length >> 8; out[1] = w.length & 0xff;
  out.set(w, 2);
  out[2 + w.length] = a.length >> 8; out[3 + w.length] = a.length & 0xff;
  out.set(a, 4 + w.length);
  out.set(n, 4 + w.length + a.length);
  return out;
}

function encodePrefixField(prefixes: string[]): Uint8Array {
  const parsed = prefixes.map((p) => parsePrefix(p)!);
  const out = new Uint8Array(parsed.reduce((s, p) => s + nlriSize(p.len), 0));
  let off = 0;
  for (const p of parsed) off = writeNlri(out, off, p);
  return out;
}

/** The family an UPDATE marks as End-of-RIB, or null when it is an ordinary UPDATE. */
export function endOfRibFamily(m: UpdateMessage): Afi | null {
  const a = m.attributes;
  const keys = Object.keys(a).filter((k) => a[k as keyof PathAttributes] !== undefined);
  if (m.withdrawn.length || m.nlri.length) return null;
  if (keys.length === 0) return AFI_IPV4;
  if (keys.length === 1 && a.mpUnreach && a.mpUnreach.withdrawn.length === 0 && a.mpUnreach.safi === SAFI_UNICAST) {
    return a.mpUnreach.afi === AFI_IPV6 ? AFI_IPV6 : a.mpUnreach.afi === AFI_IPV4 ? AFI_IPV4 : null;
  }
  return null;
}

export function endOfRib(afi: Afi): Omit<UpdateMessage, 'type'> {
  if (afi === AFI_IPV4) return { withdrawn: [], attributes: {}, nlri: [] };
  return { withdrawn: [], attributes: { mpUnreach: { afi, safi: SAFI_UNICAST, withdrawn: [] } }, nlri: [] };
}

/** What an UPDATE means for a RIB: prefixes announced (with attributes) and prefixes gone. */
export interface RouteChanges {
  announced: string[];
  withdrawn: string[];
  /** Attributes shared by the announced prefixes; MP next hops already folded into `nextHops`. */
  attributes: PathAttributes;
  nextHopsV6: string[];
}

/** Apply RFC 7606 treat-as-withdraw: with reasons present, every announced prefix counts as withdrawn. */
export function routeChanges(u: DecodedUpdate): RouteChanges {
  const m = u.message;
  const announced = [...m.nlri, ...(m.attributes.mpReach?.nlri ?? [])];
  const withdrawn = [...m.withdrawn, ...(m.attributes.mpUnreach?.withdrawn ?? [])];
  const nextHopsV6 = m.attributes.mpReach?.afi === AFI_IPV6 ? m.attributes.mpReach.nextHops : [];
  if (u.withdrawReasons.length) return { announced: [], withdrawn: [...withdrawn, ...announced], attributes: m.attributes, nextHopsV6 };
  return { announced, withdrawn, attributes: m.attributes, nextHopsV6 };
}

export interface PackInput {
  /** Attributes for IPv4 routes (must include NEXT_HOP) — ignored when `announce` is empty. */
  attributes: PathAttributes;
  announce: string[];
  withdraw: string[];
  /** IPv6 next hops (global, optional link-local) for IPv6 prefixes in `announce`. */
  nextHopsV6?: string[];
}

/**
 * Pack prefixes sharing one attribute set into as few UPDATE bodies as fit in `maxBody` octets. IPv4 goes in the
 * classic fields, IPv6 in MP_REACH/MP_UNREACH. The attribute block is re-encoded per message only for IPv6,
 * because there the NLRI live inside it.
 */
export function packUpdates(input: PackInput, ctx: EncodeContext, maxBody: number): Uint8Array[] {
  const v4a = input.announce.filter((p) => afiOf(p) === AFI_IPV4);
  const v6a = input.announce.filter((p) => afiOf(p) === AFI_IPV6);
  const v4w = input.withdraw.filter((p) => afiOf(p) === AFI_IPV4);
  const v6w = input.withdraw.filter((p) => afiOf(p) === AFI_IPV6);
  const out: Uint8Array[] = [];
  const baseAttrLen = encodeAttributes(input.attributes, ctx).length;
  for (const chunk of chunkBySize(v4w, maxBody - 4)) out.push(encodeUpdateBody({ withdrawn: chunk, attributes: {}, nlri: [] }, ctx));
  for (const chunk of chunkBySize(v4a, maxBody - 4 - baseAttrLen)) out.push(encodeUpdateBody({ withdrawn: [], attributes: input.attributes, nlri: chunk }, ctx));
  const { nextHop: _nh, ...v6attrs } = input.attributes;
  const v6base = encodeAttributes(v6attrs, ctx).length + 4 + 5 + 32;
  for (const chunk of chunkBySize(v6w, maxBody - 4 - 8)) {
    out.push(encodeUpdateBody({ withdrawn: [], attributes: { mpUnreach: { afi: AFI_IPV6, safi: SAFI_UNICAST, withdrawn: chunk } }, nlri: [] }, ctx));
  }
  for (const chunk of chunkBySize(v6a, maxBody - 4 - v6base)) {
    const mpReach = { afi: AFI_IPV6, safi: SAFI_UNICAST, nextHops: input.nextHopsV6 ?? [], nlri: chunk };
    out.push(encodeUpdateBody({ withdrawn: [], attributes: { ...v6attrs, mpReach }, nlri: [] }, ctx));
  }
  return out;
}

function chunkBySize(prefixes: string[], room: number): string[][] {
  const chunks: string[][] = [];
  let cur: string[] = [];
  let used = 0;
  for (const p of prefixes) {
    const len = Number(p.slice(p.indexOf('/') + 1));
    const size = nlriSize(len);
    if (used + size > room && cur.length) { chunks.push(cur); cur = []; used = 0; }
    cur.push(p);
    used += size;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}
