/**
 * The pure codec: framing, attributes, family bodies — round trips and what the kernel's bytes look like.
 */
import test from 'ava';
import { ByteWriter } from '../../../src/netlink/byteWriter.ts';
import { decodeAttrs, encodeAttrs } from '../../../src/netlink/attributes.ts';
import { decodeDone, decodeError, decodeMessages, encodeMessage } from '../../../src/netlink/codec.ts';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, RTM_NEWLINK } from '../../../src/netlink/constants.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from '../../../src/netlink/errors.ts';
import { ipAttrToText, ipTextToAttr } from '../../../src/netlink/addressText.ts';
import { IFLA, linkBody } from '../../../src/netlink/specs/linkSpec.ts';
import { decodeLink, encodeLinkCreate, vxlanInfo } from '../../../src/netlink/rtnetlink/linkCodec.ts';
import { decodeRoute, encodeRoute } from '../../../src/netlink/rtnetlink/routes.ts';
import { decodeAddress, encodeAddress } from '../../../src/netlink/rtnetlink/addresses.ts';
import { decodeNeighbour, encodeFdb } from '../../../src/netlink/rtnetlink/neighbours.ts';
import { decodeFamily } from '../../../src/netlink/genericNetlink.ts';
import { ctrlBody } from '../../../src/netlink/specs/genlSpec.ts';

function bytes(fn: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(8);
  fn(w);
  return w.finish();
}

test('several messages in one datagram are split at their aligned lengths', (t) => {
  const buf = bytes((w) => {
    encodeMessage(w, { type: RTM_NEWLINK, flags: NLM_F_MULTI, seq: 7, pid: 1 }, (b) => b.bytes(Uint8Array.of(1, 2, 3)));
    encodeMessage(w, { type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 7, pid: 1 }, (b) => b.s32(0));
  });
  t.is(buf.length, 20 + 20);
  const msgs = decodeMessages(buf);
  t.deepEqual(msgs.map((m) => [m.type, m.seq, m.payload.length]), [[RTM_NEWLINK, 7, 3], [NLMSG_DONE, 7, 4]]);
  t.deepEqual([...msgs[0]!.payload], [1, 2, 3]);
  t.is(decodeDone(msgs[1]!).errno, 0);
});

test('NLMSG_ERROR with extended ack: errno and the kernel message', (t) => {
  const msg = bytes((w) =>
    encodeMessage(w, { type: NLMSG_ERROR, flags: NLM_F_CAPPED | NLM_F_ACK_TLVS, seq: 9, pid: 0 }, (b) => {
      b.s32(-95);
      encodeMessage(b, { type: RTM_NEWLINK, flags: 5, seq: 9, pid: 0 });
      const text = new TextEncoder().encode('Unknown device type\0');
      b.u16(4 + text.length);
      b.u16(1);
      b.bytes(text);
      b.pad();
    }),
  );
  const ack = decodeError(decodeMessages(msg)[0]!);
  t.is(ack.errno, 95);
  t.is(ack.extack, 'Unknown device type');
  t.is(ack.request.seq, 9);
  t.is(ack.request.type, RTM_NEWLINK);
});

test('nested attributes round-trip with kernel names, the variant chosen by IFLA_INFO_KIND', (t) => {
  const attrs = {
    IFLA_IFNAME: 'podnet.1',
    IFLA_MTU: 1450,
    IFLA_ADDRESS: '02:00:00:00:00:01',
    IFLA_LINKINFO: { IFLA_INFO_KIND: 'vxlan', IFLA_INFO_DATA: { IFLA_VXLAN_ID: 1, IFLA_VXLAN_PORT: 8472, IFLA_VXLAN_LOCAL: '198.18.0.11', IFLA_VXLAN_LEARNING: 0 } },
  };
  const buf = bytes((w) => encodeAttrs(w, IFLA, attrs));
  t.deepEqual(decodeAttrs(buf, 0, buf.length, IFLA, 'test'), attrs);
  // IFLA_VXLAN_PORT is big-endian on the wire: 8472 = 0x2118.
  const i = buf.findIndex((_, k) => buf[k] === 6 && buf[k + 2] === 15);
  t.deepEqual([buf[i + 4], buf[i + 5]], [0x21, 0x18]);
});

