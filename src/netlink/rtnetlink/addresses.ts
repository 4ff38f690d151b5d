/**
 * @module netlink/rtnetlink/addresses — IPv4/IPv6 addresses: add, replace, delete, list. The encoder and decoder
 * are exported pure functions; the Addresses class only resolves the device and talks to the socket.
 */
import type { ByteWriter } from '../byteWriter.ts';
import {
  AF_INET, AF_INET6, AF_UNSPEC, IFA_F, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR,
  RT_SCOPE, bitNames, enumName,
} from '../constants.ts';
import { NetlinkEncodeError } from '../errors.ts';
import { formatIp, type IpFamily } from '../../common/ipAddress.ts';
import { lastOf } from '../../common/ipPrefix.ts';
import { parseAddrPrefix } from '../addressText.ts';
import type { NetlinkSocket } from '../netlinkSocket.ts';
import { addrBody, type AddrAttrs } from '../specs/addrSpec.ts';
import type { Links } from './links.ts';

export type AddrFlag = 'nodad' | 'noprefixroute' | 'optimistic' | 'homeaddress' | 'managetempaddr' | 'mcautojoin';
export type ScopeName = 'universe' | 'site' | 'link' | 'host' | 'nowhere';

export interface AddressSpec {
  dev: string | number;
  /** "10.0.0.1/24" or "fd00::1/64" (a bare address means /32 or /128). */
  address: string;
  /** Point-to-point peer (IPv4): "10.0.0.2/32". */
  peer?: string;
  /** An explicit broadcast, or true for the one derived from the prefix (`ip addr add ... brd +`). */
  broadcast?: string | true;
  scope?: ScopeName | number;
  flags?: AddrFlag[];
  label?: string;
  /** Metric of the prefix route (IFA_RT_PRIORITY). */
  metric?: number;
}

export interface Address {
  index: number;
  family: IpFamily;
  address: string;
  prefixLen: number;
  local: string | undefined;
  broadcast: string | undefined;
  scope: string | number;
  flags: string[];
  label: string | undefined;
  attrs: AddrAttrs;
}


export function addrFlagBits(flags: readonly string[] = []): number {
  return flags.reduce((bits, f) => {
    const bit = IFA_F[f];
    if (bit === undefined) throw new NetlinkEncodeError(`unknown address flag "${f}" (known: ${Object.keys(IFA_F).join(', ')})`);
    return bits | bit;
  }, 0);
}

function scopeNumber(scope: string | number | undefined, fallback: number): number {
  if (scope === undefined) return fallback;
  if (typeof scope === 'number') return scope;
  const n = RT_SCOPE[scope];
  if (n === undefined) throw new NetlinkEncodeError(`unknown scope "${scope}"`);
  return n;
}

/** RTM_NEWADDR / RTM_DELADDR body. */
export function encodeAddress(w: ByteWriter, spec: AddressSpec, index: number): void {
  const { address, prefixLen, family, prefix } = parseAddrPrefix(spec.address);
  const flags = addrFlagBits(spec.flags);
  const attrs: AddrAttrs = { IFA_LOCAL: address, IFA_ADDRESS: address, IFA_LABEL: spec.label, IFA_RT_PRIORITY: spec.metric };
  if (flags > 0xff) attrs.IFA_FLAGS = flags;
  if (spec.peer) {
    if (family !== 4) throw new NetlinkEncodeError(`${spec.address}: a peer address is IPv4 only here`);
    attrs.IFA_ADDRESS = parseAddrPrefix(spec.peer).address;
  }
  if (spec.broadcast !== undefined) {
    if (family !== 4) throw new NetlinkEncodeError(`${spec.address}: broadcast is IPv4 only`);
    attrs.IFA_BROADCAST = spec.broadcast === true ? formatIp(lastOf(prefix)) : spec.broadcast;
  }
  if (spec.label && family !== 4) throw new NetlinkEncodeError(`${spec.address}: labels are IPv4 only`);
  addrBody.encode(w, {
    ifa_family: family === 4 ? AF_INET : AF_INET6,
    ifa_prefixlen: prefixLen,
    ifa_flags: flags & 0xff,
    ifa_scope: scopeNumber(spec.scope, 0),
    ifa_index: index,
  }, attrs);
}

export function decodeAddress(payload: Uint8Array): Address {
  const { header, attrs } = addrBody.decode(payload);
  const family: IpFamily = header.ifa_family === AF_INET6 ? 6 : 4;
  const flags = attrs.IFA_FLAGS ?? header.ifa_flags;
  return {
    index: header.ifa_index,
    family,
    address: attrs.IFA_LOCAL ?? attrs.IFA_ADDRESS ?? '',
    prefixLen: header.ifa_prefixlen,
    local: attrs.IFA_LOCAL,
    broadcast: attrs.IFA_BROADCAST,
    scope: enumName(RT_SCOPE, header.ifa_scope),
    flags: bitNames(IFA_F, flags),
    label: attrs.IFA_LABEL,
    attrs,
  };
}

export interface AddressFilter {
  dev?: string | number;
  family?: IpFamily;
}

export class Addresses {
  readonly #nl: NetlinkSocket;
  readonly #links: Links;

  constructor(nl: NetlinkSocket, links: Links) {
    this.#nl = nl;
    this.#links = links;
  }

  /** Add an address; EEXIST if it is already there (use replace() to make it idempotent). */
  add(spec: AddressSpec): Promise<void> {
    return this.#modify(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, spec, 'adding');
  }

  replace(spec: AddressSpec): Promise<void> {
    return this.#modify(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, spec, 'replacing');
  }

  delete(spec: AddressSpec): Promise<void> {
    return this.#modify(RTM_DELADDR, 0, spec, 'deleting');
  }

  async list(filter: AddressFilter = {}): Promise<Address[]> {
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : AF_UNSPEC;
    const index = filter.dev === undefined ? undefined : await this.#links.index(filter.dev);
    const msgs = await this.#nl.dump({ type: RTM_GETADDR, what: 'listing addresses', body: (w) => addrBody.encode(w, { ifa_family: family }, {}) });
    return msgs
      .filter((m) => m.type === RTM_NEWADDR)
      .map((m) => decodeAddress(m.payload))
      .filter((a) => (index === undefined || a.index === index) && (filter.family === undefined || a.family === filter.family));
  }

  async #modify(type: number, flags: number, spec: AddressSpec, verb: string): Promise<void> {
    parseAddrPrefix(spec.address); // refuse a bad address before resolving the device
    const index = await this.#links.index(spec.dev);
    await this.#nl.request({ type, flags, what: `${verb} address ${spec.address} on ${String(spec.dev)}`, body: (w) => encodeAddress(w, spec, index) });
  }
}
