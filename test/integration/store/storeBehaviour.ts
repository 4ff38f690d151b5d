/**
 * The behaviour every store backend must have (issue 4): list, watch, update, delete, resync, conflict, watch
 * expiry, lease expiry, bad objects. `defineStoreSuite` registers the same tests against one backend's fixture.
 */
import test, { type ExecutionContext } from 'ava';
import type { Store } from '../../../src/store/store.ts';
import { retryUpdate } from '../../../src/store/store.ts';
import { Informer } from '../../../src/store/informer.ts';
import { AlreadyExistsError, ConflictError, ExpiredError, InvalidObjectError, LeaseLostError, NotFoundError } from '../../../src/store/storeErrors.ts';
import { service, uniqueNs, waitFor } from './storeTestKit.ts';
import type { Service } from '../../../src/store/types.ts';

export interface BackendFixture {
  /** The store under test (the one watched). */
  store: Store;
  /** Another client of the same backend (another instance/connection) that writes. */
  writer: Store;
  /** Make versions older than now unresumable (etcd compaction, lost history, 410). */
  forgetHistory(): Promise<void>;
  /** Put a good Service `good` and a bad one `bad` (spec.ports[0].port: "http") in `ns`, the way this backend's
   * users would get them in (a manifest file, a raw etcd value, an API object). */
  injectBad(ns: string): Promise<void>;
  /** Warning lines the backend reported (logger capture or the file store's problem list). */
  problems(): string[];
}

