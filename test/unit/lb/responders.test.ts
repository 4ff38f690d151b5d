import test from 'ava';
import { ARP_REPLY, ARP_REQUEST, decodeArp, encodeArp, type ArpPacket } from '../../../src/lb/arpCodec.ts';
import { processArpFrame, type ArpDropReason, type ResponderContext } from '../../../src/lb/arpResponder.ts';
import { processNdpFrame, type NdpDropReason } from '../../../src/lb/ndpResponder.ts';
import {
  decodeNdp, encodeNdp, ICMPV6_NA, ICMPV6_NS, multicastMac, NA_SOLICITED, OPT_SOURCE_LLA, OPT_TARGET_LLA, optionMac,
  solicitedNodeGroup, type NdpPacket,
} from '../../../src/lb/ndpCodec.ts';
import { ipBytesToText as bytesToIpText, ipTextToBytes } from '../../../src/common/ipAddress.ts';
import { BROADCAST_MAC, formatMac, parseMac } from '../../../src/common/macAddress.ts';

const OURS = parseMac('02:00:00:00:01:01');
const CLIENT = parseMac('02:00:00:00:09:09');
const ctx: ResponderContext = {
  ifname: 'eth0', mac: OURS,
  owns: (ip, ifname) => {
    if (ip === '198.18.0.200' || ip === 'fd00::200') return 'yes';
    if (ip === '198.18.0.201' || ip === 'fd00::201') return ifname === 'eth1' ? 'yes' : 'otherInterface';
    return 'no';
  },
};

function arp(over: Partial<ArpPacket> = {}): Uint8Array {
  return encodeArp({
    ethDst: BROADCAST_MAC, ethSrc: CLIENT, op: ARP_REQUEST, senderMac: CLIENT, senderIp: ipTextToBytes('198.18.0.2'),
    targetMac: new Uint8Array(6), targetIp: ipTextToBytes('198.18.0.200'), ...over,
  });
}

const arpCases: Array<[string, Uint8Array, ArpDropReason | 'answered']> = [
  ['broadcast request for an owned IP', arp(), 'answered'],
  ['unicast request to our MAC', arp({ ethDst: OURS }), 'answered'],
  ['RFC 5227 probe (sender 0.0.0.0) for an owned IP', arp({ senderIp: ipTextToBytes('0.0.0.0') }), 'answered'],
  ['a reply', arp({ op: ARP_REPLY }), 'notRequest'],
  ['unicast to another MAC', arp({ ethDst: parseMac('02:00:00:00:07:07') }), 'ethernetDestination'],
  ['our own request looped back', arp({ senderMac: OURS, ethSrc: OURS }), 'fromSelf'],
  ['someone else\'s gratuitous ARP', arp({ senderIp: ipTextToBytes('198.18.0.200') }), 'gratuitous'],
  ['an IP we do not own', arp({ targetIp: ipTextToBytes('198.18.0.250') }), 'notOwned'],
  ['an owned IP announced on another interface', arp({ targetIp: ipTextToBytes('198.18.0.201') }), 'notThisInterface'],
  ['a truncated frame', arp().subarray(0, 20), 'malformed'],
];
for (const [name, frame, want] of arpCases) {
  test(`ARP: ${name} → ${want}`, (t) => {
    const out = processArpFrame(frame, ctx);
    if (want === 'answered') {
      t.true(out.answered);
      if (!out.answered) return;
      const r = decodeArp(out.reply);
      t.is(r.op, ARP_REPLY);
      t.deepEqual([formatMac(r.senderMac), bytesToIpText(r.senderIp), formatMac(r.ethDst)], [formatMac(OURS), '198.18.0.200', formatMac(CLIENT)]);
    } else {
      t.deepEqual(out, { answered: false, reason: want });
    }
  });
}

function ns(over: Partial<NdpPacket> = {}, target = 'fd00::200'): Uint8Array {
  const tgt = ipTextToBytes(target);
  const group = solicitedNodeGroup(tgt);
  return encodeNdp({
    ethDst: multicastMac(group), ethSrc: CLIENT, ipSrc: ipTextToBytes('fd00::2'), ipDst: group, hopLimit: 255,
    type: ICMPV6_NS, code: 0, flags: 0, target: tgt, options: [{ type: OPT_SOURCE_LLA, data: CLIENT }], ...over,
  });
}

const corrupt = (f: Uint8Array) => { const c = f.slice(); c[c.length - 1] ^= 0x55; return c; };
const ndpCases: Array<[string, Uint8Array, NdpDropReason | 'answered']> = [
  ['solicitation to the solicited-node group', ns(), 'answered'],
  ['unicast solicitation (cache refresh)', ns({ ethDst: OURS, ipDst: ipTextToBytes('fd00::200') }), 'answered'],
  ['DAD probe from ::', ns({ ipSrc: new Uint8Array(16), options: [] }), 'answered'],
  ['an advertisement', ns({ type: ICMPV6_NA }), 'notSolicitation'],
  ['bad checksum', corrupt(ns()), 'badChecksum'],
  ['hop limit below 255', ns({ hopLimit: 64 }), 'hopLimit'],
  ['no source link-layer option', ns({ options: [] }), 'noSourceLinkLayer'],
  ['another multicast group', ns({ ethDst: parseMac('33:33:ff:00:00:99') }), 'ethernetDestination'],
  ['our own solicitation', ns({ ethSrc: OURS }), 'fromSelf'],
  ['an IP we do not own', ns({}, 'fd00::250'), 'notOwned'],
  ['an owned IP on another interface', ns({}, 'fd00::201'), 'notThisInterface'],
  ['an IPv6 data frame', (() => { const f = ns(); f[20] = 17; return f; })(), 'notNdp'],
];
for (const [name, frame, want] of ndpCases) {
  test(`NDP: ${name} → ${want}`, (t) => {
    const out = processNdpFrame(frame, ctx);
    if (want === 'answered') {
      t.true(out.answered);
      if (!out.answered) return;
      const na = decodeNdp(out.reply);
      t.is(na.type, ICMPV6_NA);
      t.true(na.checksumOk);
      t.is(formatMac(optionMac(na, OPT_TARGET_LLA)!), formatMac(OURS));
      t.is(bytesToIpText(na.target), 'fd00::200');
    } else {
      t.deepEqual(out, { answered: false, reason: want });
    }
  });
}

test('NDP: the solicited answer goes back to the solicitor with S set; a DAD answer to all nodes without it', (t) => {
  const a = processNdpFrame(ns(), ctx);
  const d = processNdpFrame(ns({ ipSrc: new Uint8Array(16), options: [] }), ctx);
  if (!a.answered || !d.answered) return t.fail();
  const na = decodeNdp(a.reply);
  t.is(bytesToIpText(na.ipDst), 'fd00::2');
  t.is(formatMac(na.ethDst), formatMac(CLIENT));
  t.truthy(na.flags & NA_SOLICITED);
  const dad = decodeNdp(d.reply);
  t.is(bytesToIpText(dad.ipDst), 'ff02::1');
  t.is(dad.flags & NA_SOLICITED, 0);
});
