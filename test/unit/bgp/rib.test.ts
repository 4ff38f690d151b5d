import test from 'ava';
import { Rib } from '../../../src/bgp/rib.ts';
import { LOCAL_PEER, selectBest, type Route } from '../../../src/bgp/ribRoute.ts';
import { AdjRibOut, exportAttributes, type ExportContext } from '../../../src/bgp/ribOut.ts';
import { evaluatePolicy, parseCommunity, prefixMatches, type Policy } from '../../../src/bgp/ribPolicy.ts';
import type { PathAttributes } from '../../../src/bgp/pathAttributes.ts';

function route(peer: string, attrs: PathAttributes, extra: Partial<Route> = {}): Route {
  return { prefix: '10.1.0.0/24', peer, attrs: { origin: 0, asPath: [{ type: 2, asns: [65001] }], ...attrs }, nextHops: [peer], external: true, peerRouterId: peer, peerAddress: peer, stale: false, ...extra };
}

const pick = (...rs: Route[]) => selectBest(rs, 8)!.best.peer;

test('best path: LOCAL_PREF, then AS_PATH length, ORIGIN, MED (same neighbour AS), eBGP over iBGP, router id', (t) => {
  t.is(pick(route('1.1.1.1', {}), route('2.2.2.2', { localPref: 200 })), '2.2.2.2');
  t.is(pick(route('1.1.1.1', { asPath: [{ type: 2, asns: [1, 2] }] }), route('2.2.2.2', {})), '2.2.2.2');
  t.is(pick(route('1.1.1.1', { asPath: [{ type: 2, asns: [1] }, { type: 1, asns: [5, 6, 7] }] }), route('2.2.2.2', { asPath: [{ type: 2, asns: [1, 2, 3] }] })), '1.1.1.1', 'an AS_SET counts as one');
  t.is(pick(route('1.1.1.1', { origin: 2 }), route('2.2.2.2', { origin: 1 })), '2.2.2.2');
  t.is(pick(route('1.1.1.1', { med: 10 }), route('2.2.2.2', { med: 5 })), '2.2.2.2');
  t.is(pick(route('1.1.1.1', { med: 5 }), route('2.2.2.2', { med: 10, asPath: [{ type: 2, asns: [65009] }] })), '1.1.1.1', 'MED differs but ASes differ too: falls to router id');
  t.is(pick(route('1.1.1.1', {}, { external: false }), route('2.2.2.2', {})), '2.2.2.2');
  t.is(pick(route('10.0.0.2', {}), route('9.0.0.1', {})), '9.0.0.1', 'numeric, not string, router id order');
  t.is(pick(route('1.1.1.1', {}, { stale: true }), route('2.2.2.2', {})), '2.2.2.2', 'fresh beats stale');
  t.is(pick(route(LOCAL_PEER, {}, { peerRouterId: '9.9.9.9' }), route('2.2.2.2', { asPath: [] })), LOCAL_PEER);
});

test('ECMP: equal-cost paths from different ASes share the prefix; a worse one does not', (t) => {
  const rib = new Rib({ maxPaths: 4 });
  rib.set(route('1.1.1.1', {}));
  rib.set(route('2.2.2.2', { asPath: [{ type: 2, asns: [65002] }] }));
  rib.set(route('3.3.3.3', { asPath: [{ type: 2, asns: [65003, 65004] }] }));
  t.deepEqual(rib.kernelRoute('10.1.0.0/24')?.nextHops, ['1.1.1.1', '2.2.2.2']);
  t.true(rib.delete('1.1.1.1', '10.1.0.0/24'));
  t.deepEqual(rib.kernelRoute('10.1.0.0/24')?.nextHops, ['2.2.2.2']);
  t.deepEqual(rib.dropPeer('2.2.2.2'), ['10.1.0.0/24']);
  t.deepEqual(rib.kernelRoute('10.1.0.0/24')?.nextHops, ['3.3.3.3']);
});

test('graceful restart bookkeeping: stale marks survive, sweep removes only stale paths of the family', (t) => {
  const rib = new Rib();
  rib.set(route('1.1.1.1', {}));
  rib.set({ ...route('1.1.1.1', {}), prefix: 'fd00::/64', nextHops: ['2001:db8::1'] });
  rib.markStale('1.1.1.1', [1, 2]);
  t.true(rib.loc.get('10.1.0.0/24')!.best.stale);
  rib.set(route('1.1.1.1', {})); // re-announced after the restart: fresh again
  t.deepEqual(rib.sweepStale('1.1.1.1', [1]), []);
  t.deepEqual(rib.sweepStale('1.1.1.1', [2]), ['fd00::/64']);
  t.false(rib.loc.get('10.1.0.0/24')!.best.stale);
});

test('local routes are never kernel routes; IPv6 link-local next hop used when the global is ::', (t) => {
  const rib = new Rib();
  rib.set(route(LOCAL_PEER, {}));
  t.is(rib.kernelRoute('10.1.0.0/24'), undefined);
  rib.set({ ...route('1.1.1.1', {}), prefix: 'fd00::/64', nextHops: ['::', 'fe80::1'] });
  t.deepEqual(rib.kernelRoute('fd00::/64')?.nextHops, ['fe80::1']);
});