test('a veth create carries the peer as ifinfomsg + attributes inside VETH_INFO_PEER', (t) => {
  const body = bytes((w) => encodeLinkCreate(w, { kind: 'veth', name: 'a', mtu: 1400, peer: { name: 'b', mac: '02:00:00:00:00:02' } }, { peerNetnsFd: 9 }));
  const { attrs } = linkBody.decode(body);
  const data = attrs.IFLA_LINKINFO?.IFLA_INFO_DATA as { VETH_INFO_PEER: { attrs: Record<string, unknown> } };
  t.is(attrs.IFLA_IFNAME, 'a');
  t.deepEqual(data.VETH_INFO_PEER.attrs, { IFLA_IFNAME: 'b', IFLA_ADDRESS: '02:00:00:00:00:02', IFLA_NET_NS_FD: 9 });
});

test('a captured kernel RTM_NEWLINK of a vxlan decodes to the attributes ip showed', async (t) => {
  const { readFileSync } = await import('node:fs');
  const hex = readFileSync(new URL('../../fixtures/netlink/vxlan-newlink.hex', import.meta.url), 'utf8').replace(/\s+/g, '');
  const [msg] = decodeMessages(Buffer.from(hex, 'hex'));
  const link = decodeLink(msg!.payload);
  t.is(link.name, 'podnet.1');
  t.is(link.kind, 'vxlan');
  const vx = vxlanInfo(link)!;
  t.is(vx.IFLA_VXLAN_ID, 1);
  t.is(vx.IFLA_VXLAN_PORT, 8472);
  t.is(vx.IFLA_VXLAN_LOCAL, '198.18.0.11');
  t.is(vx.IFLA_VXLAN_LEARNING, 0);
  t.is(vx.IFLA_VXLAN_TTL, 64);
});

test('routes round-trip: table > 255, metrics, multipath, onlink', (t) => {
  const body = bytes((w) => encodeRoute(w, {
    dst: '10.30.0.0/16', table: 1000, protocol: 77, priority: 5, metrics: { mtu: 1400 },
    nexthops: [{ gateway: '10.7.0.2', weight: 1 }, { gateway: '10.7.1.2', weight: 3, onlink: true }],
  }, { nexthopDevs: [2, 3] }));
  const r = decodeRoute(body);
  t.is(r.dst, '10.30.0.0/16');
  t.is(r.table, 1000);
  t.is(r.protocol, 77);
  t.is(r.priority, 5);
  t.is(r.metrics?.mtu, 1400);
  t.is(r.scope, 'universe');
  t.deepEqual(r.nexthops, [{ gateway: '10.7.0.2', dev: 2, weight: 1, onlink: false }, { gateway: '10.7.1.2', dev: 3, weight: 3, onlink: true }]);
  const dflt = decodeRoute(bytes((w) => encodeRoute(w, { dst: 'default', gateway: 'fd00::1', onlink: true }, { dev: 4 })));
  t.deepEqual([dflt.family, dflt.dst, dflt.gateway, dflt.dev, dflt.onlink, dflt.table], [6, 'default', 'fd00::1', 4, true, 254]);
  const link = decodeRoute(bytes((w) => encodeRoute(w, { dst: '10.1.0.0/24' }, { dev: 4 })));
  t.is(link.scope, 'link');
});

test('addresses and FDB entries round-trip', (t) => {
  const a = decodeAddress(bytes((w) => encodeAddress(w, { dev: 3, address: '10.9.0.1/24', broadcast: true, flags: ['nodad', 'noprefixroute'] }, 3)));
  t.deepEqual([a.address, a.prefixLen, a.broadcast, a.index], ['10.9.0.1', 24, '10.9.0.255', 3]);
  t.deepEqual(a.flags.sort(), ['nodad', 'noprefixroute']);
  const f = decodeNeighbour(bytes((w) => encodeFdb(w, { dev: 5, lladdr: '00:00:00:00:00:00', dst: '198.18.0.12', vni: 7 }, 5)));
  t.deepEqual([f.family, f.lladdr, f.dst, f.vni, f.flags, f.state], ['bridge', '00:00:00:00:00:00', '198.18.0.12', 7, ['self'], ['permanent']]);
});

test('generic netlink family reply with multicast groups', (t) => {
  const body = bytes((w) => ctrlBody.encode(w, { cmd: 1, version: 2 }, {
    CTRL_ATTR_FAMILY_ID: 16, CTRL_ATTR_FAMILY_NAME: 'nlctrl', CTRL_ATTR_VERSION: 2,
    CTRL_ATTR_MCAST_GROUPS: [{ CTRL_ATTR_MCAST_GRP_NAME: 'notify', CTRL_ATTR_MCAST_GRP_ID: 16 }],
  }));
  const fam = decodeFamily(body);
  t.deepEqual([fam.id, fam.name, fam.version, fam.mcastGroups], [16, 'nlctrl', 2, { notify: 16 }]);
});

