/**
 * Table-driven like kube-proxy's TestCategorizeEndpoints (kubernetes/kubernetes pkg/proxy/topology_test.go):
 * each row gives endpoints + policies + this node and the endpoint sets the proxy must use.
 */
import test from 'ava';
import { categorizeEndpoints, type EndpointInfo } from '../../../src/services/endpointSelection.ts';

const NODE = { name: 'node-a', zone: 'zone-a' };

function e(ip: string, o: Partial<EndpointInfo> = {}): EndpointInfo {
  return { ip, port: 80, nodeName: undefined, zone: undefined, ready: true, serving: true, terminating: false, isLocal: false, zoneHints: [], nodeHints: [], ...o };
}
const ips = (l: EndpointInfo[]) => l.map((x) => x.ip).sort();

const cases: Array<{ name: string; eps: EndpointInfo[]; internalLocal?: boolean; externalLocal?: boolean; cluster: string[]; local: string[]; any: boolean }> = [
  { name: 'hints disabled, all endpoints', eps: [e('10.1.2.3'), e('10.1.2.4')], cluster: ['10.1.2.3', '10.1.2.4'], local: [], any: true },
  { name: 'zone hints, only this zone', eps: [e('10.1.2.3', { zoneHints: ['zone-a'] }), e('10.1.2.4', { zoneHints: ['zone-b'] }), e('10.1.2.5', { zoneHints: ['zone-a'] })], cluster: ['10.1.2.3', '10.1.2.5'], local: [], any: true },
  { name: 'node hints win over zone hints (PreferSameNode)', eps: [e('10.1.2.3', { zoneHints: ['zone-a'], nodeHints: ['node-a'] }), e('10.1.2.4', { zoneHints: ['zone-a'], nodeHints: ['node-b'] })], cluster: ['10.1.2.3'], local: [], any: true },
  { name: 'node hints for another node only: fall back to zone', eps: [e('10.1.2.3', { zoneHints: ['zone-a'], nodeHints: ['node-b'] }), e('10.1.2.4', { zoneHints: ['zone-b'], nodeHints: ['node-c'] })], cluster: ['10.1.2.3'], local: [], any: true },
  { name: 'missing hints on one endpoint: topology ignored', eps: [e('10.1.2.3', { zoneHints: ['zone-a'] }), e('10.1.2.4')], cluster: ['10.1.2.3', '10.1.2.4'], local: [], any: true },
  { name: 'no hints for this zone: topology ignored', eps: [e('10.1.2.3', { zoneHints: ['zone-b'] }), e('10.1.2.4', { zoneHints: ['zone-c'] })], cluster: ['10.1.2.3', '10.1.2.4'], local: [], any: true },
  { name: 'not-ready endpoints excluded', eps: [e('10.1.2.3', { ready: false, serving: false }), e('10.1.2.4')], cluster: ['10.1.2.4'], local: [], any: true },
  { name: 'only serving-terminating: fallback to them', eps: [e('10.1.2.3', { ready: false, serving: true, terminating: true }), e('10.1.2.4', { ready: false, serving: false, terminating: true })], cluster: ['10.1.2.3'], local: [], any: true },
  { name: 'nothing usable: no endpoints at all', eps: [e('10.1.2.3', { ready: false, serving: false, terminating: true })], cluster: [], local: [], any: false },
  { name: 'ITP Local: local ready only', internalLocal: true, eps: [e('10.1.2.3', { isLocal: true }), e('10.1.2.4')], cluster: [], local: ['10.1.2.3'], any: true },
  { name: 'ITP Local, no local endpoint: drop, not reject (hasAny)', internalLocal: true, eps: [e('10.1.2.4')], cluster: [], local: [], any: true },
  { name: 'ETP Local: both sets, local falls back to serving-terminating', externalLocal: true, eps: [e('10.1.2.3', { isLocal: true, ready: false, serving: true, terminating: true }), e('10.1.2.4')], cluster: ['10.1.2.4'], local: ['10.1.2.3'], any: true },
  { name: 'ETP Local: local ready preferred over local terminating', externalLocal: true, eps: [e('10.1.2.3', { isLocal: true, ready: false, serving: true, terminating: true }), e('10.1.2.5', { isLocal: true })], cluster: ['10.1.2.5'], local: ['10.1.2.5'], any: true },
];

for (const c of cases) {
  test(`categorizeEndpoints: ${c.name}`, (t) => {
    const r = categorizeEndpoints(c.eps, { internalLocal: c.internalLocal ?? false, externalLocal: c.externalLocal ?? false, externallyAccessible: c.externalLocal ?? false }, NODE);
    t.deepEqual(ips(r.cluster), c.cluster);
    t.deepEqual(ips(r.local), c.local);
    t.is(r.hasAnyEndpoints, c.any);
  });
}