test('prefix lists with ge/le, community matches, default action', (t) => {
  t.true(prefixMatches({ prefix: '10.0.0.0/8' }, '10.0.0.0/8'));
  t.false(prefixMatches({ prefix: '10.0.0.0/8' }, '10.1.0.0/16'));
  t.true(prefixMatches({ prefix: '10.0.0.0/8', le: 24 }, '10.1.0.0/16'));
  t.false(prefixMatches({ prefix: '10.0.0.0/8', le: 24 }, '10.1.1.0/25'));
  t.true(prefixMatches({ prefix: '10.0.0.0/8', ge: 32 }, '10.1.1.1/32'));
  t.false(prefixMatches({ prefix: '10.0.0.0/8', le: 32 }, '11.0.0.0/16'));
  t.false(prefixMatches({ prefix: '10.0.0.0/8', le: 32 }, 'fd00::/64'));
  const policy: Policy = {
    rules: [
      { communities: [parseCommunity('65000:666')!], action: 'reject' },
      { prefixes: [{ prefix: '10.244.0.0/16', le: 24 }], action: 'accept', set: { localPref: 300 } },
    ],
    default: 'reject',
  };
  t.like(evaluatePolicy(policy, '10.244.3.0/24', {}), { accepted: true, set: { localPref: 300 } });
  t.false(evaluatePolicy(policy, '10.244.3.0/24', { communities: [65000 * 65536 + 666] }).accepted);
  t.false(evaluatePolicy(policy, '192.168.0.0/24', {}).accepted);
  t.is(parseCommunity('no-export'), 0xffffff01);
  t.is(parseCommunity('70000:1'), null);
});

const ebgp: ExportContext = { localAs: 65001, peerAs: 65010, peer: '9.9.9.9', nextHopV4: '192.0.2.1', nextHopsV6: ['2001:db8::1'], policy: { rules: [], default: 'accept' }, defaultLocalPref: 100 };
const sel = (r: Route) => ({ best: r, multipath: [r] });

test('export to eBGP: prepend our AS, next hop self, no LOCAL_PREF, no foreign MED; policy prepend and communities', (t) => {
  const learned = route('1.1.1.1', { localPref: 200, med: 9, communities: [1] });
  t.deepEqual(exportAttributes(sel(learned), '10.1.0.0/24', ebgp), { origin: 0, asPath: [{ type: 2, asns: [65001, 65001] }], nextHop: '192.0.2.1', communities: [1] });
  const withPolicy = { ...ebgp, policy: { rules: [{ action: 'accept' as const, set: { prepend: 2, addCommunities: [7] } }], default: 'reject' as const } };
  t.deepEqual(exportAttributes(sel(route(LOCAL_PEER, { asPath: [] })), '10.1.0.0/24', withPolicy)?.asPath, [{ type: 2, asns: [65001, 65001, 65001] }]);
  t.deepEqual(exportAttributes(sel(route(LOCAL_PEER, { asPath: [] })), '10.1.0.0/24', withPolicy)?.communities, [7]);
  t.is(exportAttributes(sel(route('9.9.9.9', {})), '10.1.0.0/24', ebgp), null, 'not sent back to where it came from');
  t.is(exportAttributes(sel(route('1.1.1.1', { communities: [0xffffff01] })), '10.1.0.0/24', ebgp), null, 'NO_EXPORT honoured');
});

test('export to iBGP: LOCAL_PREF set, iBGP-learned routes not re-advertised', (t) => {
  const ibgp = { ...ebgp, peerAs: 65001 };
  t.is(exportAttributes(sel(route(LOCAL_PEER, { asPath: [] })), '10.1.0.0/24', ibgp)?.localPref, 100);
  t.is(exportAttributes(sel(route('1.1.1.1', {}, { external: false })), '10.1.0.0/24', ibgp), null);
});

test('Adj-RIB-Out sends only differences and groups equal attributes', (t) => {
  const rib = new Rib();
  for (const p of ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24']) rib.set({ ...route(LOCAL_PEER, { asPath: [] }), prefix: p });
  const out = new AdjRibOut();
  const first = out.diff(rib.loc.keys(), rib.loc, ebgp);
  t.is(first.batches.length, 1);
  t.deepEqual(first.batches[0]!.announce, ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24']);
  t.deepEqual(out.diff(rib.loc.keys(), rib.loc, ebgp), { withdraw: [], batches: [] }, 'nothing changed, nothing sent');
  rib.delete(LOCAL_PEER, '10.2.0.0/24');
  t.deepEqual(out.diff(['10.2.0.0/24'], rib.loc, ebgp), { withdraw: ['10.2.0.0/24'], batches: [] });
});

import { survivingDirection } from '../../../src/bgp/sessionCollision.ts';

test('collision resolution compares identifiers as numbers and both sides agree', (t) => {
  t.is(survivingDirection('10.0.0.2', '9.255.255.255'), 'outgoing');
  t.is(survivingDirection('9.255.255.255', '10.0.0.2'), 'incoming');
  t.is(survivingDirection('192.168.0.1', '10.0.0.1'), 'outgoing', 'not string order');
});
