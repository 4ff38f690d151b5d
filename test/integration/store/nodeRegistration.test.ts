/** Node registration against real backends: 20 nodes starting at once on etcd, and the kube store's podCIDR. */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdStore } from '../../../src/store/backends/etcdStore.ts';
import { KubeStore } from '../../../src/store/backends/kubeStore.ts';
import { NodeRegistrar } from '../../../src/node/nodeRegistrar.ts';
import { startEtcd } from './etcdFixture.ts';
import { FakeApiServer } from './fakeApiServer.ts';

const base = { clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', subnetBits: 24, mtu: 1450, leaseTtlSeconds: 30 };

test('20 nodes registering at the same moment on etcd get 20 different pod CIDRs', async (t) => {
  const cluster = await startEtcd(t, 1);
  const dir = mkdtempSync(join(tmpdir(), 'podnet-node-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // One client per node, as 20 podnetd processes would have. Every Node object already claims 10.244.5.0/24
  // (a stale copy), so all 20 ask for the same subnet first and race for it, then for the rest.
  const stores = await Promise.all(Array.from({ length: 20 }, () => EtcdStore.open(cluster.urls)));
  t.teardown(async () => { await Promise.all(stores.map((s) => s.close())); });
  for (let i = 0; i < 20; i++) {
    await stores[0]!.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` }, spec: { podCIDR: '10.244.5.0/24' } });
  }
  const regs = stores.map((store, i) => new NodeRegistrar({
    ...base, store, nodeName: `node-${i}`, nodeIP: `198.18.0.${11 + i}`, nodeStateFile: join(dir, `n${i}.json`), annotations: {},
  }));
  t.teardown(() => regs.forEach((r) => r.stop()));
  const states = await Promise.all(regs.map((r) => r.start()));
  const cidrs = states.map((s) => s.podCIDR);
  t.is(new Set(cidrs).size, 20, `duplicates in ${cidrs.join(' ')}`);
  t.is(cidrs.filter((c) => c === '10.244.5.0/24').length, 1, 'exactly one node won the contested subnet');
  const nodes = (await stores[0]!.list('Node')).items;
  t.is(nodes.length, 20);
  t.is(new Set(nodes.map((n) => n.spec?.podCIDR)).size, 20);
  // Each lease is held by the node that reports the subnet.
  for (const s of states) t.is((await stores[0]!.getLease(`podcidr-${s.podCIDR.replace(/[./]/g, '-')}`))?.holder, s.nodeName);
  // A restart of one node (new client, same name) gets the same subnet back.
  const again = new NodeRegistrar({ ...base, store: stores[1]!, nodeName: 'node-0', nodeIP: '198.18.0.11', nodeStateFile: join(dir, 'fresh.json'), annotations: {} });
  t.is((await again.start()).podCIDR, states[0]!.podCIDR);
  again.stop();
});

test('on the kube store the node uses Node.spec.podCIDR and only adds its annotations', async (t) => {
  const server = await new FakeApiServer().start();
  const store = await KubeStore.open({ kubeConfig: server.kubeConfig() });
  const dir = mkdtempSync(join(tmpdir(), 'podnet-node-'));
  t.teardown(async () => { await store.close(); await server.stop(); rmSync(dir, { recursive: true, force: true }); });
  server.plant('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k1' }, spec: { podCIDR: '10.42.7.0/24', podCIDRs: ['10.42.7.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.7' }] } } as never);
  const reg = new NodeRegistrar({ ...base, store, nodeName: 'k1', nodeIP: '192.0.2.7', nodeStateFile: join(dir, 'node.json'), annotations: { 'podnet.io/backend': 'vxlan' } });
  const st = await reg.start();
  reg.stop();
  t.is(st.podCIDR, '10.42.7.0/24');
  const node = await store.get('Node', 'k1');
  t.is(node?.metadata.annotations?.['podnet.io/backend'], 'vxlan');
  t.deepEqual(node?.status?.addresses, [{ type: 'InternalIP', address: '192.0.2.7' }], 'status is the kubelet\'s');
  t.deepEqual((await store.list('Lease')).items, [], 'no pod CIDR lease on the kube store');
});
