/**
 * @module routing/cidrMath — the few prefix computations routing needs (network address, containment, overlap),
 * on byte arrays so IPv4 and IPv6 share one code path. Pure.
 */
import { formatIp, parseIp, parsePrefix, type IpFamily } from '../netlink/ipAddress.ts';

export interface Cidr {
  bytes: Uint8Array;
  prefixLen: number;
  family: IpFamily;
}

export function parseCidr(text: string): Cidr {
  const p = parsePrefix(text);
  return { bytes: maskBytes(parseIp(p.address), p.prefixLen), prefixLen: p.prefixLen, family: p.family };
}

function maskBytes(b: Uint8Array, prefixLen: number): Uint8Array {
  const out = Uint8Array.from(b);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i] = out[i]! & (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/** "10.244.3.7/24" → "10.244.3.0/24". */
export function canonicalCidr(text: string): string {
  const c = parseCidr(text);
  return `${formatIp(c.bytes)}/${c.prefixLen}`;
}

/** The network address of a CIDR: flannel's VTEP address for a node's pod subnet ("10.244.3.0"). */
export function networkAddress(text: string): string {
  return formatIp(parseCidr(text).bytes);
}

export function cidrContains(cidr: string | Cidr, address: string): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const a = parseIp(address);
  if (a.length !== c.bytes.length) return false;
  const m = maskBytes(a, c.prefixLen);
  return m.every((x, i) => x === c.bytes[i]);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  if (ca.family !== cb.family) return false;
  const shorter = ca.prefixLen <= cb.prefixLen ? ca : cb;
  const longer = shorter === ca ? cb : ca;
  return cidrContains(shorter, formatIp(longer.bytes));
}

/** Host prefix of an address: /32 or /128. */
export function hostPrefix(address: string): string {
  return `${address}/${address.includes(':') ? 128 : 32}`;
}
