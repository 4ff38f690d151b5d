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
  // The cache changes as events arrive; handlers get them from the queue a moment later.
  await waitFor('the gap delivered', () => seen.length >= 3);
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

/**
 * Create n Services back to back without giving the loop a turn: the store delivers them as one burst. The
 * burst tests run serially: the burst holds this test process's loop while it is written (the memory store's
 * own work), which would only slow the other tests down.
 */
async function burst(store: MemoryStore, n: number, ns = 'burst'): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = service(`s${i}`, ns);
    s.metadata.annotations = { big: 'x'.repeat(64) };
    await store.create(s);
    names.push(s.metadata.name);
  }
  return names;
}

test.serial('a 20,000-event burst reaches a handler in order and once each, and timers run while it is delivered', async (t) => {
  const store = new MemoryStore({ historyLimit: 50_000 });
  const inf = new Informer(store, 'Service').start();
  t.teardown(() => inf.stop());
  await inf.synced();
  const seen: string[] = [];
  let seenWhenTimerFired = -1;
  inf.on({
    add: (s) => {
      if (seen.length === 0) setTimeout(() => { seenWhenTimerFired = seen.length; }, 0);
      seen.push(s.metadata.name);
      const until = process.hrtime.bigint() + 20_000n; // a consumer doing ~20 µs of work per event
      while (process.hrtime.bigint() < until);
    },
  });
  const names = await burst(store, 20_000);
  await waitFor('all delivered', () => seen.length >= 20_000, 60_000);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(seen, names, 'every add once, in the order written');
  t.true(seenWhenTimerFired > 0 && seenWhenTimerFired < 20_000, `a timer set at the first event fired after ${seenWhenTimerFired} of 20,000 events, not after the burst`);
});

test.serial('a batch handler gets the burst in order in a few calls; per-event handlers alongside still get each event', async (t) => {
  const store = new MemoryStore({ historyLimit: 50_000 });
  const inf = new Informer(store, 'Service').start();
  t.teardown(() => inf.stop());
  await inf.synced();
  const batched: string[] = [];
  let calls = 0;
  const single: string[] = [];
  inf.on({ batch: (events) => { calls += 1; for (const e of events) batched.push(`${e.type} ${e.obj.metadata.name}`); }, add: () => t.fail('batch handlers get no add calls') });
  inf.on({ add: (s) => single.push(`add ${s.metadata.name}`), delete: (s) => single.push(`delete ${s.metadata.name}`) });
  const names = await burst(store, 2_000);
  await store.delete('Service', 's0', 'burst');
  await waitFor('all delivered', () => batched.length >= 2_001, 30_000);
  const want = [...names.map((n) => `add ${n}`), 'delete s0'];
  t.deepEqual(batched, want);
  t.deepEqual(single, want);
  t.true(calls < 2_001, `${calls} batch calls for 2,001 events`);
});

test('transform runs once per object version; the cache, handlers and a relist see only its result', async (t) => {
  const store = new MemoryStore();
  let transformed = 0;
  const inf = new Informer(store, 'Service', {
    retryMs: 10,
    transform: (s) => {
      transformed += 1;
      const { annotations: _drop, ...metadata } = s.metadata;
      return { ...s, metadata };
    },
  });
  const handed: Array<Record<string, string> | undefined> = [];
  inf.on({ add: (s) => handed.push(s.metadata.annotations), update: (_o, s) => handed.push(s.metadata.annotations) });
  await burst(store, 3);
  inf.start();
  t.teardown(() => inf.stop());
  await inf.synced();
  t.is(transformed, 3);
  t.is(inf.get('burst/s1')?.metadata.annotations, undefined, 'the cache holds the transformed object');
  t.is(inf.get('burst/s1')?.spec.ports?.[0]?.port, 80);
  const s2 = (await store.get('Service', 's2', 'burst'))!;
  await store.update({ ...s2, metadata: { ...s2.metadata, labels: { v: '2' } } });
  await waitFor('update', () => inf.get('burst/s2')?.metadata.labels?.v === '2');
  t.is(transformed, 4);
  store.breakWatches();
  await store.create(service('late', 'burst'));
  store.compact();
  await waitFor('relisted', () => inf.get('burst/late') !== undefined);
  await waitFor('delivered', () => handed.length >= 5);
  await new Promise((r) => setTimeout(r, 50));
  t.is(transformed, 5, 'a relist transforms only the new object, not the versions it already has');
  t.true(handed.length === 5 && handed.every((a) => a === undefined));
});

test('indexes follow adds, label changes and deletes, and agree with the cache', async (t) => {
  const store = new MemoryStore();
  const inf = new Informer(store, 'Service', { indexers: { app: (s) => (s.metadata.labels?.app ? [s.metadata.labels.app] : []) } }).start();
  t.teardown(() => inf.stop());
  await inf.synced();
  await store.create(service('a', 'ns'));
  const b = await store.create({ ...service('b', 'ns'), metadata: { name: 'b', namespace: 'ns', labels: { app: 'a' } } });
  await waitFor('both', () => inf.size === 2);
  t.deepEqual(inf.byIndex('app', 'a').map((s) => s.metadata.name).sort(), ['a', 'b']);
  await store.update({ ...b, metadata: { ...b.metadata, labels: { app: 'other' } } });
  await waitFor('moved', () => inf.indexCount('app', 'other') === 1);
  t.deepEqual(inf.byIndex('app', 'a').map((s) => s.metadata.name), ['a']);
  await store.delete('Service', 'a', 'ns');
  await waitFor('gone', () => inf.indexCount('app', 'a') === 0);
  t.deepEqual(inf.byIndex('app', 'nothing'), []);
});
