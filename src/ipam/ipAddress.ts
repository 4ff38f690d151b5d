/**
 * @module ipam/ipAddress — IPv4/IPv6 addresses and prefixes as bigints: parse, format, arithmetic. Pure.
 *
 * Formatting matches Go's `net.IP.String()` (RFC 5952: lower case, the longest run of two or more zero groups
 * compressed), because host-local names its lease files that way and we share its data directory.
 */

export type Family = 4 | 6;

export interface IpAddr {
  readonly family: Family;
  readonly value: bigint;
}

export interface IpPrefix {
  /** The address as written (may have host bits set). */
  readonly addr: IpAddr;
  readonly prefixLen: number;
}

export function bitsOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0'))) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6Groups(s: string): number[] | null {
  if (s === '') return [];
  const groups: number[] = [];
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === null) return null;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      groups.push(parseInt(p, 16));
    }
  }
  return groups;
}

function parseV6(s: string): bigint | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = parseV6Groups(halves[0]!);
  const tail = halves.length === 2 ? parseV6Groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parse an address; null when it is not one. */
export function parseIp(s: string): IpAddr | null {
  if (s.includes(':')) {
    const v = parseV6(s);
    return v === null ? null : { family: 6, value: v };
  }
  const v = parseV4(s);
  return v === null ? null : { family: 4, value: v };
}

/** Parse `ADDR/LEN`; null when malformed. */
export function parsePrefix(s: string): IpPrefix | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(lenText)) return null;
  const prefixLen = Number(lenText);
  if (prefixLen > bitsOf(addr.family)) return null;
  return { addr, prefixLen };
}

export function formatIp(ip: IpAddr): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
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

export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p.addr)}/${p.prefixLen}`;
}

export function maskOf(family: Family, prefixLen: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLen))) - 1n);
}

/** The network address of a prefix (host bits cleared). */
export function networkOf(p: IpPrefix): IpAddr {
  return { family: p.addr.family, value: p.addr.value & maskOf(p.addr.family, p.prefixLen) };
}

/** The last address of a prefix (all host bits set). */
export function lastOf(p: IpPrefix): IpAddr {
  const host = (1n << BigInt(bitsOf(p.addr.family) - p.prefixLen)) - 1n;
  return { family: p.addr.family, value: networkOf(p).value | host };
}

export function prefixContains(p: IpPrefix, ip: IpAddr): boolean {
  return p.addr.family === ip.family && (ip.value & maskOf(ip.family, p.prefixLen)) === networkOf(p).value;
}

export function offsetIp(ip: IpAddr, delta: bigint): IpAddr {
  return { family: ip.family, value: ip.value + delta };
}

export function ipEquals(a: IpAddr, b: IpAddr): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Canonical text of an address string, or null when it does not parse. */
export function canonicalIp(s: string): string | null {
  const ip = parseIp(s);
  return ip ? formatIp(ip) : null;
}
