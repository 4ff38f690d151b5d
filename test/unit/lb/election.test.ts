import test from 'ava';
import { electedNode, orderedCandidates, shouldAnnounce, interfacesFor, type ElectionInput } from '../../../src/lb/election.ts';
import { compileLbConfig } from '../../../src/lb/pools.ts';
import { planAnnouncements } from '../../../src/lb/announcePlanner.ts';
import type { L2Advertisement, Service, EndpointSlice, Node } from '../../../src/store/types.ts';

const config = (ads: L2Advertisement['spec'][] = [{}]) => compileLbConfig({
  pools: [{ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p', namespace: 'm', labels: { zone: 'a' } }, spec: { addresses: ['198.18.0.200-198.18.0.250'] } }],
  advertisements: ads.map((spec, i) => ({ apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: `a${i}`, namespace: 'm' }, spec })),
  configMaps: [],
});

function input(over: Partial<ElectionInput> = {}): ElectionInput {
  const c = config();
  return {
    ip: '198.18.0.200', pool: c.pools[0]!, advertisements: c.advertisements, localEndpointNodes: undefined,
    nodes: ['n1', 'n2', 'n3'].map((name) => ({ name, labels: { 'kubernetes.io/hostname': name, role: name === 'n3' ? 'edge' : 'worker' }, alive: true })),
    ...over,
  };
}

test('every node computes the same single announcer, and the order is a stable hash order', (t) => {
  const base = input();
  const winner = electedNode(base)!;
  t.is(['n1', 'n2', 'n3'].filter((n) => shouldAnnounce(base, n) === '').join(), winner);
  t.deepEqual(orderedCandidates({ ...base, nodes: [...base.nodes].reverse() }), orderedCandidates(base));
});

test('IPs spread over nodes; killing a node moves only its IPs, to the next in order', (t) => {
  const ips = Array.from({ length: 40 }, (_, i) => `198.18.0.${200 + i}`);
  const before = new Map(ips.map((ip) => [ip, orderedCandidates(input({ ip }))]));
  t.true(new Set([...before.values()].map((o) => o[0])).size === 3);
  const dead = 'n2';
  for (const ip of ips) {
    const nodes = input().nodes.map((n) => ({ ...n, alive: n.name !== dead }));
    const after = electedNode(input({ ip, nodes }));
    const order = before.get(ip)!;
    t.is(after, order[0] === dead ? order[1] : order[0], ip);
  }
});

const reasons: Array<[string, Partial<ElectionInput>, string, string]> = [
  ['dead node', { nodes: [{ name: 'n1', labels: {}, alive: false }] }, 'n1', 'notAlive'],
  ['node selector excludes', { advertisements: config([{ nodeSelectors: [{ matchLabels: { role: 'edge' } }] }]).advertisements }, 'n1', 'nodeNotSelected'],
  ['advertisement for another pool', { advertisements: config([{ ipAddressPools: ['other'] }]).advertisements }, 'n1', 'noMatchingAdvertisement'],
  ['pool selector matches', { advertisements: config([{ ipAddressPoolSelectors: [{ matchLabels: { zone: 'a' } }], nodeSelectors: [{ matchLabels: { role: 'edge' } }] }]).advertisements }, 'n3', ''],
  ['exclude label', { nodes: [{ name: 'n1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }, alive: true }] }, 'n1', 'nodeExcluded'],
  ['ETP Local without a local endpoint', { localEndpointNodes: new Set(['n2']) }, 'n1', 'noLocalEndpoint'],
  ['ETP Local: the only node with an endpoint', { localEndpointNodes: new Set(['n2']) }, 'n2', ''],
];
for (const [name, over, node, want] of reasons) {
  test(`shouldAnnounce: ${name} → ${want || 'announce'}`, (t) => t.is(shouldAnnounce(input(over), node) as string, want));
}

test('interfaces: union of the node\'s advertisements; one without a list means all', (t) => {
  const c = config([{ interfaces: ['eth1'] }, { interfaces: ['eth0'], nodeSelectors: [{ matchLabels: { role: 'edge' } }] }]);
  const i = { pool: c.pools[0]!, advertisements: c.advertisements };
  t.deepEqual(interfacesFor(i, { name: 'n3', labels: { role: 'edge' }, alive: true }), ['eth0', 'eth1']);
  t.deepEqual(interfacesFor(i, { name: 'n1', labels: { role: 'worker' }, alive: true }), ['eth1']);
  t.is(interfacesFor({ ...i, advertisements: config([{}, { interfaces: ['x'] }]).advertisements }, { name: 'n1', labels: {}, alive: true }), undefined);
});

test('planner: shared IP announced once for both services; ETP Local follows ready endpoints; dead nodes skipped', (t) => {
  const svc = (name: string, ip: string, local = false): Service => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: local ? 'Local' : 'Cluster' }, status: { loadBalancer: { ingress: [{ ip }] } },
  });
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'loc-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'loc' } },
    addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'n2', conditions: { ready: true } }, { addresses: ['10.244.3.5'], nodeName: 'n3', conditions: { ready: false } }],
  };
  const nodes: Node[] = ['n1', 'n2', 'n3'].map((name) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } }));
  const table = planAnnouncements({
    services: [svc('a', '198.18.0.200'), svc('b', '198.18.0.200'), svc('loc', '198.18.0.201', true), svc('out', '10.1.1.1')],
    slices: [slice], nodes, alive: new Set(['n1', 'n2']), config: config(),
  });
  t.deepEqual(table.map((r) => [r.ip, r.services.join('+'), r.reason]), [
    ['10.1.1.1', 'default/out', 'notInAnyPool'], ['198.18.0.200', 'default/a+default/b', ''], ['198.18.0.201', 'default/loc', ''],
  ]);
  t.true(['n1', 'n2'].includes(table[1]!.node!));
  t.is(table[2]!.node, 'n2');
});
