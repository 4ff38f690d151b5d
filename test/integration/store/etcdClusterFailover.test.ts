/**
 * A 3-member etcd cluster. While a writer creates objects, the member serving the watch (found through etcd's own
 * watch-stream metric) is killed; the cluster keeps quorum with 2 of 3. Every event is counted: each write must
 * be seen exactly once, in order.
 */
import test from 'ava';
import { EtcdStore } from '../../../src/store/backends/etcdStore.ts';
import type { WatchEvent } from '../../../src/store/store.ts';
import { startEtcd } from './etcdFixture.ts';
import { service, waitFor } from './storeTestKit.ts';

test('etcd cluster: a member killed mid-watch loses and duplicates no event', async (t) => {
  const cluster = await startEtcd(t, 3);
  const watcherStore = await EtcdStore.open(cluster.urls);
  const writer = await EtcdStore.open(cluster.urls.slice(1));
  t.teardown(async () => { await watcherStore.close(); await writer.close(); });
  const ns = 'failover';
  const start = await watcherStore.list('Service', { namespace: ns });
  const events: Array<WatchEvent<'Service'>> = [];
  const errors: Error[] = [];
  const h = watcherStore.watch('Service', { namespace: ns, resourceVersion: start.resourceVersion }, {
    event: (e) => events.push(e),
    error: (err) => errors.push(err),
  });
  t.teardown(() => h.stop());

  const total = 300;
  let written = 0;
  const write = async (i: number) => {
    // A write may fail while the cluster elects a new leader; retry it until it lands (bounded).
    for (let attempt = 0; ; attempt++) {
      try {
        await writer.create(service(`s${i}`, ns, 1000 + i));
        written += 1;
        return;
      } catch (err) {
        if ((err as { reason?: string }).reason === 'AlreadyExists') { written += 1; return; }
        if (attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  for (let i = 0; i < total; i++) {
    if (i === 100) {
      const serving = await memberServingWatch(cluster.members.map((m) => m.clientUrl));
      t.log(`killing ${serving}, which serves the watch`);
      cluster.members.find((m) => m.clientUrl === serving)!.kill();
    }
    await write(i);
  }
  t.is(written, total);
  await waitFor('every event', () => events.length >= total || errors.length > 0, 60_000);
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive now
  t.deepEqual(errors, []);
  const names = events.map((e) => e.object.metadata.name);
  t.is(events.length, total, `got ${events.length} events for ${total} writes`);
  t.is(new Set(names).size, total, 'no duplicate');
  t.deepEqual(names, Array.from({ length: total }, (_, i) => `s${i}`), 'in write order');
  t.true(events.every((e) => e.type === 'ADDED'));
});

/** The member with an open watch stream, from etcd's gauge `etcd_debugging_mvcc_watch_stream_total`. */
async function memberServingWatch(urls: string[]): Promise<string> {
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^etcd_debugging_mvcc_watch_stream_total (\d+)/m.exec(text);
    if (m && Number(m[1]) > 0) return url;
  }
  throw new Error('no member reports an open watch stream');
}