export function defineStoreSuite(backend: string, setup: (t: ExecutionContext) => Promise<BackendFixture>): void {
  const name = (s: string) => `${backend}: ${s}`;

  test(name('list returns created objects with resource versions; get reads one'), async (t) => {
    const { store, writer } = await setup(t);
    const ns = uniqueNs('list');
    const a = await writer.create(service('a', ns));
    await writer.create(service('b', ns, 81));
    t.truthy(a.metadata.resourceVersion);
    t.truthy(a.metadata.uid);
    const listed = await store.list('Service', { namespace: ns });
    t.deepEqual(listed.items.map((s) => s.metadata.name).sort(), ['a', 'b']);
    t.truthy(listed.resourceVersion);
    const got = await store.get('Service', 'b', ns);
    t.is(got?.spec.ports?.[0]?.port, 81);
    t.is(await store.get('Service', 'nope', ns), undefined);
    const other = await store.list('Service', { namespace: uniqueNs('empty') });
    t.is(other.items.length, 0);
  });

  test(name('an informer sees add, update and delete in order, once each'), async (t) => {
    const { store, writer } = await setup(t);
    const ns = uniqueNs('watch');
    await writer.create(service('pre', ns));
    const inf = new Informer(store, 'Service', { namespace: ns });
    t.teardown(() => inf.stop());
    const seen: string[] = [];
    inf.on({
      add: (s) => seen.push(`add ${s.metadata.name}`),
      update: (o, s) => seen.push(`update ${s.metadata.name} ${o.spec.ports?.[0]?.port}->${s.spec.ports?.[0]?.port}`),
      delete: (s) => seen.push(`delete ${s.metadata.name}`),
    });
    inf.start();
    await inf.synced();
    t.deepEqual(inf.list().map((s) => s.metadata.name), ['pre']);
    t.deepEqual(seen.splice(0), ['add pre']);
    // Each step waits until it is seen: the file backend observes another process's writes by scanning, so
    // changes faster than a scan collapse into one (the cache still ends up right; see src/store/README.md).
    const web = await writer.create(service('web', ns));
    await waitFor('add', () => seen.length >= 1);
    await writer.update({ ...web, spec: { ...web.spec, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 }] } });
    await waitFor('update', () => seen.length >= 2);
    await writer.delete('Service', 'web', ns);
    await waitFor('delete', () => seen.length >= 3);
    await new Promise((r) => setTimeout(r, 300)); // any duplicate would arrive now
    t.deepEqual(seen, ['add web', 'update web 80->8080', 'delete web']);
    t.is(inf.get(`${ns}/web`), undefined);
  });

  test(name('a stale resourceVersion is a Conflict; retryUpdate serialises concurrent writers'), async (t) => {
    const { store, writer } = await setup(t);
    const ns = uniqueNs('conflict');
    const v1 = await writer.create(service('c', ns));
    const v2 = await store.update({ ...v1, metadata: { ...v1.metadata, labels: { app: 'c', step: '2' } } });
    t.not(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
    const err = await t.throwsAsync(writer.update({ ...v1, metadata: { ...v1.metadata, labels: { app: 'c', step: 'stale' } } }));
    t.true(err instanceof ConflictError, String(err));
    t.regex(err!.message, /services "c"/);
    const bump = (s: Store) => retryUpdate(s, 'Service', 'c', ns, (cur) => {
      if (!cur) return undefined;
      const n = Number(cur.metadata.annotations?.count ?? '0') + 1;
      cur.metadata.annotations = { ...cur.metadata.annotations, count: String(n) };
      return cur;
    });
    await Promise.all([bump(store), bump(writer), bump(store), bump(writer), bump(writer)]);
    t.is((await store.get('Service', 'c', ns))?.metadata.annotations?.count, '5');
  });

  test(name('create of an existing object is AlreadyExists; delete of a missing one NotFound'), async (t) => {
    const { store, writer } = await setup(t);
    const ns = uniqueNs('del');
    const d = await writer.create(service('d', ns));
    await t.throwsAsync(store.create(service('d', ns)), { instanceOf: AlreadyExistsError });
    await t.throwsAsync(store.delete('Service', 'd', ns, { resourceVersion: 'x1' }), { instanceOf: ConflictError });
    await store.delete('Service', 'd', ns, { resourceVersion: d.metadata.resourceVersion! });
    t.is(await writer.get('Service', 'd', ns), undefined);
    const err = await t.throwsAsync(store.delete('Service', 'd', ns), { instanceOf: NotFoundError });
    t.is(err!.message, 'services "d" not found');
    await t.throwsAsync(store.update(service('ghost', ns)), { instanceOf: NotFoundError });
  });

  test(name('resync re-delivers every cached object as update(obj, obj)'), async (t) => {
    const { store, writer } = await setup(t);
    const ns = uniqueNs('resync');
    await writer.create(service('r1', ns));
    await writer.create(service('r2', ns));
    const inf = new Informer(store, 'Service', { namespace: ns, resyncMs: 100 }).start();
    t.teardown(() => inf.stop());
    const resynced = new Set<string>();
    inf.on({ update: (o, s) => { if (o === s) resynced.add(s.metadata.name); } });
    await inf.synced();
    await waitFor('resync of both', () => resynced.size === 2);
    t.deepEqual([...resynced].sort(), ['r1', 'r2']);
  });

  test(name('a watch from a forgotten version ends with Expired; the informer relists to the truth'), async (t) => {
    const fx = await setup(t);
    const ns = uniqueNs('expire');
    await fx.writer.create(service('keep', ns));
    await fx.writer.create(service('gone', ns));
    const old = (await fx.store.list('Service', { namespace: ns })).resourceVersion;
    await fx.writer.delete('Service', 'gone', ns);
    await fx.writer.create(service('new', ns));
    await fx.forgetHistory();
    const err = await new Promise<Error>((resolve) => {
      const h = fx.store.watch('Service', { namespace: ns, resourceVersion: old }, { event: () => undefined, error: resolve });
      t.teardown(() => h.stop());
    });
    t.true(err instanceof ExpiredError, String(err));
    const inf = new Informer(fx.store, 'Service', { namespace: ns }).start();
    t.teardown(() => inf.stop());
    await inf.synced();
    t.deepEqual(inf.list().map((s) => s.metadata.name).sort(), ['keep', 'new']);
  });

  test(name('a lease has one holder, is renewed, and expires when not renewed'), async (t) => {
    const { store, writer } = await setup(t);
    const lease = uniqueNs('lease');
    const a = await store.acquireLease(lease, 'node-a', 1);
    t.truthy(a);
    t.is(await writer.acquireLease(lease, 'node-b', 1), undefined);
    t.is((await writer.getLease(lease))?.holder, 'node-a');
    await a!.renew();
    await waitFor('expiry', async () => (await writer.getLease(lease)) === undefined);
    const b = await writer.acquireLease(lease, 'node-b', 30);
    t.truthy(b);
    t.is((await store.getLease(lease))?.holder, 'node-b');
    await t.throwsAsync(a!.renew(), { instanceOf: LeaseLostError });
    const again = await writer.acquireLease(lease, 'node-b', 30); // a restart of the same holder takes it back
    t.truthy(again);
    await again!.release();
    await waitFor('release', async () => (await store.getLease(lease)) === undefined);
  });

  test(name('writeBatch: one result per op; conflicts and bad objects fail alone; a watcher sees each change once'), async (t) => {
    const { store, writer } = await setup(t);
    const ns = uniqueNs('batch');
    const pre = await writer.create(service('pre', ns));
    const inf = new Informer(store, 'Service', { namespace: ns });
    t.teardown(() => inf.stop());
    const seen: string[] = [];
    inf.on({ add: (s) => seen.push(`add ${s.metadata.name}`), update: (o, s) => { if (o !== s) seen.push(`update ${s.metadata.name}`); }, delete: (s) => seen.push(`delete ${s.metadata.name}`) });
    inf.start();
    await inf.synced();
    seen.splice(0);
    const many = Array.from({ length: 300 }, (_, i) => service(`s${i}`, ns)); // more than one etcd transaction
    const results = await writer.writeBatch([
      ...many.map((object) => ({ op: 'apply' as const, object })),
      { op: 'create', object: service('pre', ns) },
      { op: 'update', object: { ...service('pre', ns, 81), metadata: { ...pre.metadata, resourceVersion: 'stale' } } },
      { op: 'create', object: service('bad', ns, 70000) },
      { op: 'apply', object: service('pre', ns) },
      { op: 'delete', kind: 'Service', name: 'nope', namespace: ns },
    ]);
    t.is(results.length, 305);
    t.true(results.slice(0, 300).every((r) => r.status === 'created' && r.object.metadata.resourceVersion), JSON.stringify(results[0]));
    const errs = results.slice(300).map((r) => (r.status === 'failed' ? r.error.constructor.name : r.status));
    t.deepEqual(errs, ['AlreadyExistsError', 'ConflictError', 'InvalidObjectError', 'unchanged', 'NotFoundError']);
    const again = await writer.writeBatch([
      ...many.slice(0, 5).map((object) => ({ op: 'apply' as const, object })),
      { op: 'apply', object: service('s5', ns, 8080), merge: (cur) => ({ ...(cur as Service), spec: { ...(cur as Service).spec, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 }] } }) },
      { op: 'delete', kind: 'Service', name: 's6', namespace: ns },
    ]);
    t.deepEqual(again.map((r) => r.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'updated', 'deleted']);
    await waitFor('every change', () => seen.length >= 302);
    await new Promise((r) => setTimeout(r, 300)); // any duplicate would arrive now
    t.is(seen.length, 302);
    t.is(new Set(seen).size, 302, 'no change delivered twice');
    t.true(seen.includes('update s5') && seen.includes('delete s6'));
    t.is((await store.get('Service', 's5', ns))?.spec.ports?.[0]?.port, 8080);
    t.is(inf.list().length, 300);
  });

  test(name('bad objects are rejected on write and skipped (and reported) when read'), async (t) => {
    const fx = await setup(t);
    const ns = uniqueNs('bad');
    const err = await t.throwsAsync(fx.store.create(service('x', ns, 70000)), { instanceOf: InvalidObjectError });
    t.regex(err!.message, /spec\.ports\[0\]\.port: must be an integer 1-65535, got 70000/);
    await fx.injectBad(ns);
    const inf = new Informer(fx.store, 'Service', { namespace: ns }).start();
    t.teardown(() => inf.stop());
    await inf.synced();
    await waitFor('the good object', () => inf.get(`${ns}/good`) !== undefined);
    t.is(inf.get(`${ns}/bad`), undefined);
    t.true(fx.problems().some((p) => p.includes('spec.ports[0].port: must be an integer 1-65535, got "http"')), fx.problems().join('\n'));
  });
}

export { test };
