/**
 * @module ipam/rangeSet — host-local's ranges and range sets, compiled and validated; the round-robin candidate
 * order. Pure: no I/O.
 *
 * A range set is a pool of disjoint ranges of one family; each range set yields one address per ADD, so
 * `[[v4 ranges], [v6 ranges]]` is dual stack. Defaults follow host-local (plugins/ipam/host-local/backend/allocator
 * range.go): gateway = network + 1, rangeStart = network + 1, rangeEnd = broadcast − 1 for IPv4 and the last address
 * for IPv6, and the gateway is never handed out even when it lies inside the range.
 */
import { bitsOf, formatIp, offsetIp, tryParseIp, type IpAddress, type IpFamily } from '../common/ipAddress.ts';
import { formatPrefix, lastOf, networkOf, prefixContains, tryParsePrefix, type IpPrefix } from '../common/ipPrefix.ts';

export interface RangeInput {
  subnet: string;
  rangeStart?: string | undefined;
  rangeEnd?: string | undefined;
  gateway?: string | undefined;
}

export interface IpRange {
  readonly subnet: IpPrefix;
  readonly start: IpAddress;
  readonly end: IpAddress;
  readonly gateway: IpAddress;
}

export type RangeSet = readonly IpRange[];

/** host-local refuses subnets with fewer than 4 addresses (IPv4 /31, /32; IPv6 /127, /128). */
const SMALLEST_PREFIX_HOST_BITS = 2;

/** Compile one range; problems are appended as `where.field: message` and the result is null on any problem. */
export function compileRange(input: RangeInput, where: string, problems: string[]): IpRange | null {
  const before = problems.length;
  const subnet = tryParsePrefix(input.subnet, { hostBits: 'keep' });
  if (!subnet) {
    problems.push(`${where}.subnet: "${input.subnet}" is not a CIDR (e.g. 10.244.1.0/24)`);
    return null;
  }
  const net = networkOf(subnet);
  if (net.value !== subnet.addr.value) {
    problems.push(`${where}.subnet: network ${input.subnet} has host bits set; for a mask of length ` +
      `${subnet.prefixLen} the network address is ${formatIp(net)}`);
  }
  if (bitsOf(net.family) - subnet.prefixLen < SMALLEST_PREFIX_HOST_BITS) {
    problems.push(`${where}.subnet: network ${input.subnet} is too small to allocate from`);
  }
  const cidr: IpPrefix = { addr: net, prefixLen: subnet.prefixLen };
  const readIn = (field: 'rangeStart' | 'rangeEnd' | 'gateway', def: IpAddress): IpAddress => {
    const text = input[field];
    if (text === undefined || text === '') return def;
    const ip = tryParseIp(text);
    if (!ip) problems.push(`${where}.${field}: "${text}" is not an IP address`);
    else if (!prefixContains(cidr, ip)) problems.push(`${where}.${field}: ${text} is not in network ${formatPrefix(cidr)}`);
    return ip ?? def;
  };
  const last = lastOf(cidr);
  const start = readIn('rangeStart', offsetIp(net, 1n));
  const end = readIn('rangeEnd', net.family === 4 ? offsetIp(last, -1n) : last);
  const gateway = readIn('gateway', offsetIp(net, 1n));
  if (start.value > end.value) {
    problems.push(`${where}: rangeStart ${formatIp(start)} is after rangeEnd ${formatIp(end)}`);
  }
  return problems.length > before ? null : { subnet: cidr, start, end, gateway };
}

export function rangeContains(r: IpRange, ip: IpAddress): boolean {
  return ip.family === r.start.family && ip.value >= r.start.value && ip.value <= r.end.value;
}

function overlaps(a: IpRange, b: IpRange): boolean {
  return a.start.family === b.start.family && a.start.value <= b.end.value && b.start.value <= a.end.value;
}

export function rangeSetFamily(set: RangeSet): IpFamily {
  return set[0]!.start.family;
}

/** The range in `set` that holds `ip`, or undefined. */
export function rangeFor(set: RangeSet, ip: IpAddress): IpRange | undefined {
  return set.find((r) => rangeContains(r, ip));
}

export function describeRangeSet(set: RangeSet): string {
  return set.map((r) => `${formatIp(r.start)}-${formatIp(r.end)}`).join(',');
}

/** Check what host-local checks across ranges: one family per set, no overlap inside a set or between sets. */
export function validateRangeSets(sets: readonly RangeSet[], where: string, problems: string[]): void {
  sets.forEach((set, i) => {
    if (set.length === 0) problems.push(`${where}[${i}]: a range set needs at least one range`);
    set.forEach((r, j) => {
      if (r.start.family !== set[0]!.start.family) {
        problems.push(`${where}[${i}][${j}]: mixes IPv${r.start.family} with IPv${set[0]!.start.family} in one range set`);
      }
      for (let k = 0; k < j; k++) {
        if (overlaps(r, set[k]!)) problems.push(`${where}[${i}][${j}]: overlaps range ${where}[${i}][${k}]`);
      }
    });
    for (let k = 0; k < i; k++) {
      if (set.some((r) => sets[k]!.some((o) => overlaps(r, o)))) {
        problems.push(`${where}[${i}]: range set overlaps range set ${where}[${k}]`);
      }
    }
  });
}

export interface Candidate {
  readonly ip: IpAddress;
  readonly range: IpRange;
}

/**
 * Candidates in host-local's round-robin order: from the address after `lastReserved` (if it is still inside the
 * set) to the end of its range, through the following ranges, wrapping around, back to `lastReserved` itself;
 * otherwise from the first range's start. Gateways are skipped. Lazy, so an IPv6 /64 costs nothing.
 * Round robin exists so that a crash-looping pod does not get its old address back at once.
 */
export function* candidates(set: RangeSet, lastReserved: IpAddress | null): Generator<Candidate> {
  let ri = 0;
  let first = set[0]!.start.value;
  const at = lastReserved ? set.findIndex((r) => rangeContains(r, lastReserved)) : -1;
  if (lastReserved && at >= 0) {
    ri = at;
    first = lastReserved.value + 1n;
    if (first > set[ri]!.end.value) {
      ri = (ri + 1) % set.length;
      first = set[ri]!.start.value;
    }
  }
  const family = set[0]!.start.family;
  for (let n = 0; n <= set.length; n++) {
    const range = set[(ri + n) % set.length]!;
    const from = n === 0 ? first : range.start.value;
    // The last lap revisits the starting range up to where the first lap began.
    const to = n === set.length ? first - 1n : range.end.value;
    for (let v = from; v <= to; v++) {
      if (v !== range.gateway.value) yield { ip: { family, value: v }, range };
    }
  }
}

/** How many addresses the set can hand out (gateways excluded). */
export function rangeSetSize(set: RangeSet): bigint {
  return set.reduce((sum, r) => sum + (r.end.value - r.start.value + 1n) - (rangeContains(r, r.gateway) ? 1n : 0n), 0n);
}
