// Packet and raw ICMPv6 sockets across a veth pair whose ends live in two namespaces the test makes.
import test, { type ExecutionContext } from 'ava';
import { ip, ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import {
  ETH_P_ALL, IPPROTO_IPV6, IPV6_UNICAST_HOPS, native, PACKET_BROADCAST, PACKET_HOST, PACKET_OUTGOING, type RecvInfo,
} from '../../../src/native/index.ts';

const prefix = uniquePrefix('np');
const root = rootSnapshot(prefix);
test.after.always('nothing left in the root namespace', (t) => t.deepEqual(root.leaks(), []));

const EXPERIMENTAL_ETHERTYPE = 0x88b5; // IEEE 802 local experimental

interface End {
  ns: string;
  dev: string;
  ifindex: number;
  mac: Uint8Array;
}

function linkOf(ns: string, dev: string): End {
  const [link] = ipJsonIn<Array<{ ifindex: number; address: string }>>(ns, ['link', 'show', 'dev', dev]);
  return { ns, dev, ifindex: link!.ifindex, mac: Uint8Array.from(link!.address.split(':').map((h) => parseInt(h, 16))) };
}

/** Two namespaces joined by a veth pair, both ends up. */
function vethPair(t: ExecutionContext, tag: string): [End, End] {
  const a = makeNetns(t, prefix, `${tag}a`);
  const b = makeNetns(t, prefix, `${tag}b`);
  ip(['-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
  ip(['-n', a, 'link', 'set', 'va', 'up']);
  ip(['-n', b, 'link', 'set', 'vb', 'up']);
  return [linkOf(a, 'va'), linkOf(b, 'vb')];
}

function receiveOne(fd: number, match: (data: Uint8Array, info: RecvInfo) => boolean = () => true) {
  return new Promise<{ data: Uint8Array; info: RecvInfo }>((resolve, reject) => {
    native.startReading(fd, (err, data, info) => {
      if (err || !data || !info) {
        native.stopReading(fd);
        reject(err ?? new Error('no data'));
      } else if (match(data, info)) {
        native.stopReading(fd);
        resolve({ data, info });
      }
    });
  });
}

function frame(dst: Uint8Array, src: Uint8Array, payload: string): Uint8Array {
  const body = new TextEncoder().encode(payload);
  const out = new Uint8Array(14 + Math.max(body.length, 46));
  out.set(dst, 0);
  out.set(src, 6);
  new DataView(out.buffer).setUint16(12, EXPERIMENTAL_ETHERTYPE);
  out.set(body, 14);
  return out;
}

test('a frame sent on one end of a veth arrives on the packet socket at the other end', async (t) => {
  const [a, b] = vethPair(t, 'pk');
  const tx = native.openPacket({ netns: `/var/run/netns/${a.ns}`, ifindex: a.ifindex, protocol: EXPERIMENTAL_ETHERTYPE });
  const rx = native.openPacket({ netns: `/var/run/netns/${b.ns}`, ifindex: b.ifindex, protocol: EXPERIMENTAL_ETHERTYPE });
  t.teardown(() => native.close(tx));
  t.teardown(() => native.close(rx));

  const unicast = frame(b.mac, a.mac, 'hello from a');
  const received = receiveOne(rx);
  t.is(native.send(tx, unicast), unicast.length);
  const { data, info } = await received;
  t.deepEqual(data, unicast);
  t.is(info.ifindex, b.ifindex);
  t.is(info.protocol, EXPERIMENTAL_ETHERTYPE);
  t.is(info.pktType, PACKET_HOST);
  t.deepEqual(info.hwAddr, a.mac);

  const broadcast = frame(new Uint8Array(6).fill(0xff), a.mac, 'to everyone');
  const second = receiveOne(rx);
  native.send(tx, broadcast);
  t.is((await second).info.pktType, PACKET_BROADCAST);
});

test('a packet socket receives only its ethertype', async (t) => {
  const [a, b] = vethPair(t, 'et');
  const tx = native.openPacket({ netns: `/var/run/netns/${a.ns}`, ifindex: a.ifindex, protocol: EXPERIMENTAL_ETHERTYPE });
  const rx = native.openPacket({ netns: `/var/run/netns/${b.ns}`, ifindex: b.ifindex, protocol: EXPERIMENTAL_ETHERTYPE + 1 });
  t.teardown(() => native.close(tx));
  t.teardown(() => native.close(rx));
  const got = receiveOne(rx);
  native.send(tx, frame(b.mac, a.mac, 'not for rx'));
  const other = frame(b.mac, a.mac, 'for rx');
  new DataView(other.buffer).setUint16(12, EXPERIMENTAL_ETHERTYPE + 1);
  native.send(tx, other);
  // Frames on one veth arrive in order: had the first one matched, it would be the one received.
  t.deepEqual((await got).data, other);
});

test('ETH_P_ALL sockets on the sending interface see frames as outgoing, unless they ignore outgoing', async (t) => {
  const [a, b] = vethPair(t, 'og');
  const netnsA = `/var/run/netns/${a.ns}`;
  const tx = native.openPacket({ netns: netnsA, ifindex: a.ifindex, protocol: EXPERIMENTAL_ETHERTYPE });
  // Only ETH_P_ALL sockets get copies of transmitted frames; one bound to an ethertype sees received frames only.
  const tap = native.openPacket({ netns: netnsA, ifindex: a.ifindex, protocol: ETH_P_ALL });
  const quiet = native.openPacket({ netns: netnsA, ifindex: a.ifindex, protocol: ETH_P_ALL, ignoreOutgoing: true });
  const fromB = native.openPacket({ netns: `/var/run/netns/${b.ns}`, ifindex: b.ifindex, protocol: EXPERIMENTAL_ETHERTYPE });
  for (const fd of [tx, tap, quiet, fromB]) t.teardown(() => native.close(fd));
  const ours = (data: Uint8Array) => new DataView(data.buffer).getUint16(12) === EXPERIMENTAL_ETHERTYPE;
  const tapped = receiveOne(tap, ours);
  const quietFirst = receiveOne(quiet, ours);
  const outgoing = frame(b.mac, a.mac, 'a to b');
  const incoming = frame(a.mac, b.mac, 'b to a');
  native.send(tx, outgoing);
  // The outgoing copy is queued during the send call itself, so it is ahead of anything b sends after.
  native.send(fromB, incoming);
  const seen = await tapped;
  t.deepEqual(seen.data, outgoing);
  t.is(seen.info.pktType, PACKET_OUTGOING);
  t.deepEqual((await quietFirst).data, incoming);
});

function addAddress(end: End, address: string) {
  ip(['-n', end.ns, '-6', 'addr', 'add', address, 'dev', end.dev, 'nodad']);
}

function ipv6Bytes(text: string): Uint8Array {
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const words = [...parse(head), ...new Array(8 - parse(head).length - parse(tail).length).fill(0), ...parse(tail)];
  return Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
}

function echoRequest(id: number): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 128; // type: echo request (the kernel fills in the checksum for raw ICMPv6)
  new DataView(out.buffer).setUint16(4, id);
  out.set(new TextEncoder().encode('podnet!!'), 8);
  return out;
}

test('raw ICMPv6: echo request between namespaces, source, hop limit and arrival interface reported', async (t) => {
  const [a, b] = vethPair(t, 'ic');
  addAddress(a, 'fd00:5::1/64');
  addAddress(b, 'fd00:5::2/64');
  const sender = native.openIcmp6({ netns: `/var/run/netns/${a.ns}`, icmpTypes: [129] });
  const listener = native.openIcmp6({ netns: `/var/run/netns/${b.ns}`, icmpTypes: [128] });
  t.teardown(() => native.close(sender));
  t.teardown(() => native.close(listener));
  native.setsockoptInt(sender, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);

  const request = receiveOne(listener);
  const reply = receiveOne(sender);
  native.send(sender, echoRequest(0x4242), ipv6Bytes('fd00:5::2'));
  const seen = await request;
  t.is(seen.data[0], 128);
  t.deepEqual(seen.info.address, ipv6Bytes('fd00:5::1'));
  t.is(seen.info.hopLimit, 255);
  t.is(seen.info.ifindex, b.ifindex);
  const answered = await reply; // the kernel of b answers; the filter let only type 129 through
  t.is(answered.data[0], 129);
  t.is(new DataView(answered.data.buffer).getUint16(4), 0x4242);
  t.deepEqual(answered.info.address, ipv6Bytes('fd00:5::2'));
});

test('raw ICMPv6 to a link-local address is scoped by ifindex; a device-bound socket receives it', async (t) => {
  const [a, b] = vethPair(t, 'll');
  addAddress(a, 'fe80::a/64');
  addAddress(b, 'fe80::b/64');
  const sender = native.openIcmp6({ netns: `/var/run/netns/${a.ns}`, icmpTypes: [] });
  const listener = native.openIcmp6({ netns: `/var/run/netns/${b.ns}`, device: 'vb', icmpTypes: [128] });
  t.teardown(() => native.close(sender));
  t.teardown(() => native.close(listener));
  // The scope is honoured: an interface that does not exist in a's namespace cannot reach fe80::b.
  const wrongScope = t.throws(() => native.send(sender, echoRequest(7), ipv6Bytes('fe80::b'), a.ifindex + 1000));
  t.is((wrongScope as { syscall?: string }).syscall, 'sendmsg');
  const request = receiveOne(listener);
  native.send(sender, echoRequest(7), ipv6Bytes('fe80::b'), a.ifindex);
  const seen = await request;
  t.deepEqual(seen.info.address, ipv6Bytes('fe80::a'));
  t.is(seen.info.ifindex, b.ifindex);
  t.is(seen.info.hopLimit, 64);
});
