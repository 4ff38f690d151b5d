import test from 'ava';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { EndpointsController } from '../../../src/controller/endpointsController.ts';
import type { EndpointSlice, Pod, Service } from '../../../src/store/types.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const dual = { serviceCIDR: '10.96.0.0/16', serviceCIDRs: ['10.96.0.0/16', 'fd00:10:96::/112'],
  nodePortRange: [30000, 32767] as [number, number], reserved: ['10.96.0.10'] };

const service = (name: string, spec: Partial<Service['spec']>): Service => ({ apiVersion: 'v1', kind: 'Service',
  metadata: { name, namespace: 'ns' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec } });

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns', labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
  status: { phase: 'Running', podIP: '10.244.1.2', podIPs: [{ ip: '10.244.1.2' }, { ip: 'fd00:10:244:1::2' }], conditions: [{ type: 'Ready', status: 'True' }] } };

async function slicesOf(store: MemoryStore, svc: string): Promise<EndpointSlice[]> {
  return (await store.list('EndpointSlice', { namespace: 'ns' })).items.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
}

test('dual-stack cluster: the controller writes both clusterIPs, upgrades PreferDualStack, and one slice per family', async (t) => {
  const store = new MemoryStore();
  const ctl = new EndpointsController({ store, ...dual });
  t.teardown(() => ctl.stop());
  await store.create(service('both', { ipFamilyPolicy: 'RequireDualStack' }));
  await store.create(service('v4', {}));
  await store.create(service('upgrade', { clusterIP: '10.96.9.9', clusterIPs: ['10.96.9.9'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'PreferDualStack' }));
  await store.create(service('headless', { clusterIP: 'None' }));
  await store.create(pod);
  await ctl.start();
  const get = (n: string) => store.get('Service', n, 'ns');
  const both = await waitFor('both gets two clusterIPs', async () => ((await get('both'))?.spec.clusterIPs?.length === 2 ? get('both') : undefined), 10_000, 20);
  t.is(both!.spec.clusterIP, both!.spec.clusterIPs![0]);
  t.regex(both!.spec.clusterIPs![1]!, /^fd00:10:96::/);
  t.deepEqual(both!.spec.ipFamilies, ['IPv4', 'IPv6']);
  const upgraded = await waitFor('upgrade gets its IPv6 address', async () => ((await get('upgrade'))?.spec.clusterIPs?.length === 2 ? get('upgrade') : undefined), 10_000, 20);
  t.is(upgraded!.spec.clusterIPs![0], '10.96.9.9', 'the IPv4 address is kept');
  await waitFor('v4 allocated', async () => (await get('v4'))?.spec.clusterIP, 10_000, 20);
  t.deepEqual((await get('v4'))!.spec.ipFamilies, ['IPv4']);
  t.deepEqual((await get('v4'))!.spec.clusterIPs!.length, 1);
  await waitFor('headless families', async () => (await get('headless'))?.spec.ipFamilies, 10_000, 20);
  t.deepEqual((await get('headless'))!.spec.ipFamilies, ['IPv4'], 'headless with a selector: SingleStack, the primary family');
  t.is((await get('headless'))!.spec.clusterIP, 'None');

  const families = async (svc: string) => (await slicesOf(store, svc)).map((s) => `${s.addressType}:${s.endpoints.map((e) => e.addresses[0]).join(',')}`).sort();
  await waitFor('slices of both', async () => (await families('both')).length === 2, 10_000, 20);
  // Settle: one more complete pass after the pod changes (every Service here selects it), then look.
  const before = ctl.passes;
  const cur = (await store.get('Pod', 'a', 'ns'))!;
  await store.update({ ...cur, metadata: { ...cur.metadata, annotations: { touched: '1' } } });
  await waitFor('another controller pass', () => ctl.passes > before, 10_000, 20);
  t.deepEqual(await families('v4'), ['IPv4:10.244.1.2'], 'a single-stack Service gets no IPv6 slice');
  t.deepEqual(await families('both'), ['IPv4:10.244.1.2', 'IPv6:fd00:10:244:1::2']);
});
