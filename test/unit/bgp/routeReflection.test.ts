import test from 'ava';
import { exportAttributes, type ExportContext } from '../../../src/bgp/ribOut.ts';
import { importPaths } from '../../../src/bgp/ribImport.ts';
import { selectBest, LOCAL_PEER, type Route } from '../../../src/bgp/ribRoute.ts';
import type { ReflectionContext } from '../../../src/bgp/routeReflection.ts';
import { ACCEPT_ALL } from '../../../src/bgp/ribPolicy.ts';

// A reflector 198.18.0.1 (AS 64512, cluster id 198.18.0.1) with clients .2 and .3 and a non-client .4.
const clients = new Set(['198.18.0.2', '198.18.0.3']);
const reflection = (toClient: boolean): ReflectionContext => ({ clusterId: '198.18.0.1', isClient: (k) => clients.has(k), toClient });
const ctx = (peer: string, rr = true): ExportContext => ({
  localAs: 64512, peerAs: 64512, peer, nextHopV4: '198.18.0.1', nextHopsV6: ['2001:db8::1'], policy: ACCEPT_ALL, defaultLocalPref: 100,
  peerRouterId: peer, ...(rr ? { reflection: reflection(clients.has(peer)) } : {}),
});

function ibgp(from: string, prefix = '10.244.2.0/24', extra: Partial<Route['attrs']> = {}): Route {
  return { prefix, peer: from, attrs: { origin: 0, asPath: [], localPref: 100, ...extra }, nextHops: [prefix.includes(':') ? '2001:db8::2' : from], external: false, peerRouterId: from, peerAddress: from, stale: false };
}
const sel = (r: Route) => selectBest([r], 1)!;

test('no reflection without a cluster id: iBGP split horizon', (t) => {
  t.is(exportAttributes(sel(ibgp('198.18.0.2')), '10.244.2.0/24', ctx('198.18.0.3', false)), null);
});

test('client → other clients and non-clients, with ORIGINATOR_ID, CLUSTER_LIST and the originator\'s next hop', (t) => {
  const r = ibgp('198.18.0.2');
  for (const to of ['198.18.0.3', '198.18.0.4']) {
    t.deepEqual(exportAttributes(sel(r), r.prefix, ctx(to)), { origin: 0, asPath: [], localPref: 100, nextHop: '198.18.0.2', originatorId: '198.18.0.2', clusterList: ['198.18.0.1'] }, `to ${to}`);
  }
  t.is(exportAttributes(sel(r), r.prefix, ctx('198.18.0.2')), null, 'never back to the client it came from');
});

test('non-client → clients only; an existing ORIGINATOR_ID is kept and our cluster id is prepended', (t) => {
  const r = ibgp('198.18.0.4', '10.244.4.0/24', { originatorId: '198.18.0.40', clusterList: ['198.18.0.99'] });
  t.like(exportAttributes(sel(r), r.prefix, ctx('198.18.0.2')), { originatorId: '198.18.0.40', clusterList: ['198.18.0.1', '198.18.0.99'], nextHop: '198.18.0.4' });
  t.is(exportAttributes(sel(r), r.prefix, ctx('198.18.0.5')), null, 'non-client to non-client is not reflected');
});

test('a reflected IPv6 route keeps its own next hop (in mpReach for the sender), not ours', (t) => {
  const r = ibgp('198.18.0.2', 'fd00:10:244:2::/64');
  const out = exportAttributes(sel(r), r.prefix, ctx('198.18.0.3'));
  t.deepEqual(out?.mpReach?.nextHops, ['2001:db8::2']);
  t.is(out?.nextHop, undefined);
});

test('our own routes still go to every iBGP peer with next hop self and no reflection attributes', (t) => {
  const own: Route = { ...ibgp(LOCAL_PEER), peer: LOCAL_PEER, nextHops: [] };
  t.deepEqual(exportAttributes(sel(own), own.prefix, ctx('198.18.0.4')), { origin: 0, asPath: [], localPref: 100, nextHop: '198.18.0.1' });
});

test('import: our cluster id in CLUSTER_LIST or our router id as ORIGINATOR_ID is a loop (RFC 4456 8)', (t) => {
  const base = { localAs: 64512, peerKey: '198.18.0.2', peerAs: 64512, peerRouterId: '198.18.0.2', policy: ACCEPT_ALL, routerId: '198.18.0.1', clusterId: '198.18.0.1' };
  const imp = (attrs: Route['attrs']) => importPaths(base, ['10.244.9.0/24'], { origin: 0, asPath: [], nextHop: '198.18.0.9', ...attrs }, [])[0]!.route;
  t.truthy(imp({ originatorId: '198.18.0.9', clusterList: ['198.18.0.7'] }));
  t.is(imp({ originatorId: '198.18.0.9', clusterList: ['198.18.0.7', '198.18.0.1'] }), undefined);
  t.is(imp({ originatorId: '198.18.0.1' }), undefined);
  t.truthy(importPaths({ ...base, clusterId: undefined }, ['10.244.9.0/24'], { origin: 0, asPath: [], nextHop: '198.18.0.9', clusterList: ['198.18.0.1'] }, [])[0]!.route, 'a client (no cluster id) accepts it');
});
