/**
 * @module ipam/resolvConf — host-local's `resolvConf` option: DNS settings for the result read from a resolv.conf.
 */
import { readFileSync } from 'node:fs';
import type { CniDns } from '../cni/cniTypes.ts';

export function parseResolvConf(text: string): CniDns {
  const dns: Required<Pick<CniDns, 'nameservers' | 'search' | 'options'>> & CniDns = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) dns.nameservers.push(rest[0]);
    else if (key === 'domain' && rest[0]) dns.domain = rest[0];
    else if (key === 'search') dns.search = rest;
    else if (key === 'options') dns.options.push(...rest);
  }
  const out: CniDns = {};
  if (dns.nameservers.length) out.nameservers = dns.nameservers;
  if (dns.domain) out.domain = dns.domain;
  if (dns.search.length) out.search = dns.search;
  if (dns.options.length) out.options = dns.options;
  return out;
}

export function readResolvConf(path: string): CniDns {
  return parseResolvConf(readFileSync(path, 'utf8'));
}
