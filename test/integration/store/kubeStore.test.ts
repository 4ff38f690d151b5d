/**
 * The kube backend against FakeApiServer (a local list/watch protocol server; no real API server can be
 * installed here), plus what only this backend does: bookmarks, re-watch after a normal close, 410 mid-watch.
 */
import test, { type ExecutionContext } from 'ava';
import { defineStoreSuite } from './storeBehaviour.ts';
import { KubeStore } from '../../../src/store/backends/kubeStore.ts';
import { Informer } from '../../../src/store/informer.ts';
import { FakeApiServer } from './fakeApiServer.ts';
import { captureLogger, service, uniqueNs, waitFor } from './storeTestKit.ts';

async function kubeFixture(t: ExecutionContext) {
  const server = await new FakeApiServer().start();
  const { logger, lines } = captureLogger();
  const store = await KubeStore.open({ kubeConfig: server.kubeConfig(), logger });
  const writer = await KubeStore.open({ kubeConfig: server.kubeConfig() });
  t.teardown(async () => { await store.close(); await writer.close(); await server.stop(); });
  return {
    server, store, writer,
    forgetHistory: async () => server.compact(),
    injectBad: async (ns: string) => {
      server.plant('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad', namespace: ns }, spec: { ports: [{ port: 'http' }] } } as never);
      server.plant('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'good', namespace: ns }, spec: { ports: [{ port: 80 }] } } as never);
    },
    problems: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
  };
}

defineStoreSuite('kube', kubeFixture);

test('kube: a 410 ERROR event mid-watch makes the informer relist, with the gap as synthesized events', async (t) => {
  const fx = await kubeFixture(t);
  const ns = uniqueNs('k410');
  await fx.writer.create(service('a', ns));
  await fx.writer.create(service('b', ns));
  const inf = new Informer(fx.store, 'Service', { namespace: ns, retryMs: 50 });
  const seen: string[] = [];
  inf.on({ add: (s) => seen.push(`add ${s.metadata.name}`), delete: (s) => seen.push(`delete ${s.metadata.name}`), update: (_o, s) => seen.push(`update ${s.metadata.name}`) });
  inf.start();
  t.teardown(() => inf.stop());
  await inf.synced();
  const listsBefore = fx.server.listRequests;
  // The gap: changes the informer's watch never delivers, then history is gone and the watch gets 410.
  fx.server.closeWatches();
  fx.server.compact();
  await fx.writer.delete('Service', 'a', ns);
  await fx.writer.create(service('c', ns));
  fx.server.expireWatches();
  await waitFor('relist', () => inf.get(`${ns}/c`) !== undefined && inf.get(`${ns}/a`) === undefined);
  await new Promise((r) => setTimeout(r, 300));
  t.true(fx.server.listRequests > listsBefore, 'the informer relisted');
  t.deepEqual(seen.sort(), ['add a', 'add b', 'add c', 'delete a']);
});

test('kube: a watch closed normally by the server is resumed from the last version, without a relist', async (t) => {
  const fx = await kubeFixture(t);
  const ns = uniqueNs('kclose');
  await fx.writer.create(service('a', ns));
  const inf = new Informer(fx.store, 'Service', { namespace: ns });
  const adds: string[] = [];
  inf.on({ add: (s) => adds.push(s.metadata.name) });
  inf.start();
  t.teardown(() => inf.stop());
  await inf.synced();
  await new Promise((r) => setTimeout(r, 300)); // let a BOOKMARK arrive
  const listsBefore = fx.server.listRequests;
  fx.server.closeWatches();
  await fx.writer.create(service('b', ns));
  await waitFor('b', () => inf.get(`${ns}/b`) !== undefined);
  t.deepEqual(adds, ['a', 'b']);
  t.true(fx.server.watchRequests >= 2, 'the store watched again');
  t.is(fx.server.listRequests, listsBefore, 'no relist');
});
