/**
 * @module bgp/bgpPrefix — addresses and NLRI prefixes in BGP's wire form (RFC 4271 4.3, RFC 4760 5). Pure.
 *
 * Prefixes travel through the speaker as canonical strings ("10.1.0.0/24", "2001:db8::/32"): they are map keys in
 * every RIB, so one canonical spelling (host bits cleared, RFC 5952 for IPv6) is what makes lookups correct.
 */

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;
export type Afi = typeof AFI_IPV4 | typeof AFI_IPV6;

/** Family of a canonical prefix or address string. */
export function afiOf(prefixOrAddr: string): Afi {
  return prefixOrAddr.includes(':') ? AFI_IPV6 : AFI_IPV4;
}

export function formatV4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952: lower case, longest run (≥ 2) of zero groups compressed, first run wins a tie. */
export function formatV6(b: Uint8Array, off = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function parseV4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseGroups(s: string): number[] | null {
  if (s === '') return [];
  const out: number[] = [];
  for (const p of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
    out.push(parseInt(p, 16));
  }
  return out;
}

export function parseV6(s: string): Uint8Array | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

export function parseAddress(s: string): Uint8Array | null {
  return s.includes(':') ? parseV6(s) : parseV4(s);
}

export function formatAddress(b: Uint8Array): string {
  return b.length === 4 ? formatV4(b) : formatV6(b);
}

export interface ParsedPrefix {
  afi: Afi;
  bytes: Uint8Array;
  len: number;
}

/** Parse "addr/len"; host bits are cleared. Null when malformed. */
export function parsePrefix(s: string): ParsedPrefix | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  const afi = afiOf(s);
  const bytes = afi === AFI_IPV4 ? parseV4(s.slice(0, slash)) : parseV6(s.slice(0, slash));
  if (!bytes || len > bytes.length * 8) return null;
  clearHostBits(bytes, len);
  return { afi, bytes, len };
}

function clearHostBits(bytes: Uint8Array, len: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
}

/** Canonical spelling of a prefix string, or null when it is not one. */
export function canonicalPrefix(s: string): string | null {
  const p = parsePrefix(s);
  return p ? `${formatAddress(p.bytes)}/${p.len}` : null;
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
    prefixes.push(`${afi === AFI_IPV4 ? formatV4(addr) : formatV6(addr)}/${len}`);
    off += 1 + n;
  }
  return { ok: true, prefixes };
}

/** Is this IPv6 address link-local (fe80::/10)? */
export function isLinkLocalV6(b: Uint8Array): boolean {
  return b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}
