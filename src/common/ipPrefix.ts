/**
 * @module common/ipPrefix — `address/length` prefixes (CIDRs) over common/ipAddress: parse with a reason, format,
 * network/last address, containment, overlap, subnetting. Pure.
 *
 * What to do with host bits (`10.0.0.7/24`) differs by caller, so it is an explicit choice, never a silent one:
 * `reject` (the default: a typo in a CIDR is usually a mistake), `clear` (route keys, BGP NLRI, pool ranges: the
 * network is what matters) or `keep` (CNI `ipam` addresses, where `10.0.0.7/24` means "this host in that subnet").
 */
import { AddressError } from './errors.ts';
import { bitsOf, formatIp, parseIp, type IpAddress, type IpFamily } from './ipAddress.ts';

export interface IpPrefix {
  /** The address as written, or the network address when host bits were cleared. */
  readonly addr: IpAddress;
  readonly prefixLen: number;
}

export type HostBits = 'reject' | 'clear' | 'keep';

export interface PrefixOptions {
  /** Default `reject`. */
  hostBits?: HostBits;
  /** Accept a bare address as a host prefix (/32 or /128). Default false. */
  bareAddress?: boolean;
}

// Every parse masks, and BGP parses every prefix it advertises: the masks are computed once.
const MASKS: Record<IpFamily, readonly bigint[]> = {
  4: Array.from({ length: 33 }, (_, len) => computeMask(len, 32)),
  6: Array.from({ length: 129 }, (_, len) => computeMask(len, 128)),
};

function computeMask(len: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - len)) - 1n);
}

/** The netmask of `/prefixLen` as an integer (`/24` → 0xffffff00). */
export function maskOf(family: IpFamily, prefixLen: number): bigint {
  const m = MASKS[family][prefixLen];
  if (m === undefined) throw new AddressError(`/${prefixLen}`, 'prefix', `prefix length is out of range 0..${bitsOf(family)} for IPv${family}`);
  return m;
}

function fail(text: string, why: string): never {
  throw new AddressError(text, 'prefix', why);
}

function parseLength(text: string, lenText: string, family: IpFamily): number {
  const max = bitsOf(family);
  if (!/^\d{1,3}$/.test(lenText)) fail(text, `prefix length "${lenText}" is not a decimal number 0..${max}`);
  const len = Number(lenText);
  if (len > max) fail(text, `prefix length ${len} is out of range 0..${max} for IPv${family}`);
  return len;
}

function addressOf(text: string, addrText: string): IpAddress {
  try {
    return parseIp(addrText);
  } catch (err) {
    if (err instanceof AddressError) fail(text, `"${addrText}" is not an IP address: ${err.reason}`);
    throw err;
  }
}

/** Parse `address/length`; throws AddressError naming the input and the rule it broke. */
export function parsePrefix(text: string, opts: PrefixOptions = {}): IpPrefix {
  const slash = text.indexOf('/');
  if (slash < 0 && !opts.bareAddress) fail(text, 'expected ADDRESS/LENGTH, there is no "/"');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = addressOf(text, addrText);
  const prefixLen = slash < 0 ? bitsOf(addr.family) : parseLength(text, text.slice(slash + 1), addr.family);
  const network = addr.value & maskOf(addr.family, prefixLen);
  const mode = opts.hostBits ?? 'reject';
  if (network !== addr.value && mode === 'reject') {
    fail(text, `host bits are set (the network is ${formatIp({ family: addr.family, value: network })}/${prefixLen})`);
  }
  return { addr: mode === 'clear' ? { family: addr.family, value: network } : addr, prefixLen };
}

/** The prefix, or undefined when `text` is not one under `opts`. */
export function tryParsePrefix(text: string, opts: PrefixOptions = {}): IpPrefix | undefined {
  try {
    return parsePrefix(text, opts);
  } catch (err) {
    if (err instanceof AddressError) return undefined;
    throw err;
  }
}

export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p.addr)}/${p.prefixLen}`;
}

/** `10.244.3.7/20` → `10.244.0.0/20`, IPv6 in RFC 5952 text; throws AddressError when it is not a prefix. */
export function canonicalPrefix(text: string): string {
  const p = parsePrefix(text, { hostBits: 'clear' });
  return formatPrefix(p);
}

export function prefixFamily(p: IpPrefix): IpFamily {
  return p.addr.family;
}

/** The network address (host bits cleared). */
export function networkOf(p: IpPrefix): IpAddress {
  return { family: p.addr.family, value: p.addr.value & maskOf(p.addr.family, p.prefixLen) };
}

/** The last address (all host bits set): the IPv4 broadcast address. */
export function lastOf(p: IpPrefix): IpAddress {
  const host = (1n << BigInt(bitsOf(p.addr.family) - p.prefixLen)) - 1n;
  return { family: p.addr.family, value: networkOf(p).value | host };
}

/** Number of addresses the prefix covers. */
export function prefixSize(p: IpPrefix): bigint {
  return 1n << BigInt(bitsOf(p.addr.family) - p.prefixLen);
}

export function prefixContains(p: IpPrefix, ip: IpAddress): boolean {
  return p.addr.family === ip.family && (ip.value & maskOf(ip.family, p.prefixLen)) === networkOf(p).value;
}

/** Two prefixes of one family overlap exactly when the shorter one contains the other's network. */
export function prefixesOverlap(a: IpPrefix, b: IpPrefix): boolean {
  if (a.addr.family !== b.addr.family) return false;
  const [shorter, longer] = a.prefixLen <= b.prefixLen ? [a, b] : [b, a];
  return prefixContains(shorter, networkOf(longer));
}

/** `/32` or `/128` around one address. */
export function hostPrefixOf(ip: IpAddress): IpPrefix {
  return { addr: ip, prefixLen: bitsOf(ip.family) };
}

/** How many `/subnetLen` subnets `parent` splits into; throws when subnetLen is shorter than the parent or too long. */
export function subnetCount(parent: IpPrefix, subnetLen: number): bigint {
  const max = bitsOf(parent.addr.family);
  if (!Number.isInteger(subnetLen) || subnetLen < parent.prefixLen || subnetLen > max) {
    throw new AddressError(`${formatPrefix(parent)} split into /${subnetLen}`, 'range', `cannot split into /${subnetLen}: must be /${parent.prefixLen}..${max}`);
  }
  return 1n << BigInt(subnetLen - parent.prefixLen);
}

/** The `index`-th `/subnetLen` subnet of `parent` (0-based); throws when index is past the last one. */
export function subnetAt(parent: IpPrefix, subnetLen: number, index: bigint): IpPrefix {
  const count = subnetCount(parent, subnetLen);
  if (index < 0n || index >= count) {
    throw new AddressError(`${formatPrefix(parent)} subnet #${index}`, 'range', `subnet index ${index} is outside 0..${count - 1n} for /${subnetLen}`);
  }
  const step = 1n << BigInt(bitsOf(parent.addr.family) - subnetLen);
  return { addr: { family: parent.addr.family, value: networkOf(parent).value + index * step }, prefixLen: subnetLen };
}
