import test from 'ava';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { EndpointsController } from '../../../src/controller/endpointsController.ts';
import type { EndpointSlice, Pod, Service } from '../../../src/store/types.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const cfg = { serviceCIDR: '10.96.0.0/24', nodePortRange: [30000, 32767] as [number, number], reserved: ['10.96.0.10'] };

const service = (name: string, spec: Partial<Service['spec']> = {}, created?: string): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns', ...(created ? { creationTimestamp: created } : {}) },
  spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec },
});
const pod = (name: string, ip: string, labels: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels, annotations: { note: 'x'.repeat(100) } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'] }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] },
});

async function endpointsOf(store: MemoryStore, svc: string): Promise<string[]> {
  const slices: EndpointSlice[] = (await store.list('EndpointSlice', { namespace: 'ns' })).items
    .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
  return slices.flatMap((s) => s.endpoints.map((e) => e.addresses[0]!)).sort();
}

function started(t: { teardown(fn: () => Promise<void>): void }, store: MemoryStore, extra: { resyncMs?: number; serviceCIDR?: string } = {}): EndpointsController {
  const ctl = new EndpointsController({ store, ...cfg, ...extra });
  t.teardown(() => ctl.stop());
  return ctl;
}

test('a pod is selected by every Service whose whole selector it matches, and follows its labels', async (t) => {
  const store = new MemoryStore();
  await store.create(service('front', { selector: { app: 'web', tier: 'front' } }));
  await store.create(service('web', { selector: { app: 'web' } }));
  await store.create(service('back', { selector: { tier: 'back', app: 'web' } }));
  await store.create(pod('a', '10.244.1.2', { app: 'web', tier: 'front', extra: 'y' }));
  await store.create(pod('b', '10.244.1.3', { app: 'web' }));
  const ctl = started(t, store);
  await ctl.start();
  await waitFor('slices', async () => (await endpointsOf(store, 'web')).length === 2);
  await waitFor('front', async () => (await endpointsOf(store, 'front')).length === 1);
  t.deepEqual(await endpointsOf(store, 'front'), ['10.244.1.2']);
  t.deepEqual(await endpointsOf(store, 'back'), []);
  const a = (await store.get('Pod', 'a', 'ns'))!;
  await store.update({ ...a, metadata: { ...a.metadata, labels: { app: 'web', tier: 'back' } } });
  await waitFor('a moved to back', async () => (await endpointsOf(store, 'back')).length === 1);
  await waitFor('a left front', async () => (await endpointsOf(store, 'front')).length === 0);
  t.deepEqual(await endpointsOf(store, 'web'), ['10.244.1.2', '10.244.1.3']);
});

test('many Services allocated at once get distinct addresses; a full range is reported and filled when one goes', async (t) => {
  const store = new MemoryStore();
  for (let i = 0; i < 260; i++) await store.create(service(`s${i}`, { selector: { app: `s${i}` } }));
  const ctl = started(t, store);
  await ctl.start();
  const ips = async () => (await store.list('Service', { namespace: 'ns' })).items.map((s) => s.spec.clusterIP).filter((ip) => !!ip);
  // A /24 has 256 addresses; network, .1, broadcast and the DNS address are never handed out.
  await waitFor('252 allocated', async () => (await ips()).length === 252, 20_000);
  t.is(new Set(await ips()).size, 252);
  await waitFor('full reported', () => ctl.problems.some((p) => p.includes('the service CIDR 10.96.0.0/24 is full')));
  const withIp = (await store.list('Service', { namespace: 'ns' })).items.filter((s) => s.spec.clusterIP);
  await store.delete('Service', withIp[0]!.metadata.name, 'ns');
  await waitFor('a waiting Service takes the freed address', async () => (await ips()).includes(withIp[0]!.spec.clusterIP), 20_000);
  t.is(new Set(await ips()).size, 252);
});

test('a Service blocked by a clash gets its node port once the older holder is deleted', async (t) => {
  const store = new MemoryStore();
  await store.create(service('old', { clusterIP: '10.96.0.50' }, '2026-01-01T00:00:00Z'));
  await store.create(service('new', { clusterIP: '10.96.0.50', type: 'NodePort' }, '2026-02-01T00:00:00Z'));
  const ctl = started(t, store);
  await ctl.start();
  await waitFor('clash reported', () => ctl.problems.includes('Service ns/new: spec.clusterIP 10.96.0.50 is already allocated to Service ns/old; rejected'));
  t.is((await store.get('Service', 'new', 'ns'))!.spec.ports![0]!.nodePort, undefined, 'nothing allocated while it clashes');
  await store.delete('Service', 'old', 'ns');
  const port = await waitFor('node port', async () => (await store.get('Service', 'new', 'ns'))!.spec.ports![0]!.nodePort);
  t.true(port! >= 30000 && port! <= 32767);
});

test('a periodic resync of a settled cluster writes nothing', async (t) => {
  const store = new MemoryStore();
  for (let i = 0; i < 20; i++) {
    await store.create(service(`s${i}`, { selector: { app: `s${i % 5}` } }));
    await store.create(pod(`p${i}`, `10.244.1.${i + 2}`, { app: `s${i % 5}` }));
  }
  const ctl = started(t, store, { resyncMs: 100 });
  await ctl.start();
  await waitFor('settled', async () => (await store.list('EndpointSlice')).items.length === 20
    && (await store.list('Service')).items.every((s) => s.spec.clusterIP));
  const passes = ctl.passes;
  await waitFor('passes after a settle', () => ctl.passes > passes + 1, 10_000);
  const before = JSON.stringify((await store.list('EndpointSlice')).items.map((s) => s.metadata.resourceVersion));
  const writes = ctl.writes;
  const resynced = ctl.passes;
  await waitFor('two resync passes', () => ctl.passes >= resynced + 2, 10_000);
  t.is(ctl.writes, writes);
  t.is(JSON.stringify((await store.list('EndpointSlice')).items.map((s) => s.metadata.resourceVersion)), before);
});
