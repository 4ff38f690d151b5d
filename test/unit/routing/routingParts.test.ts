/**
 * Smaller pure parts: the identity annotations and VTEP MAC, the masquerade script, the flags (CIDR math itself: test/unit/common/ipAddress.test.ts).
 */
import test from 'ava';
import { masqueradeScript, masqueradeTag } from '../../../src/routing/masquerade.ts';
import { identityAnnotations, parsePeer } from '../../../src/routing/nodeAnnotations.ts';
import { missingAnnotations, vtepMacFor } from '../../../src/routing/nodeIdentity.ts';
import { parseRouteFlags } from '../../../src/routing/routeFlags.ts';
import { derivedVtepMac } from '../../../src/routing/vtepMac.ts';
import { node, VXLAN } from './helpers/routingFixtures.ts';

test('the VTEP MAC is the persisted one; without it a stable, locally administered unicast MAC per node', (t) => {
  t.is(vtepMacFor(node('n1', '198.18.0.11', '10.244.1.0/24', { 'podnet.io/vtep-mac': '0A:BB:CC:DD:EE:FF' })), '0a:bb:cc:dd:ee:ff');
  const derived = vtepMacFor(node('n1', '198.18.0.11', '10.244.1.0/24'));
  t.is(derived, derivedVtepMac('n1'), 'same node name → same MAC, across restarts and lost annotations');
  t.not(derivedVtepMac('n1'), derivedVtepMac('n2'));
  const first = parseInt(derived.slice(0, 2), 16);
  t.is(first & 0x01, 0, 'unicast');
  t.is(first & 0x02, 2, 'locally administered');
});

test('identity annotations: what a vxlan node publishes, and only the missing ones are written', (t) => {
  const want = identityAnnotations(VXLAN, '198.18.0.11', '02:00:00:00:00:01');
  t.deepEqual(want, { 'podnet.io/backend': 'vxlan', 'podnet.io/tunnel-endpoint': '198.18.0.11', 'podnet.io/vtep-mac': '02:00:00:00:00:01', 'podnet.io/vni': '1', 'podnet.io/vxlan-port': '8472' });
  t.deepEqual(identityAnnotations({ ...VXLAN, backend: 'host-gw' }, '198.18.0.11', '02:00:00:00:00:01'), { 'podnet.io/backend': 'host-gw', 'podnet.io/tunnel-endpoint': '198.18.0.11' });
  const n = node('n1', '198.18.0.11', '10.244.1.0/24', { 'podnet.io/backend': 'vxlan', 'podnet.io/vni': '2' });
  t.deepEqual(Object.keys(missingAnnotations(n, want)).sort(), ['podnet.io/tunnel-endpoint', 'podnet.io/vni', 'podnet.io/vtep-mac', 'podnet.io/vxlan-port']);
  const peer = parsePeer(node('n1', '198.18.0.11', '10.244.1.7/24', want));
  t.like(peer, { name: 'n1', endpoint: '198.18.0.11', podCidrs: ['10.244.1.0/24'], backend: 'vxlan', vni: 1, port: 8472 });
});

test('masquerade: pod traffic to outside the cluster CIDRs only, one transaction on the podnet-nat table', (t) => {
  const script = masqueradeScript(['10.244.0.0/16', 'fd00:10:244::/56']);
  const tag = masqueradeTag(['10.244.0.0/16', 'fd00:10:244::/56']);
  t.is(script, [
    'add table inet podnet-nat',
    'flush table inet podnet-nat',
    'add chain inet podnet-nat postrouting { type nat hook postrouting priority srcnat; policy accept; }',
    `add rule inet podnet-nat postrouting ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 224.0.0.0/4 } masquerade comment "${tag}"`,
    `add rule inet podnet-nat postrouting ip6 saddr fd00:10:244::/56 ip6 daddr != { fd00:10:244::/56, ff00::/8 } masquerade comment "${tag}"`,
    '',
  ].join('\n'));
  t.not(masqueradeTag(['10.244.0.0/16']), tag, 'another configuration gets another tag, so the check re-applies');
});

test('flags: defaults, and bad values rejected naming the flag', (t) => {
  const f = parseRouteFlags(['--node', 'n1']);
  t.deepEqual(f.settings, { backend: 'vxlan', vni: 1, port: 8472 });
  t.deepEqual(f.clusterCidrs, ['10.244.0.0/16']);
  t.true(f.masquerade);
  const g = parseRouteFlags(['--backend', 'cross-subnet', '--vni', '4096', '--port', '4789', '--cluster-cidr', '10.244.3.1/16,fd00::/48', '--iface', 'eth1', '--no-masquerade']);
  t.deepEqual(g.settings, { backend: 'cross-subnet', vni: 4096, port: 4789 });
  t.deepEqual(g.clusterCidrs, ['10.244.0.0/16', 'fd00::/48']);
  t.is(g.iface, 'eth1');
  t.false(g.masquerade);
  t.throws(() => parseRouteFlags(['--backend', 'wireguard']), { message: /--backend: unknown backend "wireguard" \(one of: vxlan, host-gw, cross-subnet, ipip\)/ });
  t.throws(() => parseRouteFlags(['--vni', '16777216']), { message: /--vni: expected an integer 0-16777215/ });
  t.throws(() => parseRouteFlags(['--cluster-cidr', '10.244.0.0/33']), { message: /--cluster-cidr: "10.244.0.0\/33" is not a CIDR/ });
});


test('overlapping pod CIDRs: the later node loses, this node never does; adjacent blocks do not overlap', async (t) => {
  const { findOverlaps } = await import('../../../src/routing/cidrOverlaps.ts');
  const losers = findOverlaps([
    { node: 'me', cidr: '10.244.1.0/24', rank: -1 },
    { node: 'a', cidr: '10.244.1.128/25', rank: 0 },
    { node: 'b', cidr: '10.244.2.0/24', rank: 1 },
    { node: 'c', cidr: '10.244.3.0/24', rank: 2 },
    { node: 'd', cidr: '10.244.0.0/16', rank: 3 },
    { node: 'e', cidr: 'fd00::/64', rank: 4 },
    { node: 'f', cidr: 'fd00:0:0:1::/64', rank: 5 },
  ]);
  t.deepEqual([...losers.keys()].sort(), ['a', 'd']);
  t.deepEqual(losers.get('a'), { node: 'a', cidr: '10.244.1.128/25', other: '10.244.1.0/24', otherNode: 'me' });
  t.is(losers.get('d')?.otherNode, 'me');
});
