/**
 * @module lb/ipAddress — IPv4/IPv6 addresses as (family, bigint) pairs: parsing, formatting and bytes, so pool
 * ranges of either family are plain integer intervals. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface IpValue {
  family: IpFamily;
  value: bigint;
}

const V6_GROUPS = 8;

function parseV6(text: string): bigint {
  let s = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest === undefined ? [] : rest ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : V6_GROUPS - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

/** The address, or undefined when `text` is not a literal IPv4/IPv6 address (zone ids are not accepted). */
export function parseIp(text: string): IpValue | undefined {
  if (isIPv4(text)) return { family: 4, value: parseV4(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: parseV6(text) };
  return undefined;
}

export function formatIp(ip: IpValue): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = V6_GROUPS - 1; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (of 2 or more) of zero groups, the first one on ties.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < V6_GROUPS;) {
    let j = i;
    while (j < V6_GROUPS && groups[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Canonical text of an address literal (so "10.0.0.01"-free comparisons work on v6 spellings), or undefined. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

export function ipToBytes(ip: IpValue): Uint8Array {
  const n = ip.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[n - 1 - i] = Number((ip.value >> BigInt(8 * i)) & 0xffn);
  return out;
}

export function ipFromBytes(bytes: Uint8Array): IpValue {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value: v };
}

/** Text of a 4- or 16-byte address. */
export function bytesToIpText(bytes: Uint8Array): string {
  return formatIp(ipFromBytes(bytes));
}

export function ipTextToBytes(text: string): Uint8Array {
  const ip = parseIp(text);
  if (!ip) throw new TypeError(`not an IP address: "${text}"`);
  return ipToBytes(ip);
}

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}
