/**
 * The planner, table-driven: Node objects in, the kernel entries podnet wants (and the peers it refuses, with a
 * reason naming both nodes) out.
 */
import test from 'ava';
import { planRouting } from '../../../src/routing/routingPlanner.ts';
import type { PeerProblem, RoutingSettings } from '../../../src/routing/routingModel.ts';
import { local, node, VXLAN, vxlanPeer } from './helpers/routingFixtures.ts';

test('vxlan: one permanent FDB entry, one neighbour and one onlink route per remote node', (t) => {
  const plan = planRouting({ settings: VXLAN, local: local(), nodes: [
    vxlanPeer('n1', '198.18.0.11', '10.244.1.0/24', '02:00:00:00:00:01'),
    vxlanPeer('n3', '198.18.0.13', '10.244.3.0/24', '02:00:00:00:00:03'),
    vxlanPeer('n2', '198.18.0.12', '10.244.2.0/24', '02:00:00:00:00:02'),
  ] });
  t.deepEqual(plan.peers, ['n2', 'n3']);
  t.deepEqual(plan.desired.link, { kind: 'vxlan', name: 'podnet.1', vni: 1, port: 8472, local: '198.18.0.11', uplinkIndex: 2, mtu: 1450, mac: '02:00:00:00:00:01' });
  t.deepEqual(plan.desired.addresses, ['10.244.1.0/32']);
  t.deepEqual(plan.desired.fdb, [{ lladdr: '02:00:00:00:00:02', dst: '198.18.0.12' }, { lladdr: '02:00:00:00:00:03', dst: '198.18.0.13' }]);
  t.deepEqual(plan.desired.neighbours, [{ address: '10.244.2.0', lladdr: '02:00:00:00:00:02' }, { address: '10.244.3.0', lladdr: '02:00:00:00:00:03' }]);
  t.deepEqual(plan.desired.routes, [
    { dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'tunnel', onlink: true },
    { dst: '10.244.3.0/24', gateway: '10.244.3.0', dev: 'tunnel', onlink: true },
  ]);
  t.is(plan.podMtu, 1450);
  t.deepEqual(plan.problems, []);
});

test('vxlan over an IPv6 underlay: MTU minus 70, dual-stack pod CIDRs get a neighbour and a route each', (t) => {
  const me = local({ endpoint: 'fd00:18::11', endpointFamily: 6, uplink: { name: 'eth0', index: 2, mtu: 1500, prefixLen: 64 }, podCidrs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] });
  const plan = planRouting({ settings: VXLAN, local: me, nodes: [vxlanPeer('n2', 'fd00:18::12', ['10.244.2.0/24', 'fd00:10:244:2::/64'], '02:00:00:00:00:02')] });
  t.is(plan.podMtu, 1430);
  t.deepEqual(plan.desired.addresses, ['10.244.1.0/32', 'fd00:10:244:1::/128']);
  t.deepEqual(plan.desired.fdb, [{ lladdr: '02:00:00:00:00:02', dst: 'fd00:18::12' }]);
  t.deepEqual(plan.desired.routes.map((r) => `${r.dst} via ${r.gateway}`), ['10.244.2.0/24 via 10.244.2.0', 'fd00:10:244:2::/64 via fd00:10:244:2::']);
});

const refusals: Array<[string, Record<string, string>, PeerProblem['code'], RegExp]> = [
  ['another backend', { 'podnet.io/backend': 'host-gw' }, 'backendMismatch', /node n2 uses routing backend "host-gw" but node n1 uses "vxlan"/],
  ['another VNI', { 'podnet.io/vni': '42' }, 'vniMismatch', /node n2 and node n1 disagree on the VXLAN VNI \(42 on n2, 1 on n1\)/],
  ['another port', { 'podnet.io/vxlan-port': '4789' }, 'portMismatch', /4789 on n2, 8472 on n1/],
  ['a bad MAC', { 'podnet.io/vtep-mac': 'zz' }, 'badAnnotation', /vtep-mac="zz"/],
  ['the same MAC as this node', { 'podnet.io/vtep-mac': '02:00:00:00:00:01' }, 'duplicateMac', /already used by node n1/],
];
for (const [what, ann, code, message] of refusals) {
  test(`a peer with ${what} is refused with a reason naming both nodes`, (t) => {
    const plan = planRouting({ settings: VXLAN, local: local(), nodes: [vxlanPeer('n2', '198.18.0.12', '10.244.2.0/24', '02:00:00:00:00:02', ann)] });
    t.deepEqual(plan.peers, []);
    t.deepEqual(plan.desired.routes, []);
    t.is(plan.problems[0]?.code, code);
    t.regex(plan.problems[0]!.message, message);
  });
}

