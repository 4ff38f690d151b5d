/**
 * The objects of the Service behaviour e2e tests: three test-server pods (p1..p3, one per node, label app=web)
 * and one Service per behaviour with fixed ClusterIPs (10.96.100.x) and NodePorts (302xx). Services whose
 * endpoint conditions a test must control (terminating, not ready, one node only) have no selector and get
 * their EndpointSlice from `sliceFor` (the lab's controller leaves selector-less Services alone, as Kubernetes).
 */
import type { Endpoint, EndpointSlice, Pod, Service, ServicePort, ServiceSpec } from '../../../src/store/types.ts';
import { retryUpdate, type Store } from '../../../src/store/store.ts';

export const PODS = ['p1', 'p2', 'p3'] as const;
export type PodName = (typeof PODS)[number];
export const NODE_OF: Record<PodName, string> = { p1: 'n1', p2: 'n2', p3: 'n3' };

/** The test server's ports (src/lab/testServer.ts): HTTP 8080, UDP 8081, TCP lines 8082. */
const HTTP: ServicePort = { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 };

export const IP = {
  multi: '10.96.100.1', np: '10.96.100.2', lb: '10.96.100.3', ext: '10.96.100.4', sticky: '10.96.100.5',
  local: '10.96.100.6', term: '10.96.100.7', itp: '10.96.100.8', itpFar: '10.96.100.9', empty: '10.96.100.10',
  self: '10.96.100.11', otherProxy: '10.96.100.12', headless: '10.96.100.13', notReady: '10.96.100.14',
  notReadyOff: '10.96.100.15', udp: '10.96.100.16', stream: '10.96.100.17',
} as const;
export const NODE_PORT = { np: 30200, lb: 30201, sticky: 30202, local: 30203, empty: 30204 } as const;
export const HEALTH_CHECK_NODE_PORT = 32100;
export const EXTERNAL_IP = '203.0.113.250';
/** A second address of the client namespace, outside the LB Service's loadBalancerSourceRanges. */
export const REFUSED_CLIENT_IP = '198.18.0.3';

function pod(name: PodName): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { nodeName: NODE_OF[name], containers: [{ name: 'serve' }] } } as Pod;
}

function service(name: string, spec: ServiceSpec, labels?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec };
}

const web = { selector: { app: 'web' } };

export function services(): Service[] {
  return [
    service('multi', { ...web, clusterIP: IP.multi, ports: [HTTP, { name: 'udp', protocol: 'UDP', port: 80, targetPort: 8081 },
      { name: 'lines', protocol: 'TCP', port: 82, targetPort: 8082 }] }),
    service('np', { ...web, type: 'NodePort', clusterIP: IP.np, ports: [{ ...HTTP, nodePort: NODE_PORT.np }] }),
    service('lb', { ...web, type: 'LoadBalancer', clusterIP: IP.lb, loadBalancerSourceRanges: ['198.18.0.2/32'],
      ports: [{ ...HTTP, nodePort: NODE_PORT.lb }] }),
    service('ext', { ...web, clusterIP: IP.ext, externalIPs: [EXTERNAL_IP], ports: [HTTP] }),
    service('sticky', { ...web, type: 'NodePort', clusterIP: IP.sticky, sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ ...HTTP, nodePort: NODE_PORT.sticky }] }),
    service('local', { type: 'LoadBalancer', clusterIP: IP.local, externalTrafficPolicy: 'Local',
      healthCheckNodePort: HEALTH_CHECK_NODE_PORT, ports: [{ ...HTTP, nodePort: NODE_PORT.local }] }),
    service('term', { clusterIP: IP.term, ports: [HTTP] }),
    service('itp', { ...web, clusterIP: IP.itp, internalTrafficPolicy: 'Local', ports: [HTTP] }),
    service('itp-far', { clusterIP: IP.itpFar, internalTrafficPolicy: 'Local', ports: [HTTP] }),
    service('empty', { selector: { app: 'nothing' }, type: 'NodePort', clusterIP: IP.empty, ports: [{ ...HTTP, nodePort: NODE_PORT.empty }] }),
    service('self', { clusterIP: IP.self, ports: [HTTP] }),
    service('other-proxy', { ...web, clusterIP: IP.otherProxy, ports: [HTTP] }, { 'service.kubernetes.io/service-proxy-name': 'someone-else' }),
    service('headless-label', { ...web, clusterIP: IP.headless, ports: [HTTP] }, { 'service.kubernetes.io/headless': '' }),
    service('not-ready', { clusterIP: IP.notReady, publishNotReadyAddresses: true, ports: [HTTP] }),
    service('not-ready-off', { clusterIP: IP.notReadyOff, ports: [HTTP] }),
    service('udp', { clusterIP: IP.udp, ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 8081 }] }),
    service('stream', { clusterIP: IP.stream, ports: [{ name: 'lines', protocol: 'TCP', port: 82, targetPort: 8082 }] }),
  ];
}

export type Conditions = { ready?: boolean; serving?: boolean; terminating?: boolean };

/** The EndpointSlice of a selector-less Service: `eps` = pod → its conditions. */
export function sliceFor(service: string, podIPs: ReadonlyMap<PodName, string>, eps: Partial<Record<PodName, Conditions>>,
  port: { name: string; protocol: 'TCP' | 'UDP'; port: number } = { name: 'http', protocol: 'TCP', port: 8080 }): EndpointSlice {
  const endpoints: Endpoint[] = Object.entries(eps).map(([p, conditions]) => ({
    addresses: [podIPs.get(p as PodName)!], nodeName: NODE_OF[p as PodName], conditions: { ready: true, serving: true, terminating: false, ...conditions },
    targetRef: { kind: 'Pod', name: p, namespace: 'default' },
  }));
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${service}-manual`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4', endpoints, ports: [port] };
}

/** Create or replace a selector-less Service's slice. */
export async function putSlice(store: Store, slice: EndpointSlice): Promise<void> {
  await retryUpdate(store, 'EndpointSlice', slice.metadata.name, 'default', () => structuredClone(slice));
}

export const NOT_READY: Conditions = { ready: false, serving: false, terminating: false };
export const TERMINATING_SERVING: Conditions = { ready: false, serving: true, terminating: true };
export const TERMINATING_GONE: Conditions = { ready: false, serving: false, terminating: true };

/** The initial slices of the selector-less Services (each test that changes one restores it first). */
export function initialSlices(ips: ReadonlyMap<PodName, string>): EndpointSlice[] {
  return [
    sliceFor('local', ips, { p1: {}, p2: {} }),
    sliceFor('term', ips, { p3: TERMINATING_SERVING, p2: TERMINATING_GONE }),
    sliceFor('itp-far', ips, { p2: {} }),
    sliceFor('self', ips, { p1: {} }),
    sliceFor('not-ready', ips, { p2: NOT_READY }),
    sliceFor('not-ready-off', ips, { p2: NOT_READY }),
    sliceFor('udp', ips, { p2: {} }, { name: 'dns', protocol: 'UDP', port: 8081 }),
    sliceFor('stream', ips, { p2: {} }, { name: 'lines', protocol: 'TCP', port: 8082 }),
  ];
}

export const pods = (): Pod[] => PODS.map(pod);
