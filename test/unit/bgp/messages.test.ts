import test from 'ava';
import {
  decodeMessage, encodeKeepalive, encodeNotification, encodeOpen, encodeRouteRefresh, encodeUpdate, MessageFramer,
  type BgpMessage,
} from '../../../src/bgp/messages.ts';
import { endOfRib, endOfRibFamily, packUpdates, routeChanges } from '../../../src/bgp/updateMessage.ts';
import { AFI_IPV4, AFI_IPV6, canonicalPrefix, formatV6, parseAddress } from '../../../src/bgp/bgpPrefix.ts';
import { emptyCapabilities } from '../../../src/bgp/capabilities.ts';
import { describeNotification } from '../../../src/bgp/notification.ts';
import type { PathAttributes } from '../../../src/bgp/pathAttributes.ts';

const wide = { fourOctetAs: true, external: false };

function decoded(bytes: Uint8Array, ctx = wide): BgpMessage {
  const r = decodeMessage(bytes, ctx);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

test('OPEN with every capability round-trips, including a 4-octet AS', (t) => {
  const caps = {
    ...emptyCapabilities(),
    multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }],
    routeRefresh: true,
    enhancedRouteRefresh: true,
    gracefulRestart: { restarting: true, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: false }] },
    unknown: [{ code: 73, value: new Uint8Array([3, 102, 111, 111]) }],
  };
  const m = decoded(encodeOpen({ asn: 4200000001, holdTime: 9, routerId: '10.0.0.1', capabilities: caps }));
  t.is(m.type, 'open');
  if (m.type !== 'open') return;
  t.is(m.asn, 4200000001);
  t.is(m.holdTime, 9);
  t.is(m.routerId, '10.0.0.1');
  t.deepEqual(m.capabilities.multiprotocol, caps.multiprotocol);
  t.true(m.capabilities.routeRefresh);
  t.true(m.capabilities.enhancedRouteRefresh);
  t.deepEqual(m.capabilities.gracefulRestart, caps.gracefulRestart);
  t.is(m.capabilities.fourOctetAs, 4200000001);
  t.deepEqual(m.capabilities.unknown.map((u) => u.code), [73]);
});

test('OPEN from a 4-octet AS puts AS_TRANS in the 2-octet field', (t) => {
  const bytes = encodeOpen({ asn: 4200000001, holdTime: 90, routerId: '1.1.1.1', capabilities: emptyCapabilities() });
  t.is((bytes[20]! << 8) | bytes[21]!, 23456);
});

test('OPEN errors: version, hold time, identifier', (t) => {
  const good = encodeOpen({ asn: 65001, holdTime: 90, routerId: '1.1.1.1', capabilities: emptyCapabilities() });
  const v3 = good.slice(); v3[19] = 3;
  const hold1 = good.slice(); hold1[22] = 0; hold1[23] = 2;
  const id0 = good.slice(); id0.fill(0, 24, 28);
  for (const [bytes, sub] of [[v3, 1], [hold1, 6], [id0, 3]] as const) {
    const r = decodeMessage(bytes, wide);
    t.false(r.ok);
    if (!r.ok) { t.is(r.error.code, 2); t.is(r.error.subcode, sub); }
  }
});

test('UPDATE with every attribute round-trips (4-octet AS)', (t) => {
  const attributes: PathAttributes = {
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 4200000001] }, { type: 1, asns: [64512, 64513] }],
    nextHop: '192.0.2.1',
    med: 50,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 4200000001, address: '192.0.2.9' },
    communities: [65001 * 65536 + 100, 0xffffff01],
    originatorId: '10.0.0.9',
    clusterList: ['10.0.0.7'],
    largeCommunities: [[4200000001, 1, 2]],
    unknown: [{ flags: 0xc0, type: 99, value: new Uint8Array([1, 2, 3]) }],
  };
  const m = decoded(encodeUpdate({ withdrawn: ['10.9.0.0/16'], attributes, nlri: ['10.1.0.0/24', '10.2.3.4/32', '0.0.0.0/0'] }, wide));
  if (m.type !== 'update') return t.fail();
  const u = m.update;
  t.deepEqual(u.withdrawReasons, []);
  t.deepEqual(u.message.withdrawn, ['10.9.0.0/16']);
  t.deepEqual(u.message.nlri, ['10.1.0.0/24', '10.2.3.4/32', '0.0.0.0/0']);
  // Passed-on unknown optional transitive attributes gain the Partial bit (RFC 4271 5).
  t.deepEqual(u.message.attributes, { ...attributes, unknown: [{ flags: 0xe0, type: 99, value: new Uint8Array([1, 2, 3]) }] });
});