test('a peer without annotations, pod CIDR or MAC yet is "not ready", not an error', (t) => {
  const plan = planRouting({ settings: VXLAN, local: local(), nodes: [
    node('n2', '198.18.0.12', '10.244.2.0/24'),
    node('n3', '198.18.0.13', undefined, { 'podnet.io/backend': 'vxlan' }),
    node('n4', '198.18.0.14', '10.244.4.0/24', { 'podnet.io/backend': 'vxlan' }),
  ] });
  t.deepEqual(plan.problems.map((p) => [p.node, p.code]), [['n2', 'notReady'], ['n3', 'notReady'], ['n4', 'notReady']]);
  t.deepEqual(plan.desired.routes, []);
});

test('a peer whose pod CIDR overlaps this node\'s or an earlier peer\'s is not programmed', (t) => {
  const plan = planRouting({ settings: VXLAN, local: local(), nodes: [
    vxlanPeer('n2', '198.18.0.12', '10.244.1.0/25', '02:00:00:00:00:02'),
    vxlanPeer('n3', '198.18.0.13', '10.244.3.0/24', '02:00:00:00:00:03'),
    vxlanPeer('n4', '198.18.0.14', '10.244.3.0/24', '02:00:00:00:00:04'),
  ] });
  t.deepEqual(plan.peers, ['n3']);
  t.deepEqual(plan.problems.map((p) => [p.node, p.code]), [['n2', 'overlappingCidr'], ['n4', 'overlappingCidr']]);
});

const hostGw: RoutingSettings = { backend: 'host-gw', vni: 1, port: 8472 };
const gwPeer = (name: string, ip: string, cidr: string) => node(name, ip, cidr, { 'podnet.io/backend': 'host-gw' });

test('host-gw: a direct route via the peer\'s node address over the uplink, no device, full MTU', (t) => {
  const plan = planRouting({ settings: hostGw, local: local(), nodes: [gwPeer('n2', '198.18.0.12', '10.244.2.0/24')] });
  t.is(plan.desired.link, undefined);
  t.deepEqual(plan.desired.addresses, []);
  t.deepEqual(plan.desired.routes, [{ dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 2, onlink: false }]);
  t.is(plan.podMtu, 1500);
});

test('host-gw: a peer on another subnet is reported, not routed into the default gateway', (t) => {
  const plan = planRouting({ settings: hostGw, local: local(), nodes: [gwPeer('n4', '198.18.1.14', '10.244.4.0/24')] });
  t.deepEqual(plan.desired.routes, []);
  t.is(plan.problems[0]?.code, 'notOnSegment');
  t.regex(plan.problems[0]!.message, /node n4 \(198\.18\.1\.14\) is not on node n1's L2 segment .*cross-subnet/);
});

test('cross-subnet: direct to same-subnet peers, vxlan to the others; MTU is the vxlan one', (t) => {
  const settings: RoutingSettings = { backend: 'cross-subnet', vni: 1, port: 8472 };
  const ann = (mac: string) => ({ 'podnet.io/backend': 'cross-subnet', 'podnet.io/vtep-mac': mac, 'podnet.io/vni': '1' });
  const plan = planRouting({ settings, local: local(), nodes: [
    node('n2', '198.18.0.12', '10.244.2.0/24', ann('02:00:00:00:00:02')),
    node('n3', '198.18.1.13', '10.244.3.0/24', ann('02:00:00:00:00:03')),
  ] });
  t.is(plan.podMtu, 1450);
  t.is(plan.desired.link?.kind, 'vxlan');
  t.deepEqual(plan.desired.routes, [
    { dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 2, onlink: false },
    { dst: '10.244.3.0/24', gateway: '10.244.3.0', dev: 'tunnel', onlink: true },
  ]);
  t.deepEqual(plan.desired.fdb, [{ lladdr: '02:00:00:00:00:03', dst: '198.18.1.13' }]);
  t.deepEqual(plan.desired.neighbours, [{ address: '10.244.3.0', lladdr: '02:00:00:00:00:03' }]);
});

test('ipip: an onlink route via the peer\'s address over podnet.ipip, MTU minus 20, IPv6 CIDRs refused', (t) => {
  const settings: RoutingSettings = { backend: 'ipip', vni: 1, port: 8472 };
  const plan = planRouting({ settings, local: local(), nodes: [node('n2', '198.18.0.12', ['10.244.2.0/24', 'fd00:10:244:2::/64'], { 'podnet.io/backend': 'ipip' })] });
  t.deepEqual(plan.desired.link, { kind: 'ipip', name: 'podnet.ipip', local: '198.18.0.11', uplinkIndex: 2, mtu: 1480 });
  t.deepEqual(plan.desired.routes, [{ dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 'tunnel', onlink: true }]);
  t.is(plan.problems[0]?.code, 'familyMismatch');
});

test('the same input gives the same plan whatever the order of the Node objects', (t) => {
  const nodes = [1, 2, 3, 4, 5].map((i) => vxlanPeer(`n${i}`, `198.18.0.${10 + i}`, `10.244.${i}.0/24`, `02:00:00:00:00:0${i}`));
  const a = planRouting({ settings: VXLAN, local: local(), nodes });
  const b = planRouting({ settings: VXLAN, local: local(), nodes: [...nodes].reverse() });
  t.deepEqual(a, b);
});
