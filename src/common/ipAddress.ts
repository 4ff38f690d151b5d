/**
 * @module common/ipAddress — IPv4/IPv6 addresses for every subsystem: text ⇄ (family, bigint) ⇄ bytes. Pure.
 * Prefixes (`a/len`) live next door in common/ipPrefix.ts.
 *
 * Why one module: ipam names lease files by address text, netlink compares against `ip -j`, BGP keys its RIBs by
 * prefix text, the LB keys announcements by address text. If two of them spell `fd00::1` differently, lookups miss
 * silently, so there is exactly one parser and one formatter.
 *
 * Rules, chosen on purpose:
 * - Output is RFC 5952 text: lower case, the longest run of two or more zero groups compressed (the first on a
 *   tie), a single zero group left alone, IPv4-mapped addresses (::ffff:0:0/96) written `::ffff:a.b.c.d` (RFC 5952
 *   §5) — the same spelling as glibc inet_ntop, hence `ip -j`, and Go's net.IP for non-mapped addresses.
 * - IPv4 octets with a leading zero (`010.0.0.1`) are rejected: inet_aton reads them as octal, Go and Node reject
 *   them, so accepting them would mean two programs disagreeing about which address a config names.
 * - Zone ids (`fe80::1%eth0`) are rejected with a reason: no caller stores an interface scope, and dropping the
 *   zone silently would turn a link-local neighbour into an ambiguous one.
 * - Values are bigint so IPv4 and IPv6 share all arithmetic (ranges, offsets, containment) in one code path.
 */
import { AddressError } from './errors.ts';

export type IpFamily = 4 | 6;

/** An address: family plus its value as an unsigned integer of 32 or 128 bits. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

type Parsed<T> = { ok: T } | { why: string };

export function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

const MAX_V4 = (1n << 32n) - 1n;
const MAX_V6 = (1n << 128n) - 1n;

export function maxValueOf(family: IpFamily): bigint {
  return family === 4 ? MAX_V4 : MAX_V6;
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

function parseV4(s: string): Parsed<bigint> {
  // Fast path for the common, valid case; the loop below exists to say what is wrong.
  const m = DOTTED_QUAD.exec(s);
  if (m) {
    const [a, b, c, d] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (a <= 255 && b <= 255 && c <= 255 && d <= 255) return { ok: BigInt(((a * 256 + b) * 256 + c) * 256 + d) };
  }
  const parts = s.split('.');
  if (parts.length !== 4) return { why: `an IPv4 address has four dot-separated octets, found ${parts.length}` };
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return { why: `octet "${p}" is not a decimal number 0..255` };
    if (p.length > 1 && p.startsWith('0')) return { why: `octet "${p}" has a leading zero (octal or decimal is ambiguous)` };
    const n = Number(p);
    if (n > 255) return { why: `octet "${p}" is above 255` };
    v = v * 256 + n;
  }
  return { ok: BigInt(v) };
}

/** Groups of one side of `::`; a dotted IPv4 tail is allowed only as the very last group of the address. */
function parseV6Groups(s: string, isLastSide: boolean): Parsed<number[]> {
  if (s === '') return { ok: [] };
  const groups: number[] = [];
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.includes('.') && isLastSide && i === parts.length - 1) {
      const v4 = parseV4(p);
      if ('why' in v4) return { why: `embedded IPv4 "${p}": ${v4.why}` };
      groups.push(Number(v4.ok >> 16n), Number(v4.ok & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
      groups.push(parseInt(p, 16));
    } else {
      return { why: p === '' ? 'empty group (a single ":" where "::" or a group was expected)' : `group "${p}" is not 1-4 hex digits` };
    }
  }
  return { ok: groups };
}

function parseV6(s: string): Parsed<bigint> {
  if (s.includes('%')) return { why: `zone ids ("%${s.slice(s.indexOf('%') + 1)}") are not accepted here; give the address alone` };
  const halves = s.split('::');
  if (halves.length > 2) return { why: '"::" may appear only once' };
  const head = parseV6Groups(halves[0]!, halves.length === 1);
  if ('why' in head) return head;
  const tail = halves.length === 2 ? parseV6Groups(halves[1]!, true) : { ok: [] };
  if ('why' in tail) return tail;
  const given = head.ok.length + tail.ok.length;
  if (halves.length === 1 && given !== 8) return { why: `an IPv6 address without "::" has 8 groups, found ${given}` };
  if (halves.length === 2 && given > 7) return { why: `"::" stands for at least one zero group, but ${given} groups are given` };
  const zeros = new Array<number>(8 - given).fill(0);
  const groups = halves.length === 2 ? [...head.ok, ...zeros, ...tail.ok] : head.ok;
  let v = 0n;
  for (let i = 0; i < 8; i += 2) v = (v << 32n) | BigInt(groups[i]! * 0x10000 + groups[i + 1]!);
  return { ok: v };
}

