import test from 'ava';
import { Announcer } from '../../../src/lb/announcer.ts';
import type { FrameSocketSpec, OpenFrameSocket } from '../../../src/lb/frameSocket.ts';
import { eligibleInterfaces, type LinkFacts } from '../../../src/lb/linkScan.ts';
import { ARP_REQUEST, decodeArp, encodeArp } from '../../../src/lb/arpCodec.ts';
import { decodeNdp, ICMPV6_NA, NA_OVERRIDE } from '../../../src/lb/ndpCodec.ts';
import { ipBytesToText as bytesToIpText, ipTextToBytes } from '../../../src/common/ipAddress.ts';
import { BROADCAST_MAC, formatMac, parseMac } from '../../../src/common/macAddress.ts';
import { LbMetrics } from '../../../src/lb/lbMetrics.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const UP_BCAST = 0x1 | 0x2;
const link = (index: number, name: string, over: Partial<LinkFacts> = {}): LinkFacts => ({
  index, name, flags: UP_BCAST, up: true, mac: `02:00:00:00:00:0${index}`, master: undefined, ...over,
});

test('eligible interfaces: up, broadcast, ARP-capable, not enslaved, not loopback, not podnet pod/overlay links', (t) => {
  const links = [
    link(1, 'lo', { flags: 0x1 | 0x8, mac: '00:00:00:00:00:00' }), link(2, 'eth0'), link(3, 'eth1', { up: false }),
    link(4, 'noarp0', { flags: UP_BCAST | 0x80 }), link(5, 'port0', { master: 9 }), link(6, 'pn1a2b3c4d'), link(7, 'podnet.1'),
    link(8, 'tun0', { flags: 0x1 }), link(9, 'br0'),
  ];
  t.deepEqual(eligibleInterfaces(links).map((i) => i.ifname), ['br0', 'eth0']);
  t.deepEqual(eligibleInterfaces(links, ['eth0']).map((i) => i.ifname), ['eth0']);
});

function fakeNet() {
  const sent: Array<{ ifname: string; protocol: number; frame: Uint8Array }> = [];
  const deliver = new Map<string, (f: Uint8Array) => void>();
  const open: OpenFrameSocket = (spec: FrameSocketSpec, onFrame) => {
    deliver.set(`${spec.ifname}/${spec.protocol}`, onFrame);
    return { send: (frame) => sent.push({ ifname: spec.ifname, protocol: spec.protocol, frame }), close: () => deliver.delete(`${spec.ifname}/${spec.protocol}`) };
  };
  return { sent, deliver, open };
}

test('taking an IP sends gratuitous ARP at once and repeats within the window; requests are answered only on its interfaces', async (t) => {
  const net = fakeNet();
  const metrics = new LbMetrics();
  const a = new Announcer({ node: 'n1', links: async () => [link(2, 'eth0'), link(3, 'eth1')], openSocket: net.open, metrics, garpIntervalMs: 20, garpWindowMs: 100 });
  t.teardown(() => a.stop());
  await a.setDesired([{ ip: '198.18.0.200', service: 'default/web', interfaces: ['eth1'] }, { ip: 'fd00::200', service: 'default/web6', interfaces: undefined }]);
  // Immediately: GARP request+reply on eth1 only, an unsolicited NA on both interfaces.
  const arp = net.sent.filter((s) => s.protocol === 0x0806).map((s) => ({ ifname: s.ifname, p: decodeArp(s.frame) }));
  t.deepEqual(arp.map((x) => [x.ifname, x.p.op, bytesToIpText(x.p.senderIp), bytesToIpText(x.p.targetIp), formatMac(x.p.ethDst)]), [
    ['eth1', 1, '198.18.0.200', '198.18.0.200', 'ff:ff:ff:ff:ff:ff'], ['eth1', 2, '198.18.0.200', '198.18.0.200', 'ff:ff:ff:ff:ff:ff'],
  ]);
  const na = net.sent.filter((s) => s.protocol === 0x86dd).map((s) => ({ ifname: s.ifname, p: decodeNdp(s.frame) }));
  t.deepEqual(na.map((x) => [x.ifname, x.p.type, x.p.flags & NA_OVERRIDE, bytesToIpText(x.p.ipDst)]).sort(), [
    ['eth0', ICMPV6_NA, NA_OVERRIDE, 'ff02::1'], ['eth1', ICMPV6_NA, NA_OVERRIDE, 'ff02::1'],
  ]);
  await waitFor('a repeated burst', () => net.sent.filter((s) => s.protocol === 0x0806).length >= 4);
  await new Promise((r) => setTimeout(r, 250));
  // The window closes: never more than 100/20 + 1 bursts of 2 frames.
  t.true(net.sent.filter((s) => s.protocol === 0x0806).length <= 12);

  const request = (target: string) => encodeArp({
    ethDst: BROADCAST_MAC, ethSrc: parseMac('02:99:00:00:00:02'), op: ARP_REQUEST, senderMac: parseMac('02:99:00:00:00:02'),
    senderIp: ipTextToBytes('198.18.0.2'), targetMac: new Uint8Array(6), targetIp: ipTextToBytes(target),
  });
  const before = net.sent.length;
  net.deliver.get('eth0/2054')!(request('198.18.0.200'));
  net.deliver.get('eth1/2054')!(request('198.18.0.200'));
  net.deliver.get('eth1/2054')!(request('198.18.0.201'));
  const replies = net.sent.slice(before);
  t.deepEqual(replies.map((r) => [r.ifname, decodeArp(r.frame).op]), [['eth1', 2]]);
  t.regex(await metrics.registry.getSingleMetricAsString('podnet_lb_requests_dropped_total'), /reason="notThisInterface"\} 1[\s\S]*reason="notOwned"\} 1/);

  // Release: no more answers and no more bursts.
  await a.setDesired([]);
  const after = net.sent.length;
  net.deliver.get('eth1/2054')!(request('198.18.0.200'));
  await new Promise((r) => setTimeout(r, 60));
  t.is(net.sent.length, after);
  t.deepEqual(a.announcements(), []);
});
