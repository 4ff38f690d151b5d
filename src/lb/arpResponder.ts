/**
 * @module lb/arpResponder — answers ARP requests for the IPv4 LB addresses this node announces, on one interface,
 * through an AF_PACKET socket bound to ETH_P_ARP (native addon). The address is never added to an interface, so
 * the kernel itself never answers and a crash leaves nothing behind. The decision is the pure
 * `processArpFrame`, which returns a DropReason for every branch (MetalLB's arp.go dropReason), so tests assert
 * each one and metrics count them.
 */
import { ARP_REQUEST, arpReplyTo, decodeArp, encodeArp, gratuitousArp } from './arpCodec.ts';
import { ipBytesToText, ipTextToBytes } from '../common/ipAddress.ts';
import { BROADCAST_MAC, macEquals } from '../common/macAddress.ts';

export type ArpDropReason =
  | 'malformed' | 'notRequest' | 'ethernetDestination' | 'gratuitous' | 'fromSelf' | 'notOwned' | 'notThisInterface';

export type ArpOutcome = { answered: true; ip: string; reply: Uint8Array } | { answered: false; reason: ArpDropReason };

/** Whether this node announces `ip` on `ifname`: 'yes', 'otherInterface' (owned, not here) or 'no'. */
export type OwnershipQuery = (ip: string, ifname: string) => 'yes' | 'otherInterface' | 'no';

export interface ResponderContext {
  ifname: string;
  mac: Uint8Array;
  owns: OwnershipQuery;
}

export function processArpFrame(frame: Uint8Array, ctx: ResponderContext): ArpOutcome {
  let p;
  try {
    p = decodeArp(frame);
  } catch {
    return { answered: false, reason: 'malformed' };
  }
  if (p.op !== ARP_REQUEST) return { answered: false, reason: 'notRequest' };
  if (!macEquals(p.ethDst, BROADCAST_MAC) && !macEquals(p.ethDst, ctx.mac)) return { answered: false, reason: 'ethernetDestination' };
  if (macEquals(p.senderMac, ctx.mac)) return { answered: false, reason: 'fromSelf' };
  // Someone announcing (or probing, RFC 5227 sender 0.0.0.0 with the target) is not asking us; a probe for an
  // owned address still gets an answer so the prober backs off.
  if (macEquals(p.senderIp, p.targetIp)) return { answered: false, reason: 'gratuitous' };
  const ip = ipBytesToText(p.targetIp);
  const own = ctx.owns(ip, ctx.ifname);
  if (own === 'no') return { answered: false, reason: 'notOwned' };
  if (own === 'otherInterface') return { answered: false, reason: 'notThisInterface' };
  return { answered: true, ip, reply: encodeArp(arpReplyTo(p, ctx.mac)) };
}

/** The two frames of one gratuitous ARP burst for `ip`. */
export function gratuitousArpFrames(ip: string, mac: Uint8Array): Uint8Array[] {
  return gratuitousArp(ipTextToBytes(ip), mac).map(encodeArp);
}
