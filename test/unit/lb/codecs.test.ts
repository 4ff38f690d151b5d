import test from 'ava';
import { ARP_REPLY, ARP_REQUEST, ArpDecodeError, arpReplyTo, decodeArp, encodeArp, gratuitousArp } from '../../../src/lb/arpCodec.ts';
import {
  advertisementFor, decodeNdp, encodeNdp, ICMPV6_NA, ICMPV6_NS, NA_OVERRIDE, NA_SOLICITED, NdpDecodeError, OPT_SOURCE_LLA, OPT_TARGET_LLA,
  optionMac, solicitedNodeGroup, unsolicitedAdvertisement,
} from '../../../src/lb/ndpCodec.ts';
import { ipBytesToText as bytesToIpText, ipTextToBytes } from '../../../src/common/ipAddress.ts';
import { formatMac, parseMac } from '../../../src/common/macAddress.ts';
import { readPcapFrames } from '../../fixtures/lb/pcapReader.ts';

const fixture = (name: string) => readPcapFrames(new URL(`../../fixtures/lb/${name}.pcap`, import.meta.url));

test('arping request and the kernel reply decode (tcpdump capture)', (t) => {
  const [req, rep] = fixture('arping-request-reply');
  const q = decodeArp(req!);
  t.is(q.op, ARP_REQUEST);
  t.is(formatMac(q.senderMac), '02:00:00:00:00:0a');
  t.is(bytesToIpText(q.senderIp), '10.0.0.1');
  t.is(bytesToIpText(q.targetIp), '10.0.0.2');
  const r = decodeArp(rep!);
  t.is(r.op, ARP_REPLY);
  t.is(formatMac(r.senderMac), '02:00:00:00:00:0b');
  // Our reply to the captured request equals what the kernel sent (ignoring the kernel's lack of padding).
  const ours = encodeArp(arpReplyTo(q, parseMac('02:00:00:00:00:0b')));
  t.deepEqual(ours.subarray(0, rep!.length), rep);
});

test('arping -U (gratuitous) decodes as a request for the sender address itself', (t) => {
  const [g] = fixture('arping-gratuitous');
  const p = decodeArp(g!);
  t.is(p.op, ARP_REQUEST);
  t.deepEqual(p.senderIp, p.targetIp);
  t.is(formatMac(p.ethDst), 'ff:ff:ff:ff:ff:ff');
});

test('ARP round trip and the gratuitous pair', (t) => {
  const mac = parseMac('02:aa:bb:cc:dd:ee');
  const ip = ipTextToBytes('198.18.0.200');
  const [req, rep] = gratuitousArp(ip, mac);
  for (const p of [req, rep]) {
    const frame = encodeArp(p);
    t.is(frame.length, 60);
    t.deepEqual(decodeArp(frame), { ...p, ethDst: p.ethDst.slice(), targetMac: p.targetMac.slice() });
  }
  t.is(req.op, ARP_REQUEST);
  t.is(rep.op, ARP_REPLY);
});

test('ARP decode rejects what is not IPv4-over-Ethernet ARP', (t) => {
  const frame = encodeArp(gratuitousArp(ipTextToBytes('10.0.0.1'), parseMac('02:00:00:00:00:01'))[0]);
  t.throws(() => decodeArp(frame.subarray(0, 30)), { instanceOf: ArpDecodeError });
  const wrongType = frame.slice(); wrongType[13] = 0x00;
  t.throws(() => decodeArp(wrongType), { instanceOf: ArpDecodeError, message: /ethertype/ });
  const wrongProto = frame.slice(); wrongProto[16] = 0x86;
  t.throws(() => decodeArp(wrongProto), { instanceOf: ArpDecodeError, message: /IPv4 over Ethernet/ });
});

test('ndisc6 solicitation and the kernel advertisement decode with valid checksums (tcpdump capture)', (t) => {
  const [ns, na] = fixture('ndisc6-ns-na');
  const s = decodeNdp(ns!);
  t.is(s.type, ICMPV6_NS);
  t.true(s.checksumOk);
  t.is(bytesToIpText(s.target), 'fd00::2');
  t.deepEqual(s.ipDst, solicitedNodeGroup(ipTextToBytes('fd00::2')));
  t.is(formatMac(optionMac(s, OPT_SOURCE_LLA)!), '02:00:00:00:00:0a');
  const a = decodeNdp(na!);
  t.is(a.type, ICMPV6_NA);
  t.true(a.checksumOk);
  t.is(a.flags & (NA_SOLICITED | NA_OVERRIDE), NA_SOLICITED | NA_OVERRIDE);
  // Our advertisement for the captured solicitation is byte-for-byte the kernel's.
  t.deepEqual(encodeNdp(advertisementFor(s, parseMac('02:00:00:00:00:0b'))), na);
});

test('NDP round trip, unsolicited advertisement and a corrupted checksum', (t) => {
  const p = unsolicitedAdvertisement(ipTextToBytes('fd00:77::5'), parseMac('02:00:00:00:00:05'));
  const frame = encodeNdp(p);
  const back = decodeNdp(frame);
  t.true(back.checksumOk);
  t.deepEqual({ ...back, checksumOk: undefined }, { ...p, checksumOk: undefined });
  t.is(back.flags, NA_OVERRIDE);
  t.is(formatMac(optionMac(back, OPT_TARGET_LLA)!), '02:00:00:00:00:05');
  const bad = frame.slice(); bad[bad.length - 1] ^= 0xff;
  t.false(decodeNdp(bad).checksumOk);
});

test('NDP decode rejects truncated frames, other ICMPv6 types and bad option lengths', (t) => {
  const frame = encodeNdp(unsolicitedAdvertisement(ipTextToBytes('fd00::5'), parseMac('02:00:00:00:00:05')));
  t.throws(() => decodeNdp(frame.subarray(0, 60)), { instanceOf: NdpDecodeError });
  const echo = frame.slice(); echo[54] = 128;
  t.throws(() => decodeNdp(echo), { instanceOf: NdpDecodeError, message: /type 128/ });
  const zeroLen = frame.slice(); zeroLen[54 + 24 + 1] = 0;
  t.throws(() => decodeNdp(zeroLen), { instanceOf: NdpDecodeError, message: /option length/ });
});
