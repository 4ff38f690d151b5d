/**
 * Real bytes: test/fixtures/bgp/bird-gobgp.pcap is BIRD 2.0.12 and gobgpd 3.10 peering (capture.sh makes it).
 * Every message of both streams must decode, carry what the daemons were told to send, and survive
 * decode → encode → decode unchanged.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { decodeMessage, MessageFramer, type BgpMessage } from '../../../src/bgp/messages.ts';
import { endOfRibFamily, encodeUpdateBody } from '../../../src/bgp/updateMessage.ts';

interface Stream { from: string; bytes: number[] }

/** Minimal pcap reader: Ethernet (lo) or Linux cooked framing, IPv4, TCP payloads concatenated per direction. */
function tcpStreams(path: string): Map<string, Stream> {
  const b = readFileSync(path);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20);
  const linkLen = linkType === 1 ? 14 : linkType === 113 ? 16 : 0;
  const streams = new Map<string, Stream>();
  for (let off = 24; off + 16 <= b.length;) {
    const caplen = u32(off + 8);
    const pkt = b.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    const ip = pkt.subarray(linkLen);
    if (ip[0]! >> 4 !== 4 || ip[9] !== 6) continue;
    const ihl = (ip[0]! & 15) * 4;
    const total = ip.readUInt16BE(2);
    const tcp = ip.subarray(ihl, total);
    const dataOff = (tcp[12]! >> 4) * 4;
    const payload = tcp.subarray(dataOff);
    if (!payload.length) continue;
    const key = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}:${tcp.readUInt16BE(0)}`;
    const s = streams.get(key) ?? { from: key, bytes: [] };
    s.bytes.push(...payload);
    streams.set(key, s);
  }
  return streams;
}

function messagesFrom(s: Stream): BgpMessage[] {
  const f = new MessageFramer();
  const { messages, error } = f.push(Uint8Array.from(s.bytes));
  if (error) throw new Error(error.reason);
  return messages.map((m) => {
    const r = decodeMessage(m, { fourOctetAs: true, external: true });
    if (!r.ok) throw new Error(`${s.from}: ${r.error.reason}`);
    return r.message;
  });
}

const streams = tcpStreams(new URL('../../fixtures/bgp/bird-gobgp.pcap', import.meta.url).pathname);
const byHost = (host: string) => [...streams.values()].filter((s) => s.from.startsWith(host + ':')).flatMap(messagesFrom);
const bird = byHost('127.0.0.2');
const gobgp = byHost('127.0.0.3');
const updates = (ms: BgpMessage[]) => ms.flatMap((m) => (m.type === 'update' ? [m.update] : []));

test('both daemons OPEN with the capabilities they were configured with', (t) => {
  const bo = bird.find((m) => m.type === 'open');
  const go = gobgp.find((m) => m.type === 'open');
  if (bo?.type !== 'open' || go?.type !== 'open') return t.fail('no OPEN captured');
  t.is(bo.asn, 65020);
  t.is(go.asn, 4200000010, '4-octet AS from the capability');
  for (const o of [bo, go]) {
    t.deepEqual(o.capabilities.multiprotocol.map((f) => f.afi).sort(), [1, 2]);
    t.true(o.capabilities.routeRefresh);
    t.truthy(o.capabilities.gracefulRestart);
  }
  t.is(go.capabilities.gracefulRestart?.restartTime, 120);
});

test("BIRD's UPDATEs carry its routes, communities, large communities, MED and IPv6 next hop", (t) => {
  const us = updates(bird);
  t.true(us.every((u) => u.withdrawReasons.length === 0));
  const v4 = us.find((u) => u.message.nlri.includes('10.66.0.0/24'))!;
  t.deepEqual(v4.message.attributes.communities, [65020 * 65536 + 5]);
  t.deepEqual(v4.message.attributes.largeCommunities, [[65020, 1, 2]]);
  t.is(v4.message.attributes.med, 7);
  const v6 = us.find((u) => u.message.attributes.mpReach?.nlri.includes('fd66::/64'))!;
  t.is(v6.message.attributes.mpReach!.nextHops[0], '2001:db8::2');
  t.deepEqual(us.map((u) => endOfRibFamily(u.message)).filter((f) => f !== null).sort(), [1, 2]);
});

test("gobgpd's UPDATEs announce, then withdraw in both families", (t) => {
  const us = updates(gobgp);
  const ann = us.find((u) => u.message.nlri.includes('10.77.0.0/24'))!;
  t.deepEqual(ann.message.attributes.communities, [4200 * 65536 + 1]);
  t.deepEqual(ann.message.attributes.asPath, [{ type: 2, asns: [4200000010] }]);
  t.true(us.some((u) => u.message.withdrawn.includes('10.77.1.0/24')));
  t.true(us.some((u) => u.message.attributes.mpUnreach?.withdrawn.includes('fd77::/64')));
});

test('every captured UPDATE re-encodes to something that decodes the same', (t) => {
  const all = [...updates(bird), ...updates(gobgp)];
  t.true(all.length >= 8);
  for (const u of all) {
    const body = encodeUpdateBody(u.message, { fourOctetAs: true });
    const frame = Uint8Array.from([...new Uint8Array(16).fill(0xff), (body.length + 19) >> 8, (body.length + 19) & 0xff, 2, ...body]);
    const again = decodeMessage(frame, { fourOctetAs: true, external: true });
    if (!again.ok || again.message.type !== 'update') return t.fail();
    const strip = (a: typeof u.message.attributes) => ({ ...a, unknown: a.unknown?.map((x) => ({ ...x, flags: x.flags | 0x20 })) });
    t.deepEqual(strip(again.message.update.message.attributes), strip(u.message.attributes));
    t.deepEqual(again.message.update.message.nlri, u.message.nlri);
  }
});