test('AS_PATH over a 2-octet session: AS_TRANS plus AS4_PATH rebuilds the real path', (t) => {
  const narrow = { fourOctetAs: false, external: true };
  const attributes: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001, 4200000001] }], nextHop: '192.0.2.1' };
  const bytes = encodeUpdate({ withdrawn: [], attributes, nlri: ['10.0.0.0/8'] }, narrow);
  const m = decoded(bytes, narrow);
  if (m.type !== 'update') return t.fail();
  t.deepEqual(m.update.message.attributes.asPath, [{ type: 2, asns: [65001, 4200000001] }]);
});

test('IPv6 MP_REACH with global and link-local next hop, MP_UNREACH, and packing', (t) => {
  const bodies = packUpdates({ attributes: { origin: 0, asPath: [] }, announce: ['2001:db8:1::/48', '2001:db8::1/128'], withdraw: ['2001:db8:9::/48'], nextHopsV6: ['2001:db8::1', 'fe80::1'] }, wide, 4077);
  t.is(bodies.length, 2);
  const msgs = bodies.map((b) => decoded(Uint8Array.from([...new Uint8Array(16).fill(0xff), (b.length + 19) >> 8, (b.length + 19) & 0xff, 2, ...b])));
  const changes = msgs.map((m) => (m.type === 'update' ? routeChanges(m.update) : null));
  t.deepEqual(changes[0]?.withdrawn, ['2001:db8:9::/48']);
  t.deepEqual(changes[1]?.announced, ['2001:db8:1::/48', '2001:db8::1/128']);
  t.deepEqual(changes[1]?.nextHopsV6, ['2001:db8::1', 'fe80::1']);
});

test('packUpdates splits 10,000 prefixes into messages under 4096 octets', (t) => {
  const prefixes = Array.from({ length: 10000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const bodies = packUpdates({ attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1' }, announce: prefixes, withdraw: [] }, wide, 4096 - 19);
  t.true(bodies.every((b) => b.length + 19 <= 4096));
  const got = bodies.flatMap((b) => {
    const m = decoded(Uint8Array.from([...new Uint8Array(16).fill(0xff), (b.length + 19) >> 8, (b.length + 19) & 0xff, 2, ...b]));
    return m.type === 'update' ? m.update.message.nlri : [];
  });
  t.deepEqual(got, prefixes);
});

test('End-of-RIB markers for both families are recognised and ordinary updates are not', (t) => {
  for (const afi of [AFI_IPV4, AFI_IPV6] as const) {
    const m = decoded(encodeUpdate(endOfRib(afi), wide));
    t.is(m.type === 'update' ? endOfRibFamily(m.update.message) : null, afi);
  }
  const m = decoded(encodeUpdate({ withdrawn: ['10.0.0.0/8'], attributes: {}, nlri: [] }, wide));
  t.is(m.type === 'update' ? endOfRibFamily(m.update.message) : 'x', null);
});

test('KEEPALIVE, NOTIFICATION and ROUTE-REFRESH round-trip; notifications are named', (t) => {
  t.deepEqual(decoded(encodeKeepalive()), { type: 'keepalive' });
  const n = decoded(encodeNotification(6, 2, new Uint8Array([5, 104, 101, 108, 108, 111])));
  t.like(n, { type: 'notification', code: 6, subcode: 2 });
  t.is(describeNotification(6, 2), 'Cease / Administrative Shutdown');
  t.is(describeNotification(3, 11), 'UPDATE Message Error / Malformed AS_PATH');
  t.deepEqual(decoded(encodeRouteRefresh(2, 1)), { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
});

test('the framer reassembles messages split at every byte boundary', (t) => {
  const stream = Uint8Array.from([...encodeKeepalive(), ...encodeRouteRefresh(1, 1), ...encodeKeepalive()]);
  for (let cut = 1; cut < stream.length; cut++) {
    const f = new MessageFramer();
    const a = f.push(stream.slice(0, cut));
    const b = f.push(stream.slice(cut));
    t.is(a.messages.length + b.messages.length, 3);
  }
});

test('prefix and address helpers are canonical', (t) => {
  t.is(canonicalPrefix('10.1.2.3/16'), '10.1.0.0/16');
  t.is(canonicalPrefix('2001:DB8:0:0:1::/64'), '2001:db8::/64');
  t.is(formatV6(parseAddress('2001:db8:0:1:0:0:0:1')!), '2001:db8:0:1::1');
  t.is(formatV6(parseAddress('::')!), '::');
  t.is(canonicalPrefix('10.0.0.0/33'), null);
});
