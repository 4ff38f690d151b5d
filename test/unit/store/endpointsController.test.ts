import test from 'ava';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { EndpointsController } from '../../../src/controller/endpointsController.ts';
import { LeaderElector } from '../../../src/controller/leaderElector.ts';
import type { EndpointSlice, Pod } from '../../../src/store/types.ts';
import { service, waitFor } from '../../integration/store/storeTestKit.ts';

const cfg = { serviceCIDR: '10.96.0.0/16', nodePortRange: [30000, 32767] as [number, number], reserved: ['10.96.0.10'] };

function pod(name: string, ip: string, ready = true): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

async function slicesOf(store: MemoryStore, svc: string): Promise<EndpointSlice[]> {
  return (await store.list('EndpointSlice', { namespace: 'ns' })).items.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
}

test('the controller keeps EndpointSlices equal to the pods, allocates a clusterIP, and removes slices with the service', async (t) => {
  const store = new MemoryStore();
  const ctl = new EndpointsController({ store, ...cfg });
  t.teardown(() => ctl.stop());
  await store.create(service('web', 'ns'));
  await store.create(pod('a', '10.244.1.2'));
  await ctl.start();
  await waitFor('slice with a', async () => (await slicesOf(store, 'web'))[0]?.endpoints.length === 1);
  await waitFor('clusterIP', async () => !!(await store.get('Service', 'web', 'ns'))?.spec.clusterIP);
  await store.create(pod('b', '10.244.1.3', false));
  await waitFor('slice with a and b', async () => (await slicesOf(store, 'web'))[0]?.endpoints.length === 2);
  const [slice] = await slicesOf(store, 'web');
  t.deepEqual(slice!.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]), [['10.244.1.2', true], ['10.244.1.3', false]]);
  await store.delete('Pod', 'a', 'ns');
  await waitFor('a gone', async () => (await slicesOf(store, 'web'))[0]?.endpoints.length === 1);
  await store.delete('Service', 'web', 'ns');
  await waitFor('slices gone', async () => (await slicesOf(store, 'web')).length === 0);
  t.pass();
});

test('slices managed by someone else are never touched, and a clash is logged naming the service', async (t) => {
  const store = new MemoryStore();
  const foreign: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-podnet-v4-0', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'someone-else' } },
    addressType: 'IPv4', endpoints: [{ addresses: ['192.0.2.1'] }],
  };
  const stored = await store.create(foreign);
  const older = service('web', 'ns', 80, { clusterIP: '10.96.7.7' });
  older.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
  await store.create(older);
  await store.create(service('copy', 'ns', 80, { clusterIP: '10.96.7.7' }));
  await store.create(pod('a', '10.244.1.2'));
  const ctl = new EndpointsController({ store, ...cfg });
  t.teardown(() => ctl.stop());
  await ctl.start();
  await waitFor('a pass', () => ctl.passes > 0);
  await waitFor('problems', () => ctl.problems.length >= 2);
  t.deepEqual((await store.get('EndpointSlice', 'web-podnet-v4-0', 'ns'))?.metadata.resourceVersion, stored.metadata.resourceVersion);
  t.true(ctl.problems.includes('Service ns/copy: spec.clusterIP 10.96.7.7 is already allocated to Service ns/web; rejected'), ctl.problems.join('\n'));
  t.true(ctl.problems.some((p) => p.includes('EndpointSlice ns/web-podnet-v4-0 exists and is not managed by podnet')));
});

test('with two candidates only one controller leads; when it stops the other takes over', async (t) => {
  const store = new MemoryStore();
  const leading: string[] = [];
  const make = (id: string) => new LeaderElector({
    store, leaseName: 'endpoints-controller', identity: id, ttlSeconds: 1,
    onStartedLeading: () => leading.push(id), onStoppedLeading: () => leading.splice(leading.indexOf(id), 1),
  });
  const a = make('a');
  const b = make('b');
  t.teardown(async () => { await a.stop(); await b.stop(); });
  a.start();
  await waitFor('a leader', () => leading.length === 1);
  b.start();
  await new Promise((r) => setTimeout(r, 800)); // b campaigns at least twice meanwhile
  t.deepEqual(leading, ['a']);
  await a.stop();
  await waitFor('b leads', () => leading.includes('b'));
  t.deepEqual(leading, ['b']);
});