function parseAny(text: string): Parsed<IpAddress> {
  if (text === '') return { why: 'empty text is not an IP address' };
  const r = text.includes(':') ? parseV6(text) : parseV4(text);
  if ('why' in r) return r;
  return { ok: { family: text.includes(':') ? 6 : 4, value: r.ok } };
}

/** Parse an IPv4 or IPv6 literal; throws AddressError saying why it is not one. */
export function parseIp(text: string): IpAddress {
  const r = parseAny(text);
  if ('why' in r) throw new AddressError(text, 'address', r.why);
  return r.ok;
}

/** The address, or undefined when `text` is not one (for validators that collect their own messages). */
export function tryParseIp(text: string): IpAddress | undefined {
  const r = parseAny(text);
  return 'ok' in r ? r.ok : undefined;
}

/** Family of an address literal, or undefined when it is not one. A full parse, not a guess from the characters. */
export function ipFamilyOf(text: string): IpFamily | undefined {
  return tryParseIp(text)?.family;
}

export function isIpv4Mapped(ip: IpAddress): boolean {
  return ip.family === 6 && ip.value >> 32n === 0xffffn;
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; anything else unchanged. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  return isIpv4Mapped(ip) ? { family: 4, value: ip.value & 0xffffffffn } : ip;
}

/** `a.b.c.d` → `::ffff:a.b.c.d`; IPv6 unchanged. */
export function mapIpv4(ip: IpAddress): IpAddress {
  return ip.family === 4 ? { family: 6, value: (0xffffn << 32n) | ip.value } : ip;
}

function formatV4(v: bigint): string {
  const n = Number(v);
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Start and length of the longest run (two or more) of zero groups, the first on a tie; start -1 when none. */
function longestZeroRun(groups: readonly number[]): { start: number; len: number } {
  let best = { start: -1, len: 1 };
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  return best;
}

/** RFC 5952 text of eight 16-bit groups. */
function formatGroups(groups: readonly number[]): string {
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  const run = longestZeroRun(groups);
  const hex = groups.map((g) => g.toString(16));
  if (run.start < 0) return hex.join(':');
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.len).join(':')}`;
}

function formatV6(v: bigint): string {
  const groups: number[] = [];
  for (let shift = 96n; shift >= 0n; shift -= 32n) {
    const w = Number((v >> shift) & 0xffffffffn);
    groups.push(w >>> 16, w & 0xffff);
  }
  return formatGroups(groups);
}

/** Canonical text (RFC 5952 for IPv6). */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

/** Canonical text of an address literal, or undefined when it does not parse. */
export function canonicalIp(text: string): string | undefined {
  const ip = tryParseIp(text);
  return ip ? formatIp(ip) : undefined;
}

/** An address from its integer value; throws when the value does not fit the family. */
export function ipFromBigInt(family: IpFamily, value: bigint): IpAddress {
  if (value < 0n || value > maxValueOf(family)) {
    throw new AddressError(value.toString(), 'range', `the value is outside the IPv${family} address space`);
  }
  return { family, value };
}

/** Network byte order, 4 or 16 bytes. */
export function ipToBytes(ip: IpAddress): Uint8Array {
  const out = new Uint8Array(ip.family === 4 ? 4 : 16);
  // 32 bits at a time: a bigint shift per byte is what made BGP's UPDATE encoding slow.
  for (let at = out.length - 4, v = ip.value; at >= 0; at -= 4, v >>= 32n) {
    const w = Number(v & 0xffffffffn);
    out[at] = w >>> 24;
    out[at + 1] = (w >>> 16) & 0xff;
    out[at + 2] = (w >>> 8) & 0xff;
    out[at + 3] = w & 0xff;
  }
  return out;
}

/** An address from 4 or 16 bytes in network order; any other length throws. */
export function ipFromBytes(bytes: Uint8Array): IpAddress {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new AddressError(`<${bytes.length} bytes>`, 'address', 'an IP address is 4 (IPv4) or 16 (IPv6) bytes');
  }
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value: v };
}

export function ipTextToBytes(text: string): Uint8Array {
  return ipToBytes(parseIp(text));
}

/** Text of 4 or 16 bytes. Straight from the bytes, no bigint: BGP formats every received NLRI through here. */
export function ipBytesToText(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return formatIp(ipFromBytes(bytes)); // throws the length error
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return formatGroups(groups);
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Total order: IPv4 before IPv6, then by value. For sort(). */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** `ip + delta`; throws when the result leaves the family's address space (no silent wrap-around). */
export function offsetIp(ip: IpAddress, delta: bigint): IpAddress {
  const value = ip.value + delta;
  if (value < 0n || value > maxValueOf(ip.family)) {
    throw new AddressError(`${formatIp(ip)} + ${delta}`, 'range', `the result leaves the IPv${ip.family} address space`);
  }
  return { family: ip.family, value };
}

export function nextIp(ip: IpAddress): IpAddress {
  return offsetIp(ip, 1n);
}