test('IP text round-trips in the form ip -j prints', (t) => {
  for (const a of ['10.0.0.1', '0.0.0.0', 'fd00::1', '::', '::1', 'fe80::a:b:c:d', '2001:db8:0:1:1:1:1:1', '1::', 'fd00:1:0:0:1::']) {
    t.is(ipAttrToText(ipTextToAttr(a)), a, a);
  }
  // IPv4-mapped: RFC 5952 section 5 and inet_ntop (hence `ip -j`) both print the dotted tail.
  t.is(ipAttrToText(ipTextToAttr('::ffff:1.2.3.4')), '::ffff:1.2.3.4');
  t.throws(() => ipTextToAttr('10.0.0'), { instanceOf: NetlinkEncodeError, message: /"10\.0\.0".*four dot-separated octets/ });
  t.throws(() => ipTextToAttr('fe80::1%eth0'), { instanceOf: NetlinkEncodeError, message: /zone ids/ });
});

test('bad requests are refused before anything is sent', (t) => {
  t.throws(() => bytes((w) => encodeLinkCreate(w, { kind: 'bridge', name: 'x'.repeat(16) })), { instanceOf: NetlinkEncodeError });
  t.throws(() => bytes((w) => encodeLinkCreate(w, { kind: 'bridge', name: 'b', mtu: -1 })), { instanceOf: NetlinkEncodeError });
  t.throws(() => bytes((w) => encodeLinkCreate(w, { kind: 'bridge', name: 'b', mac: 'zz' })), { message: /not a MAC/ });
  t.throws(() => bytes((w) => encodeRoute(w, { dst: 'default' }, {})), { message: /needs `family`/ });
  t.throws(() => bytes((w) => encodeRoute(w, { dst: '10.0.0.0/33' }, {})), { message: /prefix length/ });
  t.throws(() => bytes((w) => encodeAddress(w, { dev: 1, address: 'fd00::1/64', broadcast: true }, 1)), { message: /IPv4 only/ });
});

test('truncated and inconsistent input throws NetlinkDecodeError naming the place', (t) => {
  const good = bytes((w) => encodeMessage(w, { type: RTM_NEWLINK, flags: 0, seq: 1, pid: 0 }, (b) => linkBody.encode(b, { ifi_index: 1 }, { IFLA_IFNAME: 'lo', IFLA_LINKINFO: { IFLA_INFO_KIND: 'bridge' } })));
  t.throws(() => decodeMessages(good.subarray(0, 10)), { instanceOf: NetlinkDecodeError, message: /shorter than a 16-byte nlmsghdr/ });
  const long = good.slice();
  new DataView(long.buffer).setUint32(0, good.length + 100, true);
  t.throws(() => decodeMessages(long), { instanceOf: NetlinkDecodeError, message: /runs past the end/ });
  const short = good.slice();
  new DataView(short.buffer).setUint32(0, 4, true);
  t.throws(() => decodeMessages(short), { message: /shorter than the header/ });
  // An attribute whose length is zero would loop forever in a naive walker.
  const zero = good.slice();
  new DataView(zero.buffer).setUint16(16 + 16, 0, true);
  t.throws(() => linkBody.decode(decodeMessages(zero)[0]!.payload), { instanceOf: NetlinkDecodeError, message: /shorter than its 4-byte header/ });
  // A nested attribute longer than its parent.
  const nested = good.slice();
  const linkinfoAt = 16 + 16 + 8;
  new DataView(nested.buffer).setUint16(linkinfoAt + 4, 200, true);
  t.throws(() => linkBody.decode(decodeMessages(nested)[0]!.payload), { instanceOf: NetlinkDecodeError, message: /IFLA_LINKINFO.*runs past its parent/ });
  // A fixed-width value of the wrong size.
  const mtu = bytes((w) => { w.u16(6); w.u16(4); w.u16(1500); w.pad(); });
  t.throws(() => decodeAttrs(mtu, 0, mtu.length, IFLA, 'ifinfomsg'), { message: /IFLA_MTU.*u32 value has 2 bytes/ });
  t.throws(() => linkBody.decode(new Uint8Array(8)), { message: /ifinfomsg needs 16 bytes/ });
});
