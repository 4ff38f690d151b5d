/**
 * @module lb/arpCodec — ARP for IPv4 over Ethernet (RFC 826) inside an Ethernet II frame, bytes in and objects
 * out, no I/O. Gratuitous ARP follows RFC 5227 §3 / RFC 5944 §4.6: sender and target protocol address are both
 * the announced IP, sent to the broadcast address, once as a request (target hardware zero) and once as a reply
 * (target hardware = sender), because some stacks update their caches only from one of the two.
 */
import { BROADCAST_MAC, ZERO_MAC } from '../common/macAddress.ts';

export const ETHERTYPE_ARP = 0x0806;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const ETH_HEADER = 14;
const ARP_BODY = 28;
/** Ethernet's minimum frame without FCS; short frames are padded with zeros. */
const MIN_FRAME = 60;

export interface ArpPacket {
  /** Ethernet header. */
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

export class ArpDecodeError extends Error {}

export function encodeArp(p: ArpPacket): Uint8Array {
  const buf = new Uint8Array(MIN_FRAME);
  const dv = new DataView(buf.buffer);
  buf.set(p.ethDst, 0);
  buf.set(p.ethSrc, 6);
  dv.setUint16(12, ETHERTYPE_ARP);
  dv.setUint16(14, 1); // htype Ethernet
  dv.setUint16(16, 0x0800); // ptype IPv4
  buf[18] = 6;
  buf[19] = 4;
  dv.setUint16(20, p.op);
  buf.set(p.senderMac, 22);
  buf.set(p.senderIp, 28);
  buf.set(p.targetMac, 32);
  buf.set(p.targetIp, 38);
  return buf;
}

export function decodeArp(frame: Uint8Array): ArpPacket {
  if (frame.length < ETH_HEADER + ARP_BODY) throw new ArpDecodeError(`ARP frame too short: ${frame.length} bytes`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (dv.getUint16(12) !== ETHERTYPE_ARP) throw new ArpDecodeError(`not an ARP frame: ethertype 0x${dv.getUint16(12).toString(16)}`);
  if (dv.getUint16(14) !== 1 || dv.getUint16(16) !== 0x0800 || frame[18] !== 6 || frame[19] !== 4) {
    throw new ArpDecodeError('ARP frame is not IPv4 over Ethernet');
  }
  const at = (off: number, len: number) => frame.slice(off, off + len);
  return {
    ethDst: at(0, 6), ethSrc: at(6, 6), op: dv.getUint16(20),
    senderMac: at(22, 6), senderIp: at(28, 4), targetMac: at(32, 6), targetIp: at(38, 4),
  };
}

/** The reply to `req` saying `ip` is at `mac`, unicast back to the asker. */
export function arpReplyTo(req: ArpPacket, mac: Uint8Array): ArpPacket {
  return { ethDst: req.senderMac, ethSrc: mac, op: ARP_REPLY, senderMac: mac, senderIp: req.targetIp, targetMac: req.senderMac, targetIp: req.senderIp };
}

/** The gratuitous pair announcing `ip` at `mac`: [request, reply], both broadcast. */
export function gratuitousArp(ip: Uint8Array, mac: Uint8Array): [ArpPacket, ArpPacket] {
  const base = { ethDst: BROADCAST_MAC, ethSrc: mac, senderMac: mac, senderIp: ip, targetIp: ip };
  return [{ ...base, op: ARP_REQUEST, targetMac: ZERO_MAC }, { ...base, op: ARP_REPLY, targetMac: mac }];
}
