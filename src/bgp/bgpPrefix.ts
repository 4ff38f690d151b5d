/**
 * @module bgp/bgpPrefix — addresses and NLRI prefixes in BGP's wire form (RFC 4271 4.3, RFC 4760 5). Pure.
 *
 * Prefixes travel through the speaker as canonical strings ("10.1.0.0/24", "2001:db8::/32"): they are map keys in
 * every RIB, so one canonical spelling (host bits cleared, RFC 5952 for IPv6) is what makes lookups correct.
 */
import { ipBytesToText, ipToBytes, tryParseIp } from '../common/ipAddress.ts';
import { formatPrefix, tryParsePrefix } from '../common/ipPrefix.ts';

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;
export type Afi = typeof AFI_IPV4 | typeof AFI_IPV6;

/** Family of a canonical prefix or address string. */
export function afiOf(prefixOrAddr: string): Afi {
  return prefixOrAddr.includes(':') ? AFI_IPV6 : AFI_IPV4;
}

// Address and prefix text rules (RFC 5952, host bits, lengths) are common/ipAddress and common/ipPrefix; what
// stays here is BGP's view: bytes at an offset in a message, and prefixes keyed by canonical text.

/** The IPv4 address at `b[off..off+4]` (router id, NEXT_HOP, ORIGINATOR_ID, ...) as text. */
export function formatV4(b: Uint8Array, off = 0): string {
  return ipBytesToText(b.subarray(off, off + 4));
}

/** The IPv6 address at `b[off..off+16]` as RFC 5952 text. */
export function formatV6(b: Uint8Array, off = 0): string {
  return ipBytesToText(b.subarray(off, off + 16));
}

/** 4 bytes of an IPv4 literal (a router id), or null when `s` is not one. */
export function parseV4(s: string): Uint8Array | null {
  const ip = tryParseIp(s);
  return ip?.family === 4 ? ipToBytes(ip) : null;
}

/** 4 or 16 bytes of an address literal, or null when `s` is not one. */
export function parseAddress(s: string): Uint8Array | null {
  const ip = tryParseIp(s);
  return ip ? ipToBytes(ip) : null;
}

export function formatAddress(b: Uint8Array): string {
  return ipBytesToText(b);
}

export interface ParsedPrefix {
  afi: Afi;
  bytes: Uint8Array;
  len: number;
}

/** Parse "addr/len"; host bits are cleared (RIB keys are networks). Null when malformed. */
export function parsePrefix(s: string): ParsedPrefix | null {
  const p = tryParsePrefix(s, { hostBits: 'clear' });
  if (!p) return null;
  return { afi: p.addr.family === 4 ? AFI_IPV4 : AFI_IPV6, bytes: ipToBytes(p.addr), len: p.prefixLen };
}

/** Canonical spelling of a prefix string, or null when it is not one. */
export function canonicalPrefix(s: string): string | null {
  const p = tryParsePrefix(s, { hostBits: 'clear' });
  return p ? formatPrefix(p) : null;
}

/** Wire size of one NLRI entry: a length octet and ceil(len/8) octets. */
export function nlriSize(len: number): number {
  return 1 + ((len + 7) >> 3);
}

/** Append one prefix in NLRI form at `off`; returns the new offset. */
export function writeNlri(out: Uint8Array, off: number, p: ParsedPrefix): number {
  out[off] = p.len;
  const n = (p.len + 7) >> 3;
  out.set(p.bytes.subarray(0, n), off + 1);
  return off + 1 + n;
}

export type NlriResult = { ok: true; prefixes: string[] } | { ok: false; reason: string };

/**
 * Decode a run of NLRI entries. Trailing bits beyond the length are cleared (RFC 4271 leaves them
 * "irrelevant"), so the keys stay canonical whatever the sender put there.
 */
export function readNlri(b: Uint8Array, start: number, end: number, afi: Afi): NlriResult {
  const max = afi === AFI_IPV4 ? 32 : 128;
  const prefixes: string[] = [];
  const addr = new Uint8Array(max / 8);
  let off = start;
  while (off < end) {
    const len = b[off]!;
    if (len > max) return { ok: false, reason: `prefix length ${len} exceeds ${max}` };
    const n = (len + 7) >> 3;
    if (off + 1 + n > end) return { ok: false, reason: `prefix /${len} runs past the end of its field` };
    addr.fill(0);
    addr.set(b.subarray(off + 1, off + 1 + n));
    if (len & 7) addr[n - 1]! &= (0xff << (8 - (len & 7))) & 0xff;
    prefixes.push(`${ipBytesToText(addr)}/${len}`);
    off += 1 + n;
  }
  return { ok: true, prefixes };
}

/** Is this IPv6 address link-local (fe80::/10)? */
export function isLinkLocalV6(b: Uint8Array): boolean {
  return b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}
