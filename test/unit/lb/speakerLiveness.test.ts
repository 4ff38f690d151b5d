import test from 'ava';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { SpeakerLiveness, SPEAKER_LEASE_PREFIX } from '../../../src/lb/speakerLiveness.ts';
import { SpeakerSightings } from '../../../src/lb/speakerSightings.ts';
import { waitFor } from '../../helpers/waitFor.ts';

test('sightings: a speaker unseen past the deadline is dropped only when a fresh read shows no renewal', (t) => {
  const s = new SpeakerSightings(1500, false);
  t.true(s.seen({ name: 'l-a', holder: 'a', version: 'v1', wallAgeMs: 0 }, 0));
  t.true(s.seen({ name: 'l-b', holder: 'b', version: 'v1', wallAgeMs: 0 }, 0));
  t.false(s.seen({ name: 'l-a', holder: 'a', version: 'v2', wallAgeMs: 0 }, 1000), 'a renewal changes nothing');
  t.deepEqual(s.overdue(1600), ['l-b']);
  t.is(s.nextDeadlineMs(), 1500);
  // The watch lagged: the store has a newer renewal than we saw, so b stays.
  t.false(s.confirm({ name: 'l-b', present: true, holder: 'b', version: 'v7', wallAgeMs: 5 }, 1600));
  t.deepEqual([...s.holders()].sort(), ['a', 'b']);
  t.true(s.confirm({ name: 'l-a', present: true, holder: 'a', version: 'v2', wallAgeMs: 1600 }, 2600), 'a stopped renewing: gone');
  t.deepEqual([...s.holders()], ['b']);
  t.false(s.seen({ name: 'l-a', holder: 'a', version: 'v2b', wallAgeMs: 1700 }, 2700), 'a late-delivered old renewal does not bring it back');
  t.true(s.seen({ name: 'l-a', holder: 'a', version: 'v3', wallAgeMs: 10 }, 2700), 'a renews again: back');
});

test('sightings: the deadline counts from the renewal, not from when a lagging watch showed it; on etcd existence is liveness', (t) => {
  const s = new SpeakerSightings(1500, false);
  s.seen({ name: 'l-old', holder: 'old', version: 'v', wallAgeMs: 1400 }, 10_000);
  t.is(s.nextDeadlineMs(), 10_100);
  s.seen({ name: 'l-future', holder: 'f', version: 'v', wallAgeMs: -5000 }, 10_000);
  t.deepEqual(s.overdue(11_500).sort(), ['l-future', 'l-old'], 'a writer clock ahead of ours buys no more than the deadline');
  t.false(s.seen({ name: 'l-dead', holder: 'd', version: 'v', wallAgeMs: 60_000 }, 10_000), 'a lease left by a node long dead is not alive');
  const e = new SpeakerSightings(1500, true);
  e.seen({ name: 'l-a', holder: 'a', version: 'acquired', wallAgeMs: 0 }, 0);
  t.false(e.confirm({ name: 'l-a', present: true, holder: 'a', version: 'acquired', wallAgeMs: 2000 }, 2000));
  t.deepEqual([...e.holders()], ['a']);
  t.true(e.confirm({ name: 'l-a', present: false }, 4000));
});

function liveness(store: MemoryStore, node: string, changes: Array<string[]>) {
  return new SpeakerLiveness({ store, node, onChange: (alive) => changes.push([...alive].sort()) });
}

test.serial('speakers see each other by watching leases; a clean stop drops a node at once', async (t) => {
  const store = new MemoryStore();
  const changesA: string[][] = [];
  const a = liveness(store, 'a', changesA);
  const b = liveness(store, 'b', []);
  await a.start();
  await b.start();
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await waitFor('a sees b', () => a.alive.has('b') && a.alive.has('a'));
  await b.stop();
  await waitFor('a drops b', () => !a.alive.has('b'));
  t.deepEqual(changesA.at(-1), ['a']);
});

test.serial('a node that stops renewing (kill -9) is dropped by its peers; its lease is not counted as lost here', async (t) => {
  const store = new MemoryStore();
  // A lease written once and never renewed: what a killed node leaves behind.
  await store.acquireLease(`${SPEAKER_LEASE_PREFIX}ghost`, 'ghost', 2);
  const a = liveness(store, 'a', []);
  await a.start();
  t.teardown(() => a.stop());
  t.true(a.alive.has('ghost'), 'a fresh lease is alive');
  await waitFor('ghost dropped', () => !a.alive.has('ghost'), 5000);
  t.is(a.renewStats.losses, 0);
});

test.serial('a 1 s stall of the event loop neither loses the own lease nor drops a peer', async (t) => {
  const store = new MemoryStore();
  const changes: string[][] = [];
  const a = liveness(store, 'a', changes);
  const b = liveness(store, 'b', []);
  await a.start();
  await b.start();
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await waitFor('both alive', () => a.alive.size === 2 && b.alive.size === 2);
  const before = changes.length;
  await new Promise((r) => setTimeout(r, 600));
  const end = Date.now() + 1000;
  while (Date.now() < end) { /* a compile or a kernel commit holding the loop */ }
  await new Promise((r) => setTimeout(r, 2000));
  t.is(a.renewStats.losses + b.renewStats.losses, 0);
  t.is(changes.length, before, `no speakersChanged: ${JSON.stringify(changes.slice(before))}`);
  t.true(a.renewStats.summary().late.maxMs >= 700, 'the stall shows as renewal lateness (renewals fall due every 250 ms of it)');
});
