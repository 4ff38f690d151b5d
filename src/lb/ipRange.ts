/**
 * @module lb/ipRange — one entry of a pool's `addresses`: a CIDR (`10.0.0.0/24`, `fd00::/120`) or an inclusive
 * range `first-last` (`10.77.1.220-10.77.1.240`, spaces around the dash allowed as MetalLB allows them), as an
 * integer interval of one family. Pure. Address and prefix text rules come from common/ipAddress and
 * common/ipPrefix; only the `first-last` form and MetalLB's buggy-IP rule live here.
 */
import { AddressError } from '../common/errors.ts';
import { formatIp, tryParseIp, type IpAddress, type IpFamily } from '../common/ipAddress.ts';
import { lastOf, parsePrefix } from '../common/ipPrefix.ts';

export interface IpRange {
  family: IpFamily;
  first: bigint;
  last: bigint;
  /** As written, for messages. */
  text: string;
}

/** Host bits are cleared, as MetalLB (Go's net.ParseCIDR) does: `10.0.0.7/24` is the pool 10.0.0.0-10.0.0.255. */
function parseCidrRange(text: string, s: string): IpRange | { error: string } {
  try {
    const p = parsePrefix(s, { hostBits: 'clear' });
    return { family: p.addr.family, first: p.addr.value, last: lastOf(p).value, text: s };
  } catch (err) {
    if (err instanceof AddressError) return { error: `"${text}" is not a CIDR: ${err.reason}` };
    throw err;
  }
}

/** The range, or a reason the text is not one. */
export function parseIpRange(text: string): IpRange | { error: string } {
  const s = text.trim();
  if (s.includes('/')) return parseCidrRange(text, s);
  const parts = s.split('-').map((p) => p.trim());
  if (parts.length !== 2) return { error: `"${text}" is neither a CIDR nor a range "first-last"` };
  const a = tryParseIp(parts[0]!);
  const b = tryParseIp(parts[1]!);
  if (!a || !b) return { error: `"${text}": "${!a ? parts[0] : parts[1]}" is not an IP address` };
  if (a.family !== b.family) return { error: `"${text}" mixes IPv4 and IPv6` };
  if (a.value > b.value) return { error: `"${text}": the first address is after the last` };
  return { family: a.family, first: a.value, last: b.value, text: s };
}

export function rangeContains(r: IpRange, ip: IpAddress): boolean {
  return r.family === ip.family && ip.value >= r.first && ip.value <= r.last;
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeSize(r: IpRange): bigint {
  return r.last - r.first + 1n;
}

/**
 * MetalLB's avoidBuggyIPs: IPv4 addresses ending in .0 or .255 are skipped, because some old client stacks and
 * CPE routers treat them as network/broadcast addresses whatever the prefix length.
 */
export function isBuggyIp(ip: IpAddress): boolean {
  if (ip.family !== 4) return false;
  const last = ip.value & 0xffn;
  return last === 0n || last === 255n;
}

export function describeRange(r: IpRange): string {
  return `${formatIp({ family: r.family, value: r.first })}-${formatIp({ family: r.family, value: r.last })}`;
}
