import test from 'ava';
import { planBgpTopology, parseDurationSeconds, type BgpTopology } from '../../../src/bgp/bgpTopology.ts';
import type { BGPPeer, Node } from '../../../src/store/types.ts';

function node(name: string, ip: string, extra: Partial<Node> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { rack: name === 'n1' ? 'a' : 'b' } }, spec: { podCIDR: `10.244.${name.slice(1)}.0/24` }, status: { addresses: [{ type: 'InternalIP', address: ip }] }, ...extra };
}

function peer(name: string, spec: Partial<BGPPeer['spec']>): BGPPeer {
  return { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name, namespace: 'metallb-system' }, spec: { myASN: 64512, peerASN: 65000, peerAddress: '198.18.0.1', ...spec } };
}

const nodes = [node('n1', '198.18.0.11'), node('n2', '198.18.0.12'), node('n3', '198.18.0.13')];
const ok = (r: BgpTopology | { error: string }): BgpTopology => { if ('error' in r) throw new Error(r.error); return r; };

test('full mesh: one iBGP peer per other node, lower address passive, pod CIDR originated', (t) => {
  const r = ok(planBgpTopology({ self: nodes[1]!, nodes, peers: [], settings: { asn: 64512, mode: 'full-mesh' } }));
  t.is(r.routerId, '198.18.0.12');
  t.deepEqual(r.peers.map((p) => [p.peerAddress, p.peerAs, p.passive]), [['198.18.0.11', 64512, false], ['198.18.0.13', 64512, true]]);
  t.deepEqual(r.localRoutes, [{ prefix: '10.244.2.0/24' }]);
  t.deepEqual(r.problems, []);
});

test('route-reflector client: sessions only to the reflectors', (t) => {
  const r = ok(planBgpTopology({ self: nodes[0]!, nodes, peers: [], settings: { asn: 64512, mode: 'route-reflector-client', routeReflectors: ['198.18.0.100'] } }));
  t.deepEqual(r.peers.map((p) => p.peerAddress), ['198.18.0.100']);
});

test('BGPPeer objects: node selectors, hold time, password, TTL for eBGP, and problems named', (t) => {
  const peers = [
    peer('tor-a', { nodeSelectors: [{ matchLabels: { rack: 'a' } }], holdTime: '1m30s', password: 's3cret' }),
    peer('tor-b', { peerAddress: '198.18.0.2', nodeSelectors: [{ matchLabels: { rack: 'b' } }] }),
    peer('far', { peerAddress: '203.0.113.1', ebgpMultiHop: true }),
    peer('bad', { peerAddress: 'not-an-ip' }),
    peer('other-as', { peerAddress: '198.18.0.3', myASN: 65001 }),
  ];
  const r = ok(planBgpTopology({ self: nodes[0]!, nodes, peers, settings: { asn: 64512, mode: 'external-only' } }));
  t.deepEqual(r.peers.map((p) => [p.peerAddress, p.peerAs, p.holdTime, p.md5Password, p.ttl]), [
    ['198.18.0.1', 65000, 90, 's3cret', 1],
    ['203.0.113.1', 65000, undefined, undefined, 255],
  ]);
  t.is(r.problems.length, 2);
  t.regex(r.problems[0]!, /BGPPeer metallb-system\/bad: spec\.peerAddress/);
  t.regex(r.problems[1]!, /myASN 65001/);
});

test('a node without an IPv4 InternalIP cannot run BGP; a large mesh is flagged', (t) => {
  const r = planBgpTopology({ self: node('n9', 'fd00::9'), nodes, peers: [], settings: { asn: 64512, mode: 'full-mesh' } });
  t.true('error' in r);
  const many = Array.from({ length: 60 }, (_, i) => node(`n${i + 1}`, `198.18.1.${i + 1}`));
  const big = ok(planBgpTopology({ self: many[0]!, nodes: many, peers: [], settings: { asn: 64512, mode: 'full-mesh' } }));
  t.is(big.peers.length, 59);
  t.regex(big.problems[0]!, /exceeds 50/);
});

test('durations', (t) => {
  t.is(parseDurationSeconds('90s'), 90);
  t.is(parseDurationSeconds('1m30s'), 90);
  t.is(parseDurationSeconds('2h'), 7200);
  t.is(parseDurationSeconds('soon'), null);
  t.is(parseDurationSeconds(''), null);
});

test('BGPPeer over IPv6: the node\'s IPv6 address is the source and next hop, its IPv4 address the IPv4 next hop', (t) => {
  const dual = node('n1', '198.18.0.11', { status: { addresses: [{ type: 'InternalIP', address: '198.18.0.11' }, { type: 'InternalIP', address: 'fd00::11' }] } });
  const r = ok(planBgpTopology({ self: dual, nodes: [dual], peers: [peer('v6', { peerAddress: 'fd00::254' }), peer('v4', { peerAddress: '198.18.0.254' })], settings: { asn: 64512, mode: 'external-only' } }));
  t.deepEqual(r.peers.map((p) => [p.peerAddress, p.localAddress, p.nextHopV4, p.nextHopsV6]), [
    ['fd00::254', 'fd00::11', '198.18.0.11', ['fd00::11']],
    ['198.18.0.254', '198.18.0.11', '198.18.0.11', ['fd00::11']],
  ]);
  const v4only = ok(planBgpTopology({ self: nodes[0]!, nodes, peers: [peer('v6', { peerAddress: 'fd00::254' })], settings: { asn: 64512, mode: 'external-only' } }));
  t.deepEqual(v4only.peers, []);
  t.regex(v4only.problems[0]!, /is IPv6 but Node n1 has no IPv6 InternalIP/);
});

test('route-reflector client on a dual-stack node: IPv4 and IPv6 over the session, each with the node\'s next hop', (t) => {
  const dual = node('n2', '198.18.0.12', { status: { addresses: [{ type: 'InternalIP', address: '198.18.0.12' }, { type: 'InternalIP', address: 'fd00::12' }] } });
  const r = ok(planBgpTopology({ self: dual, nodes: [dual], peers: [], settings: { asn: 64512, mode: 'route-reflector-client', routeReflectors: ['198.18.0.1'] } }));
  t.deepEqual(r.peers.map((p) => [p.peerAddress, p.nextHopV4, p.nextHopsV6, p.families]), [['198.18.0.1', '198.18.0.12', ['fd00::12'], [1, 2]]]);
});
