/**
 * @module dns/resolvConf — upstream addresses: `--upstream` values or the nameservers of /etc/resolv.conf, and the
 * forwarding-loop check (coredns#2087: a resolver pointing at ourselves crash-loops or melts the CPU).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../common/errors.ts';
import { canonicalIp } from './dnsNames.ts';

export interface UpstreamAddress { host: string; port: number }

/** `1.1.1.1`, `1.1.1.1:5353`, `[2001:db8::1]:53`, `2001:db8::1`. */
export function parseUpstream(value: string, where: string): UpstreamAddress {
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  let host: string;
  let port = 53;
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(value) === 6) {
    host = value;
  } else {
    const [h, p] = value.split(':');
    host = h ?? '';
    if (p !== undefined) port = Number(p);
  }
  if (!isIP(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`expected an IP address with an optional :PORT, got "${value}"`, { field: where });
  }
  // Canonical text, so replies are matched against the address Node reports for them.
  return { host: canonicalIp(host) ?? host, port };
}

export function nameserversOf(text: string): UpstreamAddress[] {
  const out: UpstreamAddress[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1]!.replace(/%.*$/, '');
    if (isIP(host)) out.push({ host, port: 53 });
  }
  return out;
}

export function readResolvConf(path = '/etc/resolv.conf'): UpstreamAddress[] {
  try {
    return nameserversOf(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';

/** Addresses of this host's interfaces (in this network namespace), loopback included. */
export function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(canonicalIp(a.address) ?? a.address);
  return out;
}

/**
 * Upstreams that would send our own queries back to us; the caller refuses to start with them. A wildcard listener
 * also receives what is sent to any local address on its port (127.0.0.0/8 included).
 */
export function loopingUpstreams(upstreams: UpstreamAddress[], listen: UpstreamAddress, local = localAddresses()): UpstreamAddress[] {
  return upstreams.filter((u) => u.port === listen.port && (u.host === listen.host || isWildcard(u.host)
    || (isWildcard(listen.host) && (local.has(u.host) || u.host.startsWith('127.')))));
}
