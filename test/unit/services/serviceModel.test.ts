/**
 * The service model compiler, table-style like kube-proxy's TestServiceChanges / TestEndpointsToEndpointsMap
 * (kubernetes/kubernetes pkg/proxy/servicechangetracker_test.go, endpointschangetracker_test.go): Service +
 * EndpointSlices in, the per-port view the backends program out.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { proxyNodeInfo, parseNodePortAddresses } from '../../../src/services/proxyNode.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';
import type { Service, EndpointSlice, Node } from '../../../src/store/types.ts';

function compile(services: Service[], slices: EndpointSlice[] = []) {
  return compileServiceModel({ services, slices, node: NODE });
}

test('ClusterIP: endpoints with the resolved target port; nil conditions mean ready', (t) => {
  const m = compile([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5', { ready: true })])]);
  t.is(m.ports.length, 1);
  const p = m.ports[0]!;
  t.is(p.id, 'ns/web:http/TCP');
  t.is(p.clusterIP, '10.96.0.10');
  t.deepEqual(p.internalEndpoints.map((e) => `${e.ip}:${e.port}`).sort(), ['10.244.1.5:8080', '10.244.2.5:8080']);
  t.true(p.hasAnyEndpoints);
  t.is(p.nodePort, 0);
});

test('several ports, same number on TCP and UDP: one view each, endpoints matched by name and protocol', (t) => {
  const s = svc('dns', { ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }] });
  const sl = slice('dns', [ep('10.244.1.7')], { ports: [{ name: 'dns', protocol: 'UDP', port: 5353 }, { name: 'dns-tcp', protocol: 'TCP', port: 5354 }] });
  const m = compile([s], [sl]);
  t.deepEqual(m.ports.map((p) => `${p.protocol}:${p.port}->${p.internalEndpoints[0]?.port}`).sort(), ['TCP:53->5354', 'UDP:53->5353']);
});

test('named target port the slice did not resolve: no endpoint; numeric targetPort still used', (t) => {
  const named = svc('a', { ports: [{ name: 'http', port: 80, targetPort: 'web' }] });
  const numeric = svc('b', { clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80, targetPort: 9090 }] });
  const unresolved = [{ name: 'http', protocol: 'TCP' as const }];
  const m = compile([named, numeric], [slice('a', [ep('10.244.1.1')], { ports: unresolved }), slice('b', [ep('10.244.1.2')], { ports: unresolved })]);
  t.deepEqual(m.ports.find((p) => p.name === 'a')!.internalEndpoints, []);
  t.false(m.ports.find((p) => p.name === 'a')!.hasAnyEndpoints);
  t.deepEqual(m.ports.find((p) => p.name === 'b')!.internalEndpoints.map((e) => e.port), [9090]);
});

test('skipped: ExternalName, headless, headless label, other proxy name; ours is kept', (t) => {
  const m = compileServiceModel({
    services: [
      svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
      svc('none', { clusterIP: 'None' }),
      svc('lab', {}, { metadata: { name: 'lab', namespace: 'ns', labels: { 'service.kubernetes.io/headless': '' } } }),
      svc('other', {}, { metadata: { name: 'other', namespace: 'ns', labels: { 'service.kubernetes.io/service-proxy-name': 'foo' } } }),
      svc('mine', {}, { metadata: { name: 'mine', namespace: 'ns', labels: { 'service.kubernetes.io/service-proxy-name': 'podnet' } } }),
    ],
    slices: [],
    node: NODE,
    options: { proxyName: 'podnet' },
  });
  t.deepEqual(m.skipped.map((s) => `${s.service}:${s.reason}`), ['ns/ext:externalName', 'ns/none:headless', 'ns/lab:headlessLabel', 'ns/other:otherProxy']);
  t.deepEqual(m.ports.map((p) => p.name), ['mine']);
});

test('NodePort and LoadBalancer: ingress IPs (not ipMode Proxy), source ranges of the family, externalIPs', (t) => {
  const s = svc('lb', {
    type: 'LoadBalancer', externalIPs: ['203.0.113.250', 'fd00::250'], loadBalancerSourceRanges: ['192.0.2.0/24', ' 2001:db8::/32', 'bogus'],
    ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }],
  }, { status: { loadBalancer: { ingress: [{ ip: '198.18.0.200' }, { ip: '198.18.0.201', ipMode: 'Proxy' }] } } });
  const p = compile([s]).ports[0]!;
  t.is(p.nodePort, 30080);
  t.deepEqual(p.loadBalancerIPs, ['198.18.0.200']);
  t.deepEqual(p.externalIPs, ['203.0.113.250']);
  t.deepEqual(p.sourceRanges, ['192.0.2.0/24']);
  t.is(p.healthCheckNodePort, 0, 'no health check port with ETP Cluster');
});

test('ClusterIP service ignores a stray nodePort; localhost is never a NodePort address', (t) => {
  const m = compile([svc('c', { ports: [{ port: 80, nodePort: 30001 }] })]);
  t.is(m.ports[0]!.nodePort, 0);
  t.deepEqual(m.nodePortIPs.IPv4, ['198.18.0.11']);
  t.deepEqual(m.nodePortIPs.IPv6, ['fd00::11']);
});

test('ETP Local: external endpoints are the local ones, healthCheckNodePort counts local ready only', (t) => {
  const s = svc('l', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ name: 'http', port: 80, nodePort: 30081 }] });
  const sl = slice('l', [ep('10.244.1.5', { nodeName: 'node-a', ready: false, serving: true, terminating: true }), ep('10.244.2.5', { nodeName: 'node-b' })]);
  const p = compile([s], [sl]).ports[0]!;
  t.deepEqual(p.externalEndpoints.map((e) => e.ip), ['10.244.1.5'], 'local serving-terminating endpoint used');
  t.deepEqual(p.internalEndpoints.map((e) => e.ip), ['10.244.2.5']);
  t.is(p.healthCheckNodePort, 32000);
  t.is(p.localReadyCount, 0, 'health check fails while only terminating endpoints remain');
});

test('ETP Local without any external address behaves as Cluster (kube-proxy ExternalPolicyLocal)', (t) => {
  const p = compile([svc('x', { externalTrafficPolicy: 'Local' })], [slice('x', [ep('10.244.2.5', { nodeName: 'node-b' })])]).ports[0]!;
  t.false(p.externalLocal);
});

test('ITP Local with no local endpoint: nothing to use but hasAnyEndpoints (drop, not reject)', (t) => {
  const p = compile([svc('i', { internalTrafficPolicy: 'Local' })], [slice('i', [ep('10.244.2.5', { nodeName: 'node-b' })])]).ports[0]!;
  t.deepEqual(p.internalEndpoints, []);
  t.true(p.hasAnyEndpoints);
});

test('sessionAffinity ClientIP: default 10800 s, explicit timeout kept', (t) => {
  const m = compile([svc('a1', { sessionAffinity: 'ClientIP' }), svc('a2', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }), svc('a3', { clusterIP: '10.96.0.13' })]);
  t.deepEqual(m.ports.map((p) => p.affinitySeconds), [10800, 60, 0]);
});

test('dual stack: one view per family, each with its own family endpoints', (t) => {
  const s = svc('d', { clusterIPs: ['10.96.0.20', 'fd00:96::20'], ipFamilies: ['IPv4', 'IPv6'] });
  const m = compile([s], [slice('d', [ep('10.244.1.5')], { name: 'd-v4' }), slice('d', [ep('fd00:244::5')], { name: 'd-v6', family: 'IPv6' })]);
  t.deepEqual(m.ports.map((p) => `${p.family} ${p.clusterIP} ${p.internalEndpoints.map((e) => e.ip).join(',')}`), ['IPv4 10.96.0.20 10.244.1.5', 'IPv6 fd00:96::20 fd00:244::5']);
});

test('publishNotReadyAddresses: not-ready endpoints are used', (t) => {
  const sl = slice('p', [ep('10.244.1.5', { ready: false, serving: false })]);
  t.deepEqual(compile([svc('p', {})], [sl]).ports[0]!.internalEndpoints, []);
  t.is(compile([svc('p', { publishNotReadyAddresses: true })], [sl]).ports[0]!.internalEndpoints.length, 1);
});

test('trafficDistribution PreferSameZone without controller hints: hints derived from endpoint zones', (t) => {
  const sl = slice('z', [ep('10.244.1.5', { zone: 'zone-a' }), ep('10.244.2.5', { zone: 'zone-b' })]);
  t.is(compile([svc('z', {})], [sl]).ports[0]!.internalEndpoints.length, 2);
  const p = compile([svc('z', { trafficDistribution: 'PreferSameZone' })], [sl]).ports[0]!;
  t.deepEqual(p.internalEndpoints.map((e) => e.ip), ['10.244.1.5']);
  t.is(p.topologyMode, 'zone');
});

test('trafficDistribution PreferSameNode: this node first, falls back to zone', (t) => {
  const sl = slice('n', [ep('10.244.1.5', { zone: 'zone-a', nodeName: 'node-x' }), ep('10.244.1.6', { zone: 'zone-a', nodeName: 'node-a' }), ep('10.244.2.5', { zone: 'zone-b', nodeName: 'node-b' })]);
  t.deepEqual(compile([svc('n', { trafficDistribution: 'PreferSameNode' })], [sl]).ports[0]!.internalEndpoints.map((e) => e.ip), ['10.244.1.6']);
  const noLocal = slice('n', [ep('10.244.1.5', { zone: 'zone-a', nodeName: 'node-x' }), ep('10.244.2.5', { zone: 'zone-b', nodeName: 'node-b' })]);
  t.deepEqual(compile([svc('n', { trafficDistribution: 'PreferSameNode' })], [noLocal]).ports[0]!.internalEndpoints.map((e) => e.ip), ['10.244.1.5']);
});

test('an address in two slices is used once, the ready copy wins', (t) => {
  const a = slice('dup', [ep('10.244.1.5', { ready: false, serving: false })], { name: 'dup-a' });
  const b = slice('dup', [ep('10.244.1.5')], { name: 'dup-b' });
  const p = compile([svc('dup', {})], [a, b]).ports[0]!;
  t.is(p.internalEndpoints.length, 1);
});

test('nodePortAddresses: primary = first InternalIP per family; CIDRs select node and local addresses; bad CIDR names the field', (t) => {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } },
    status: { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '198.18.0.11' }, { type: 'InternalIP', address: '10.0.0.11' }, { type: 'InternalIP', address: 'fd00::11' }] } };
  t.deepEqual(proxyNodeInfo('n1', node, 'primary'), { name: 'n1', zone: 'z1', nodePortIPs: ['198.18.0.11', 'fd00::11'] });
  const npa = parseNodePortAddresses(['10.0.0.0/8', '127.0.0.0/8']);
  t.deepEqual(proxyNodeInfo('n1', node, npa, ['10.9.9.9', '127.0.0.1']).nodePortIPs, ['10.0.0.11', '10.9.9.9']);
  const err = t.throws(() => parseNodePortAddresses(['10.0.0.0/33']));
  t.regex(err!.message, /--nodeport-addresses.*10\.0\.0\.0\/33/);
});
