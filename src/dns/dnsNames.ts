/**
 * @module dns/dnsNames — name and address spelling rules of the cluster zone: dashed-IP labels, reverse names,
 * IP text to bytes. Pure functions; names are lower case, absolute, without the trailing dot.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** `Cluster.Local.` → `cluster.local`. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split('.');
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

/** 16 bytes of an IPv6 address in text form (with `::` and an optional dotted IPv4 tail). Caller validates. */
export function ipv6Bytes(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = ip;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    text = `${text.slice(0, lastColon + 1)}0`;
  }
  const [headText, tailText] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const head = headText ? headText.split(':').map((h) => parseInt(h, 16)) : [];
  let rest = tailText === undefined ? [] : tailText ? tailText.split(':').map((h) => parseInt(h, 16)) : [];
  if (tail.length) {
    const groups = tailText === undefined ? head : rest;
    groups.splice(groups.length - 1, 1, ...tail);
    if (tailText === undefined) rest = [];
  }
  const groups = tailText === undefined ? head : [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (groups[i]! >> 8) & 0xff;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** Reverse-zone owner name of an address: `5.1.244.10.in-addr.arpa` or 32 nibbles + `ip6.arpa`. */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const bytes = ipv6Bytes(ip);
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    nibbles.push((bytes[i]! & 0xf).toString(16), (bytes[i]! >> 4).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

/**
 * The label used for an endpoint without a hostname, and for pod records: `10-244-1-5`, `fd00-10--5`. A label
 * may not start or end with `-` (coredns#7430), so a leading or trailing `::` gets a `0` next to it.
 */
export function dashedIp(ip: string): string {
  let label = ip.toLowerCase().replace(/[.:]/g, '-');
  if (label.endsWith('-')) label = `${label}0`;
  if (label.startsWith('-')) label = `0${label}`;
  return label;
}

/**
 * The address a pod-record label names, or null: exactly three `-` and no `--` is IPv4 (`10-244-1-5`),
 * anything else is read as IPv6 with `-` for `:` (CoreDNS parse rules).
 */
export function ipFromDashedLabel(label: string): string | null {
  const dashes = label.split('-').length - 1;
  if (dashes === 3 && !label.includes('--')) {
    const ip = label.replace(/-/g, '.');
    return isIPv4(ip) ? ip : null;
  }
  const ip = label.replace(/-/g, ':');
  return isIPv6(ip) ? ip : null;
}

/** Canonical text of an address (IPv6 compressed, lower case), so equal addresses compare equal. */
export function canonicalIp(ip: string): string | null {
  if (isIPv4(ip)) return ipv4Bytes(ip).join('.');
  if (!isIPv6(ip)) return null;
  const b = ipv6Bytes(ip);
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[i * 2]! << 8) | b[i * 2 + 1]!).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Whether `name` is `zone` or below it. */
export function isInZone(name: string, zone: string): boolean {
  return name === zone || (name.length > zone.length && name.endsWith(zone) && name[name.length - zone.length - 1] === '.');
}

/** The labels of `name` above `zone`, most specific first: `a.b.zone` → ['a', 'b']. */
export function labelsAbove(name: string, zone: string): string[] {
  if (name === zone) return [];
  return name.slice(0, name.length - zone.length - 1).split('.');
}
