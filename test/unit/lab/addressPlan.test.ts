import test from 'ava';
import { UsageError } from '../../../src/common/cli.ts';
import { clusterCidrsOf, nodesOf, planLab, planNamespaces, primaryAddress, primaryAddress6, serviceCidrsOf, type LabOptions } from '../../../src/lab/addressPlan.ts';
import { isLabNamespace } from '../../../src/lab/labNames.ts';

const opts = (o: Partial<LabOptions> = {}): LabOptions => ({ name: 'podnet', nodes: 3, routing: 'none', store: 'file', ...o });

test('flat lab: nodes at .11.., client at .2, fabric bridge is the gateway .1', (t) => {
  const plan = planLab(opts());
  t.deepEqual(plan.hosts.map((h) => [h.id, h.ns, primaryAddress(h), h.gateway]), [
    ['n1', 'podnet-n1', '198.18.0.11', '198.18.0.1'],
    ['n2', 'podnet-n2', '198.18.0.12', '198.18.0.1'],
    ['n3', 'podnet-n3', '198.18.0.13', '198.18.0.1'],
    ['client', 'podnet-client', '198.18.0.2', '198.18.0.1'],
  ]);
  t.deepEqual(plan.fabricAddress, { bridge: 'br0', address: '198.18.0.1', prefixLen: 24, address6: 'fd00:198:18::1', prefixLen6: 64 });
  t.is(plan.fabricNs, 'podnet-fabric');
  t.deepEqual(plan.segments.map((s) => s.bridge), ['br0']);
  t.true(nodesOf(plan).every((n) => n.forwarding));
  t.false(plan.hosts.find((h) => h.id === 'client')!.forwarding);
});

test('every host is dual-stack on the underlay: fd00:198:18::/64 with the IPv4 host part as its digits', (t) => {
  const plan = planLab(opts({ nodes: 12 }));
  t.deepEqual(plan.hosts.filter((h) => ['n1', 'n2', 'n12', 'client'].includes(h.id)).map((h) => [h.id, primaryAddress6(h), h.gateway6]), [
    ['n1', 'fd00:198:18::11', 'fd00:198:18::1'],
    ['n2', 'fd00:198:18::12', 'fd00:198:18::1'],
    ['n12', 'fd00:198:18::22', 'fd00:198:18::1'],
    ['client', 'fd00:198:18::2', 'fd00:198:18::1'],
  ]);
  t.true(plan.hosts.every((h) => h.interfaces.every((i) => i.prefixLen6 === 64)));
});

test('cluster ranges follow the design contract', (t) => {
  const c = planLab(opts()).cluster;
  t.is(c.clusterCidr, '10.244.0.0/16');
  t.is(c.serviceCidr, '10.96.0.0/16');
  t.is(c.dnsIp, '10.96.0.10');
  t.deepEqual(c.l2Pool, { first: '198.18.0.200', last: '198.18.0.250' });
});

test('--ip-family dual adds the IPv6 cluster and service CIDRs (kubeadm\'s shape, IPv4 first); ipv4 is the default', (t) => {
  const c = planLab(opts({ ipFamily: 'dual' })).cluster;
  t.like(c, { clusterCidr: '10.244.0.0/16', clusterCidr6: 'fd00:10:244::/56', nodeCidrPrefixLen6: 64, serviceCidr6: 'fd00:10:96::/112' });
  t.deepEqual(clusterCidrsOf(c), ['10.244.0.0/16', 'fd00:10:244::/56']);
  t.deepEqual(serviceCidrsOf(c), ['10.96.0.0/16', 'fd00:10:96::/112']);
  const single = planLab(opts()).cluster;
  t.is(single.clusterCidr6, undefined);
  t.deepEqual(clusterCidrsOf(single), ['10.244.0.0/16']);
  t.throws(() => planLab(opts({ ipFamily: 'ipv6' as never })), { instanceOf: UsageError, message: '--ip-family: must be one of ipv4, dual, got "ipv6"' });
});

test('cross-subnet: first half of the nodes on 198.18.0.0/24, the rest on 198.18.1.0/24, a router joins them', (t) => {
  const plan = planLab(opts({ nodes: 3, routing: 'cross-subnet' }));
  t.deepEqual(nodesOf(plan).map((h) => [primaryAddress(h), h.gateway]), [
    ['198.18.0.11', '198.18.0.1'], ['198.18.0.12', '198.18.0.1'], ['198.18.1.13', '198.18.1.1'],
  ]);
  const router = plan.hosts.find((h) => h.role === 'router')!;
  t.is(router.ns, 'podnet-router');
  t.true(router.forwarding);
  t.deepEqual(router.interfaces.map((i) => [i.dev, i.address, i.bridge]), [['eth0', '198.18.0.1', 'br0'], ['eth1', '198.18.1.1', 'br1']]);
  t.deepEqual(router.interfaces.map((i) => i.address6), ['fd00:198:18::1', 'fd00:198:18:1::1']);
  t.deepEqual(nodesOf(plan).map((h) => [primaryAddress6(h), h.gateway6]),
    [['fd00:198:18::11', 'fd00:198:18::1'], ['fd00:198:18::12', 'fd00:198:18::1'], ['fd00:198:18:1::13', 'fd00:198:18:1::1']]);
  t.is(router.gateway6, undefined);
  t.is(plan.fabricAddress, undefined, 'the router, not the fabric, owns the gateways');
});

test('every namespace carries the lab prefix, fabric first', (t) => {
  const plan = planLab(opts({ name: 'lab7', nodes: 5, routing: 'cross-subnet' }));
  const names = planNamespaces(plan);
  t.is(names[0], 'lab7-fabric');
  t.is(new Set(names).size, names.length);
  t.true(names.every((n) => isLabNamespace('lab7', n)));
});

test('bad options are rejected as usage errors naming the flag', (t) => {
  t.throws(() => planLab(opts({ nodes: 0 })), { instanceOf: UsageError, message: /--nodes/ });
  t.throws(() => planLab(opts({ nodes: 101 })), { instanceOf: UsageError, message: /--nodes/ });
  t.throws(() => planLab(opts({ routing: 'ipip' as never })), { instanceOf: UsageError, message: /--routing.*ipip/ });
  t.throws(() => planLab(opts({ store: 'kube' as never })), { instanceOf: UsageError, message: /--store/ });
  t.throws(() => planLab(opts({ nodes: 1, routing: 'cross-subnet' })), { instanceOf: UsageError, message: /at least 2/ });
});
