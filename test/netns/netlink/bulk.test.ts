/**
 * Bulk work as the bench and the lab do it: many creates pipelined on one socket (several per sendmsg), then
 * deletes spread over the worker pool; checked with `ip -j link show`.
 */
import test from 'ava';
import { Rtnetlink } from '../../../src/netlink/index.ts';
import { NetlinkWorkerPool } from '../../../src/netlink/netlinkWorkerPool.ts';
import { linkDeleteRequest } from '../../../src/netlink/rtnetlink/linkCodec.ts';
import { ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';

const prefix = uniquePrefix('nlb');
let snapshot: ReturnType<typeof rootSnapshot>;

test.before('snapshot the root namespace', () => {
  snapshot = rootSnapshot(prefix);
});

test.after.always('nothing left behind in the root namespace', (t) => {
  t.deepEqual(snapshot.leaks(), []);
});

test('200 veth pairs created concurrently, then deleted through the worker pool', async (t) => {
  const ns = makeNetns(t, prefix, 'bk');
  const nl = await Rtnetlink.open({ netns: ns, maxInFlight: 64 });
  t.teardown(() => nl.close());
  const pairs = Array.from({ length: 200 }, (_, i) => [`k${i}a`, `k${i}b`] as const);
  await Promise.all(pairs.map(([a, b]) => nl.links.create({ kind: 'veth', name: a, peer: { name: b } })));
  const names = new Set(ipJsonIn<Array<{ ifname: string }>>(ns, ['link', 'show']).map((l) => l.ifname));
  t.is(names.size, 401);
  t.true(pairs.every(([a, b]) => names.has(a) && names.has(b)));
  // One name twice: the second create must fail alone, the others are unaffected.
  const again = await Promise.allSettled([nl.links.create({ kind: 'veth', name: 'k0a', peer: { name: 'kxb' } }), nl.links.create({ kind: 'bridge', name: 'kbr' })]);
  t.is(again[0].status, 'rejected');
  t.is(again[1].status, 'fulfilled');

  const pool = await NetlinkWorkerPool.open({ netns: ns, size: 4 });
  t.teardown(() => pool.close());
  const results = await pool.run([...pairs.map(([a]) => linkDeleteRequest(a)), linkDeleteRequest('nosuch0')]);
  t.deepEqual(results.slice(0, 200), new Array(200).fill(null));
  t.is(results[200]?.code, 'ENODEV');
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(ns, ['link', 'show']).map((l) => l.ifname).sort(), ['kbr', 'lo']);
});
