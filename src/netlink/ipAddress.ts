/**
 * @module netlink/ipAddress — IP and MAC address text ⇄ bytes, pure. IPv6 text follows RFC 5952 (lower case,
 * longest run of zero groups compressed, a single zero group left alone) so it compares equal to `ip -j` output.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { NetlinkEncodeError } from './errors.ts';

export type IpFamily = 4 | 6;

export function ipFamilyOf(text: string): IpFamily {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  throw new NetlinkEncodeError(`"${text}" is not an IPv4 or IPv6 address`);
}

export function parseIp(text: string): Uint8Array {
  const family = ipFamilyOf(text);
  if (family === 4) return Uint8Array.from(text.split('.').map((p) => Number(p)));
  return parseIpv6(text);
}

function parseIpv6(text: string): Uint8Array {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const dotted = s.slice(lastColon + 1);
  if (dotted.includes('.')) {
    // ::ffff:1.2.3.4 — rewrite the dotted tail as two hex groups.
    const b = dotted.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const double = s.indexOf('::');
  const toGroups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = toGroups(double < 0 ? s : s.slice(0, double));
  const right = double < 0 ? [] : toGroups(s.slice(double + 2));
  const zeros = double < 0 ? 0 : 8 - left.length - right.length;
  if (zeros < 0) throw new NetlinkEncodeError(`"${text}" is not a valid IPv6 address`);
  const groups = [...left, ...new Array<number>(zeros).fill(0), ...right];
  if (groups.length !== 8) throw new NetlinkEncodeError(`"${text}" is not a valid IPv6 address`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Bytes of an address (4 or 16) as text; other lengths as colon-separated hex. */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return formatMac(b);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new NetlinkEncodeError(`"${text}" is not a MAC address (expected six hex bytes separated by colons)`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** "10.1.0.0/24" → address + prefix length; a bare address gets the full length. */
export function parsePrefix(text: string): { address: string; prefixLen: number; family: IpFamily } {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamilyOf(address);
  const max = family === 4 ? 32 : 128;
  const prefixLen = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) {
    throw new NetlinkEncodeError(`"${text}": prefix length must be 0..${max}`);
  }
  return { address, prefixLen, family };
}
