import test from 'ava';
import { planRouting } from '../../../src/routing/routingPlanner.ts';
import type { Node } from '../../../src/store/types.ts';
import { local, node, VXLAN } from './helpers/routingFixtures.ts';

const DUAL_LOCAL = local({ podCidrs: ['10.244.1.0/24', 'fd00:10:244:1::/64'],
  otherFamilyAddress: { address: 'fd00:198:18::11', prefixLen: 64 } });

/** A dual-stack peer: both InternalIPs, both pod CIDRs, as podnetd registers it in a dual-stack cluster. */
function dualPeer(name: string, ip4: string, ip6: string | undefined, backend: string, cidrs: string[]): Node {
  const mac = `02:00:00:00:00:${name.slice(1).padStart(2, '0')}`;
  const n = node(name, ip4, cidrs, { 'podnet.io/backend': backend, 'podnet.io/vtep-mac': mac, 'podnet.io/vni': '1', 'podnet.io/vxlan-port': '8472' });
  if (ip6) n.status!.addresses!.push({ type: 'InternalIP', address: ip6 });
  return n;
}

test('host-gw dual-stack: each pod CIDR via the peer\'s node address of its family', (t) => {
  const plan = planRouting({ settings: { ...VXLAN, backend: 'host-gw' }, local: DUAL_LOCAL,
    nodes: [dualPeer('n2', '198.18.0.12', 'fd00:198:18::12', 'host-gw', ['10.244.2.0/24', 'fd00:10:244:2::/64'])] });
  t.deepEqual(plan.problems, []);
  t.deepEqual(plan.desired.routes, [
    { dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 2, onlink: false },
    { dst: 'fd00:10:244:2::/64', gateway: 'fd00:198:18::12', dev: 2, onlink: false },
  ]);
});

test('host-gw: an IPv6 pod CIDR of a peer without an IPv6 node address is reported, its IPv4 CIDR still routed', (t) => {
  const plan = planRouting({ settings: { ...VXLAN, backend: 'host-gw' }, local: DUAL_LOCAL,
    nodes: [dualPeer('n2', '198.18.0.12', undefined, 'host-gw', ['10.244.2.0/24', 'fd00:10:244:2::/64'])] });
  t.deepEqual(plan.desired.routes.map((r) => r.dst), ['10.244.2.0/24']);
  t.is(plan.problems.length, 1);
  t.regex(plan.problems[0]!.message, /fd00:10:244:2::\/64 .*publishes no IPv6 InternalIP/);
});

test('cross-subnet dual-stack: direct for families with a shared segment, the IPv6 CIDR over vxlan when it has none', (t) => {
  const plan = planRouting({ settings: { ...VXLAN, backend: 'cross-subnet' }, local: DUAL_LOCAL, nodes: [
    dualPeer('n2', '198.18.0.12', 'fd00:198:18::12', 'cross-subnet', ['10.244.2.0/24', 'fd00:10:244:2::/64']),
    dualPeer('n3', '198.18.0.13', 'fd00:198:18:1::13', 'cross-subnet', ['10.244.3.0/24', 'fd00:10:244:3::/64']),
  ] });
  t.deepEqual(plan.problems, []);
  t.deepEqual(plan.desired.routes, [
    { dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 2, onlink: false },
    { dst: 'fd00:10:244:2::/64', gateway: 'fd00:198:18::12', dev: 2, onlink: false },
    { dst: '10.244.3.0/24', gateway: '198.18.0.13', dev: 2, onlink: false },
    { dst: 'fd00:10:244:3::/64', gateway: 'fd00:10:244:3::', dev: 'tunnel', onlink: true },
  ]);
  t.deepEqual(plan.desired.fdb, [{ lladdr: '02:00:00:00:00:03', dst: '198.18.0.13' }]);
});

test('vxlan dual-stack over an IPv4 underlay: one device carries both families (VTEP /32 and /128)', (t) => {
  const plan = planRouting({ settings: VXLAN, local: DUAL_LOCAL,
    nodes: [dualPeer('n2', '198.18.0.12', 'fd00:198:18::12', 'vxlan', ['10.244.2.0/24', 'fd00:10:244:2::/64'])] });
  t.deepEqual(plan.problems, []);
  t.deepEqual(plan.desired.addresses, ['10.244.1.0/32', 'fd00:10:244:1::/128']);
  t.deepEqual(plan.desired.routes.map((r) => [r.dst, r.gateway, r.dev]), [
    ['10.244.2.0/24', '10.244.2.0', 'tunnel'], ['fd00:10:244:2::/64', 'fd00:10:244:2::', 'tunnel'],
  ]);
  t.is(plan.podMtu, 1450);
});
