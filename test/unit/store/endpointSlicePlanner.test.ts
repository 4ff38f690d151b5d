import test from 'ava';
import { planEndpointSlices, MANAGED_BY } from '../../../src/controller/endpointSlicePlanner.ts';
import type { Pod, Service } from '../../../src/store/types.ts';

const svc = (extra: Partial<Service['spec']> = {}, name = 'web'): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: 'svc-uid' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }], ...extra },
});

function pod(name: string, ip: string, o: { ready?: boolean; port?: number; deleting?: boolean; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; hostname?: string; subdomain?: string; labels?: Record<string, string> } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'n1', ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080, protocol: 'TCP' }] }] },
    status: { phase: o.phase ?? 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

test('conditions follow Kubernetes: ready, not ready, terminating; terminal and IP-less pods are left out', (t) => {
  const pods = [pod('a', '10.244.1.2'), pod('b', '10.244.1.3', { ready: false }), pod('c', '10.244.1.4', { deleting: true }),
    pod('d', '10.244.1.5', { phase: 'Succeeded' }), { ...pod('e', ''), status: { phase: 'Pending' as const } }, pod('f', '10.244.1.6', { labels: { app: 'other' } })];
  const [slice, ...rest] = planEndpointSlices(svc(), pods);
  t.is(rest.length, 0);
  t.deepEqual(slice!.endpoints.map((e) => [e.targetRef?.name, e.conditions]), [
    ['a', { ready: true, serving: true, terminating: false }],
    ['b', { ready: false, serving: false, terminating: false }],
    ['c', { ready: false, serving: true, terminating: true }],
  ]);
  t.deepEqual(slice!.endpoints[0], {
    addresses: ['10.244.1.2'], conditions: { ready: true, serving: true, terminating: false },
    targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' }, nodeName: 'n1',
  });
  t.deepEqual(slice!.metadata.labels, { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': MANAGED_BY });
  t.deepEqual(slice!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.is(slice!.addressType, 'IPv4');
  t.is(slice!.metadata.ownerReferences?.[0]?.uid, 'svc-uid');
});

test('publishNotReadyAddresses marks every endpoint ready and serving', (t) => {
  const [slice] = planEndpointSlices(svc({ publishNotReadyAddresses: true }), [pod('b', '10.244.1.3', { ready: false }), pod('c', '10.244.1.4', { deleting: true })]);
  t.deepEqual(slice!.endpoints.map((e) => e.conditions), [
    { ready: true, serving: true, terminating: false },
    { ready: true, serving: true, terminating: true },
  ]);
});

test('a named port resolved differently per pod splits the slices by port', (t) => {
  const slices = planEndpointSlices(svc(), [pod('a', '10.244.1.2', { port: 8080 }), pod('b', '10.244.1.3', { port: 9090 }), pod('c', '10.244.1.4', { port: 8080 })]);
  t.deepEqual(slices.map((s) => [s.ports?.[0]?.port, s.endpoints.map((e) => e.targetRef?.name)]), [[8080, ['a', 'c']], [9090, ['b']]]);
  t.deepEqual(slices.map((s) => s.metadata.name), ['web-podnet-v4-0', 'web-podnet-v4-1']);
});

test('hostname only when the pod\'s subdomain names the service', (t) => {
  const [slice] = planEndpointSlices(svc({ clusterIP: 'None' }), [pod('a', '10.244.1.2', { hostname: 'db-0', subdomain: 'web' }), pod('b', '10.244.1.3', { hostname: 'db-1', subdomain: 'other' })]);
  t.is(slice!.endpoints[0]!.hostname, 'db-0');
  t.is(slice!.endpoints[1]!.hostname, undefined);
  t.is(slice!.metadata.labels?.['service.kubernetes.io/headless'], '');
});

test('more than 100 endpoints spread over slices of at most 100; no selector means no managed slices', (t) => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`, `10.244.${Math.floor(i / 200)}.${(i % 200) + 2}`));
  t.deepEqual(planEndpointSlices(svc(), pods).map((s) => s.endpoints.length), [100, 100, 50]);
  t.deepEqual(planEndpointSlices(svc({ selector: undefined }), pods), []);
  t.deepEqual(planEndpointSlices(svc({ type: 'ExternalName', externalName: 'x.example' }), pods), []);
  const empty = planEndpointSlices(svc(), []);
  t.is(empty.length, 1);
  t.deepEqual(empty[0]!.endpoints, []);
});
