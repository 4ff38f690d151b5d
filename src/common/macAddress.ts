/**
 * @module common/macAddress — hardware addresses as text `aa:bb:cc:dd:ee:ff` and back, for netlink (IFLA_ADDRESS,
 * NDA_LLADDR) and the ARP/NDP codecs alike. Pure.
 */
import { PodnetError } from './errors.ts';

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC = new Uint8Array(6);

export class MacAddressError extends PodnetError {
  constructor(readonly input: string) {
    super('PODNET_MAC_INVALID', `"${input}" is not a MAC address (expected six hex bytes separated by colons)`);
  }
}

export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new MacAddressError(text);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Every byte, colon-separated: link-layer addresses are not always 6 bytes (ipip's are 4, InfiniBand's 20). */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
