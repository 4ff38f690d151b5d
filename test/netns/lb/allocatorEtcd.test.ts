/**
 * The allocator on a real etcd (Debian's etcd-server, via the store's fixture: loopback, temp data dir, killed in
 * teardown): two allocator instances on their own clients, 20 writers creating LoadBalancer Services at once
 * through their own clients. Every service gets an address and no address is handed out twice.
 */
import test from 'ava';
import { EtcdStore } from '../../../src/store/backends/etcdStore.ts';
import type { Service } from '../../../src/store/types.ts';
import { AllocController, startLbInformers, stopLbInformers } from '../../../src/lb/allocController.ts';
import { ingressIps } from '../../../src/lb/allocationStatus.ts';
import { startEtcd } from '../../integration/store/etcdFixture.ts';

function service(name: string): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] } };
}

test('20 concurrent writers, two allocators on etcd: every service gets a distinct address', async (t) => {
  const cluster = await startEtcd(t, 1);
  const admin = await EtcdStore.open(cluster.urls);
  t.teardown(() => admin.close());
  await admin.create({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lab', namespace: 'metallb-system' }, spec: { addresses: ['198.18.0.200-198.18.0.250'] } });
  for (const id of ['node-a', 'node-b']) {
    const store = await EtcdStore.open(cluster.urls);
    const informers = startLbInformers(store);
    const c = new AllocController({ store, informers, identity: id, leaseTtlSeconds: 2 });
    c.start();
    t.teardown(async () => { await c.stop(); stopLbInformers(informers); await store.close(); });
  }
  const writers = await Promise.all(Array.from({ length: 20 }, () => EtcdStore.open(cluster.urls)));
  t.teardown(() => Promise.all(writers.map((w) => w.close())));
  await Promise.all(writers.map((w, i) => w.create(service(`svc-${i}`))));
  const end = Date.now() + 60_000;
  let ips: string[] = [];
  while (Date.now() < end) {
    const items = (await admin.list('Service')).items;
    ips = items.map((s) => ingressIps(s)[0]).filter((ip): ip is string => !!ip);
    if (ips.length === 20) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.is(ips.length, 20);
  t.is(new Set(ips).size, 20, ips.sort().join(' '));
});
