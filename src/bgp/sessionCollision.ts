/**
 * @module bgp/sessionCollision — RFC 4271 6.8 connection collision: when both speakers opened a connection to
 * each other, the one opened by the speaker with the higher BGP Identifier survives. Pure; both sides compute
 * the same answer, so exactly one connection remains.
 */
import { parseV4 } from './bgpPrefix.ts';

/** BGP Identifier as an unsigned 32-bit number (compared as such, never as a string). */
export function bgpIdNumber(id: string): number {
  const b = parseV4(id) ?? new Uint8Array(4);
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

/** Which of our two connections to keep: the one we opened ('outgoing') iff our identifier is higher. */
export function survivingDirection(localId: string, peerId: string): 'outgoing' | 'incoming' {
  return bgpIdNumber(localId) > bgpIdNumber(peerId) ? 'outgoing' : 'incoming';
}
