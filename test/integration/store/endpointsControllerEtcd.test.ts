/** The endpoints controller on a real etcd: two podnetd-like instances, one leader; the leader dies, the other
 * takes over and keeps the slices right. */
import test from 'ava';
import { EtcdStore } from '../../../src/store/backends/etcdStore.ts';
import { EndpointsController } from '../../../src/controller/endpointsController.ts';
import { LeaderElector } from '../../../src/controller/leaderElector.ts';
import type { Pod } from '../../../src/store/types.ts';
import { startEtcd } from './etcdFixture.ts';
import { service, waitFor } from './storeTestKit.ts';

const cfg = { serviceCIDR: '10.96.0.0/16', nodePortRange: [30000, 32767] as [number, number], reserved: ['10.96.0.10'] };

function pod(name: string, ip: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'app', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function instance(store: EtcdStore, id: string, leaders: string[]) {
  let ctl: EndpointsController | undefined;
  const elector = new LeaderElector({
    store, leaseName: 'podnet-endpoints-controller', identity: id, ttlSeconds: 2,
    onStartedLeading: () => { leaders.push(id); ctl = new EndpointsController({ store, ...cfg }); void ctl.start(); },
    onStoppedLeading: () => { void ctl?.stop(); ctl = undefined; },
  });
  return { elector, stop: async () => { await elector.stop(); await ctl?.stop(); }, controller: () => ctl };
}

test('one controller leads on etcd; when its node dies the other takes over and keeps slices right', async (t) => {
  const cluster = await startEtcd(t, 1);
  const [sa, sb, user] = await Promise.all([EtcdStore.open(cluster.urls), EtcdStore.open(cluster.urls), EtcdStore.open(cluster.urls)]);
  const leaders: string[] = [];
  const a = instance(sa, 'node-a', leaders);
  const b = instance(sb, 'node-b', leaders);
  t.teardown(async () => { await a.stop(); await b.stop(); await Promise.all([sa.close(), sb.close(), user.close()]); });
  a.elector.start();
  await waitFor('a leads', () => leaders.length === 1);
  b.elector.start();
  await user.create({ ...service('web', 'app'), spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] } });
  await user.create(pod('p1', '10.244.1.2'));
  const slices = async () => (await user.list('EndpointSlice', { namespace: 'app' })).items;
  await waitFor('slice with p1', async () => (await slices())[0]?.endpoints.length === 1);
  t.deepEqual(leaders, ['node-a']);
  t.is((await slices())[0]!.ports?.[0]?.port, 8080, 'named port resolved from the pod');
  t.regex((await user.get('Service', 'web', 'app'))!.spec.clusterIP ?? '', /^10\.96\./);
  // node-a dies without releasing anything: its etcd lease runs out and node-b takes over.
  await a.elector.stop({ release: false });
  await sa.close();
  await waitFor('b leads', () => leaders.includes('node-b'), 20_000);
  await user.create(pod('p2', '10.244.2.2'));
  await waitFor('slice with p1 and p2', async () => (await slices())[0]?.endpoints.length === 2, 20_000);
  t.is((await slices()).length, 1, 'no duplicate slices after the takeover');
});
