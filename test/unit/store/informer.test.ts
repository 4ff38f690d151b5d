import test from 'ava';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { Informer } from '../../../src/store/informer.ts';
import { service, waitFor } from '../../integration/store/storeTestKit.ts';

test('after a broken watch and lost history the informer relists and reports exactly the gap', async (t) => {
  const store = new MemoryStore();
  await store.create(service('a', 'ns'));
  const b = await store.create(service('b', 'ns'));
  await store.create(service('c', 'ns'));
  const inf = new Informer(store, 'Service', { retryMs: 10 });
  const seen: string[] = [];
  inf.on({ add: (s) => seen.push(`add ${s.metadata.name}`), update: (_o, s) => seen.push(`update ${s.metadata.name}`), delete: (s) => seen.push(`delete ${s.metadata.name}`) });
  inf.start();
  t.teardown(() => inf.stop());
  await inf.synced();
  t.deepEqual(seen.splice(0).sort(), ['add a', 'add b', 'add c']);
  store.breakWatches();
  await store.delete('Service', 'a', 'ns');
  await store.update({ ...b, metadata: { ...b.metadata, labels: { v: '2' } } });
  await store.create(service('d', 'ns'));
  store.compact();
  await waitFor('relist', () => inf.get('ns/d') !== undefined);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(seen.sort(), ['add d', 'delete a', 'update b']);
  t.deepEqual(inf.list().map((s) => s.metadata.name).sort(), ['b', 'c', 'd']);
});

test('a handler that throws does not stop other handlers or the cache', async (t) => {
  const store = new MemoryStore();
  const inf = new Informer(store, 'Service').start();
  t.teardown(() => inf.stop());
  const ok: string[] = [];
  inf.on({ add: () => { throw new Error('consumer bug'); } });
  inf.on({ add: (s) => ok.push(s.metadata.name) });
  await inf.synced();
  await store.create(service('x', 'ns'));
  await store.create(service('y', 'ns'));
  await waitFor('both', () => ok.length === 2);
  t.is(inf.size, 2);
});
