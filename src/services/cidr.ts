/** CIDR parsing and membership for IPv4 and IPv6, as the proxy needs for nodePortAddresses and source ranges. */
import { isIP } from 'node:net';
import type { IPFamily } from '../store/types.ts';

export interface Cidr {
  family: IPFamily;
  address: string;
  prefix: number;
}

/** `a.b.c.d/n` or `x::/n` (a bare address is a host route); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [addr, len, extra] = text.split('/');
  if (!addr || extra !== undefined) return null;
  const v = isIP(addr);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) return null;
  return { family: v === 4 ? 'IPv4' : 'IPv6', address: addr, prefix };
}

function toBigInt(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const expand = (groups: string[]) => groups.flatMap((g) => (g.includes('.') ? v4Groups(g) : [g]));
  const hh = expand(h);
  const tt = expand(t);
  const groups = tail === undefined ? hh : [...hh, ...Array(8 - hh.length - tt.length).fill('0'), ...tt];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function v4Groups(dotted: string): string[] {
  const n = Number(toBigInt(dotted));
  return [((n >>> 16) & 0xffff).toString(16), (n & 0xffff).toString(16)];
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const v = isIP(ip);
  if (v === 0 || (v === 4) !== (c.family === 'IPv4')) return false;
  const bits = BigInt(c.family === 'IPv4' ? 32 : 128);
  const shift = bits - BigInt(c.prefix);
  return toBigInt(ip) >> shift === toBigInt(c.address) >> shift;
}
