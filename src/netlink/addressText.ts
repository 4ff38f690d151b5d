/**
 * @module netlink/addressText — address attributes (IFA_ADDRESS, RTA_DST, NDA_LLADDR, ...) as text and back. Pure.
 * IP text comes from common/ipAddress (RFC 5952, the same spelling `ip -j` prints, so plans compare equal to
 * kernel dumps); this file only turns a bad address into a NetlinkEncodeError, the netlink contract for "nothing
 * was sent", and owns MAC text, which nothing outside link-layer code needs.
 */
import { AddressError } from '../common/errors.ts';
import { formatIp, ipBytesToText, ipTextToBytes, parseIp, type IpFamily } from '../common/ipAddress.ts';
import { parsePrefix, type IpPrefix } from '../common/ipPrefix.ts';
import { NetlinkEncodeError } from './errors.ts';
import { parseMac as parseCommonMac } from '../common/macAddress.ts';

function asEncodeError<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof AddressError) throw new NetlinkEncodeError(err.message);
    throw err;
  }
}

/** Address text → 4 or 16 bytes for an attribute; a bad address is a NetlinkEncodeError naming it and why. */
export function ipTextToAttr(text: string): Uint8Array {
  return asEncodeError(() => ipTextToBytes(text));
}

/** Family of an address a request names; a bad address is a NetlinkEncodeError. */
export function requireIpFamily(text: string): IpFamily {
  return asEncodeError(() => parseIp(text).family);
}

export interface AddrPrefix {
  /** Canonical text of the address as written (host bits kept: `10.0.0.7/24` is an interface address). */
  address: string;
  prefixLen: number;
  family: IpFamily;
  prefix: IpPrefix;
}

/** `10.1.0.7/24` or a bare address (full length), as `ip addr`/`ip route` take them; NetlinkEncodeError if bad. */
export function parseAddrPrefix(text: string): AddrPrefix {
  const prefix = asEncodeError(() => parsePrefix(text, { hostBits: 'keep', bareAddress: true }));
  return { address: formatIp(prefix.addr), prefixLen: prefix.prefixLen, family: prefix.addr.family, prefix };
}

/** 4 or 16 attribute bytes → address text (the decoder checks the length first). */
export function ipAttrToText(b: Uint8Array): string {
  return ipBytesToText(b);
}

export { formatMac } from '../common/macAddress.ts';

/** A MAC in text, as bytes; a bad one is a NetlinkEncodeError (nothing was sent). */
export function parseMac(text: string): Uint8Array {
  try {
    return parseCommonMac(text);
  } catch (err) {
    throw new NetlinkEncodeError((err as Error).message);
  }
}
