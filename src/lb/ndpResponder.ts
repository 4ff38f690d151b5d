/**
 * @module lb/ndpResponder — answers IPv6 Neighbor Solicitations for the LB addresses this node announces, the
 * NDP twin of arpResponder. It reads whole frames from an AF_PACKET socket bound to ETH_P_IPV6 rather than a raw
 * ICMPv6 socket: the kernel delivers a solicitation for an address it does not have to a raw socket only if the
 * interface joined the target's solicited-node group (MetalLB joins one per VIP), which needs an
 * IPV6_JOIN_GROUP the addon does not offer, while a packet socket sees the frame as it arrives. On veth and
 * bridges every multicast frame arrives; a physical NIC filters multicast in hardware, so there the interface
 * needs allmulticast or a PACKET_ADD_MEMBERSHIP for 33:33:ff:xx:xx:xx (see README: not done yet).
 */
import { ipBytesToText, ipTextToBytes } from '../common/ipAddress.ts';
import { macEquals } from '../common/macAddress.ts';
import {
  advertisementFor, decodeNdp, encodeNdp, ICMPV6_NS, multicastMac, OPT_SOURCE_LLA, optionMac, solicitedNodeGroup,
  unsolicitedAdvertisement,
} from './ndpCodec.ts';
import type { ResponderContext } from './arpResponder.ts';

export type NdpDropReason =
  | 'notNdp' | 'malformed' | 'notSolicitation' | 'badChecksum' | 'hopLimit' | 'noSourceLinkLayer'
  | 'ethernetDestination' | 'fromSelf' | 'notOwned' | 'notThisInterface';

export type NdpOutcome = { answered: true; ip: string; reply: Uint8Array } | { answered: false; reason: NdpDropReason };

/** Cheap pre-filter: IPv6, next header ICMPv6, type NS or NA (most IPv6 frames are data). */
function looksLikeNdp(f: Uint8Array): boolean {
  return f.length >= 78 && f[12] === 0x86 && f[13] === 0xdd && f[20] === 58 && (f[54] === 135 || f[54] === 136);
}

export function processNdpFrame(frame: Uint8Array, ctx: ResponderContext): NdpOutcome {
  if (!looksLikeNdp(frame)) return { answered: false, reason: 'notNdp' };
  let p;
  try {
    p = decodeNdp(frame);
  } catch {
    return { answered: false, reason: 'malformed' };
  }
  if (p.type !== ICMPV6_NS) return { answered: false, reason: 'notSolicitation' };
  if (!p.checksumOk) return { answered: false, reason: 'badChecksum' };
  // RFC 4861 §7.1.1: a solicitation that crossed a router is forged.
  if (p.hopLimit !== 255) return { answered: false, reason: 'hopLimit' };
  const unspecified = p.ipSrc.every((b) => b === 0);
  if (!unspecified && !optionMac(p, OPT_SOURCE_LLA)) return { answered: false, reason: 'noSourceLinkLayer' };
  const groupMac = multicastMac(solicitedNodeGroup(p.target));
  if (!macEquals(p.ethDst, ctx.mac) && !macEquals(p.ethDst, groupMac)) return { answered: false, reason: 'ethernetDestination' };
  if (macEquals(p.ethSrc, ctx.mac)) return { answered: false, reason: 'fromSelf' };
  const ip = ipBytesToText(p.target);
  const own = ctx.owns(ip, ctx.ifname);
  if (own === 'no') return { answered: false, reason: 'notOwned' };
  if (own === 'otherInterface') return { answered: false, reason: 'notThisInterface' };
  return { answered: true, ip, reply: encodeNdp(advertisementFor(p, ctx.mac)) };
}

export function unsolicitedNaFrames(ip: string, mac: Uint8Array): Uint8Array[] {
  return [encodeNdp(unsolicitedAdvertisement(ipTextToBytes(ip), mac))];
}
