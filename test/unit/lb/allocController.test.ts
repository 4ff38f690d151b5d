import test from 'ava';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import type { Service } from '../../../src/store/types.ts';
import { AllocController, startLbInformers, stopLbInformers } from '../../../src/lb/allocController.ts';
import { ALLOCATED_CONDITION, ingressIps } from '../../../src/lb/allocationStatus.ts';
import { waitFor } from '../../helpers/waitFor.ts';

function service(name: string, extra: Partial<Service['spec']> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }], ...extra } };
}

async function cluster(t: import('ava').ExecutionContext, poolAddresses: string[], controllers = 2) {
  const store = new MemoryStore();
  await store.create({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: poolAddresses } });
  const ctrls = Array.from({ length: controllers }, (_, i) => {
    const informers = startLbInformers(store);
    const c = new AllocController({ store, informers, identity: `node-${i}`, leaseTtlSeconds: 2 });
    c.start();
    t.teardown(async () => { await c.stop(); stopLbInformers(informers); });
    return c;
  });
  return { store, ctrls };
}

async function lbServices(store: MemoryStore): Promise<Service[]> {
  return (await store.list('Service')).items;
}

test('20 concurrent writers against one pool and two allocator instances: no address handed out twice', async (t) => {
  const { store, ctrls } = await cluster(t, ['198.18.0.200-198.18.0.250']);
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(service(`svc-${i}`))));
  await waitFor('every service to get an address', async () => (await lbServices(store)).every((s) => ingressIps(s).length === 1));
  const ips = (await lbServices(store)).map((s) => ingressIps(s)[0]);
  t.is(new Set(ips).size, 20, ips.join(' '));
  t.is(ctrls.filter((c) => c.isLeader).length, 1);
});

test('an exhausted pool is reported on the service, in the events and only for the ones left out', async (t) => {
  const { store, ctrls } = await cluster(t, ['10.9.0.1-10.9.0.5'], 1);
  await Promise.all(Array.from({ length: 8 }, (_, i) => store.create(service(`s${i}`))));
  await waitFor('allocation to settle', async () => (await lbServices(store)).every((s) => (s.status?.conditions ?? []).length > 0));
  const all = await lbServices(store);
  const got = all.filter((s) => ingressIps(s).length);
  t.is(new Set(got.map((s) => ingressIps(s)[0])).size, 5);
  const failed = all.filter((s) => !ingressIps(s).length);
  t.is(failed.length, 3);
  for (const s of failed) {
    t.like((s.status!.conditions as Array<{ type: string }>)[0], { type: ALLOCATED_CONDITION, status: 'False', reason: 'poolExhausted' });
  }
  t.true(ctrls[0]!.recentEvents().some((e) => e.pool === 'p' && e.reason === 'poolExhausted' && /default\/s\d/.test(e.service)));
});

test('delete and type change release the address; a new leader adopts written statuses', async (t) => {
  const { store, ctrls } = await cluster(t, ['10.9.0.1-10.9.0.2'], 1);
  await store.create(service('a'));
  await store.create(service('b'));
  await waitFor('two allocations', async () => (await lbServices(store)).every((s) => ingressIps(s).length === 1));
  const a = (await store.get('Service', 'a', 'default'))!;
  const aIp = ingressIps(a)[0];
  await store.update({ ...a, spec: { ...a.spec, type: 'ClusterIP' } });
  await waitFor('a to lose its address', async () => ingressIps((await store.get('Service', 'a', 'default'))!).length === 0);
  await ctrls[0]!.stop();
  // A fresh allocator (another node) must not reuse b's address for c.
  const informers = startLbInformers(store);
  const next = new AllocController({ store, informers, identity: 'node-new', leaseTtlSeconds: 2 });
  next.start();
  t.teardown(async () => { await next.stop(); stopLbInformers(informers); });
  await store.create(service('c'));
  await waitFor('c allocated', async () => ingressIps((await store.get('Service', 'c', 'default'))!).length === 1);
  t.is(ingressIps((await store.get('Service', 'c', 'default'))!)[0], aIp);
  await store.delete('Service', 'b', 'default');
  const other = await store.create(service('d', { loadBalancerClass: 'example.com/other' }));
  await store.update({ ...other, status: { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } } });
  await store.create(service('e'));
  await waitFor('e allocated', async () => ingressIps((await store.get('Service', 'e', 'default'))!).length === 1);
  // Another class: not ours to allocate, and its own controller's status is left alone.
  t.deepEqual(ingressIps((await store.get('Service', 'd', 'default'))!), ['203.0.113.9']);
});
