/**
 * The answering thread's ReplicaIndex, fed by DeltaRecorder chunks, must answer exactly as the RecordIndex it
 * mirrors — whatever the chunk size and however many changes coalesce between chunks — and must tell answer
 * caches what to drop.
 */
import test from 'ava';
import { DeltaRecorder } from '../../../src/dns/indexDelta.ts';
import { RecordIndex } from '../../../src/dns/recordIndex.ts';
import { ReplicaIndex } from '../../../src/dns/replicaIndex.ts';
import { RRType } from '../../../src/dns/rrTypes.ts';
import { ZoneResolver } from '../../../src/dns/zoneResolver.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, namespace, slice } from './helpers/dnsObjects.ts';

function pair(epoch = 0) {
  let recorder: DeltaRecorder | undefined;
  const index = new RecordIndex({ zone: 'cluster.local', pods: 'disabled', onChange: (c) => recorder!.record(c) });
  recorder = new DeltaRecorder(index, epoch);
  return { index, recorder };
}

function drain(recorder: DeltaRecorder, replica: ReplicaIndex, maxNames: number): number {
  let chunks = 0;
  while (recorder.pending) { replica.apply(structuredClone(recorder.take(maxNames))); chunks++; }
  return chunks;
}

/** A deterministic pseudo-random churn: Services of every kind come and go, slices change under them. */
function churn(index: RecordIndex, steps: number, seed: number): void {
  let s = seed;
  const rnd = (n: number) => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n; };
  for (let i = 0; i < steps; i++) {
    const ns = `ns-${rnd(3)}`;
    const name = `s-${rnd(12)}`;
    const ep = (k: number) => endpoint(`10.244.${rnd(4)}.${k}`, rnd(3) === 0 ? { hostname: `h-${k}` } : { ready: rnd(5) !== 0 });
    switch (rnd(7)) {
      case 0: index.applyService('added', clusterIpService(ns, name, [`10.96.${rnd(4)}.${rnd(200) + 1}`], [{ name: 'http', port: 80, protocol: 'TCP' }])); break;
      case 1: index.applyService('added', headlessService(ns, name, [{ name: 'db', port: 5432, protocol: 'TCP' }])); break;
      case 2: index.applyService('deleted', clusterIpService(ns, name, [])); break;
      case 3: index.applyEndpointSlice('deleted', slice(ns, name, `${name}-a`, [])); break;
      case 4: index.applyNamespace(rnd(2) ? 'added' : 'deleted', namespace(ns)); break;
      default: index.applyEndpointSlice('added', slice(ns, name, `${name}-${rnd(2) ? 'a' : 'b'}`,
        Array.from({ length: rnd(4) }, (_, k) => ep(k + 1)), [{ name: 'db', port: 5432 }]));
    }
  }
}

function sameAnswers(t: import('ava').ExecutionContext, index: RecordIndex, replica: ReplicaIndex): void {
  const fromIndex = new ZoneResolver(index, { ttl: 5 });
  const fromReplica = new ZoneResolver(replica, { ttl: 5 });
  const names = ['cluster.local', 'svc.cluster.local', 'nope.cluster.local'];
  for (let n = 0; n < 3; n++) {
    names.push(`ns-${n}.svc.cluster.local`);
    for (let i = 0; i < 12; i++) {
      const base = `s-${i}.ns-${n}.svc.cluster.local`;
      names.push(base, `_db._tcp.${base}`, `_http._tcp.${base}`, `_tcp.${base}`, `h-1.${base}`, `10-244-0-1.${base}`);
    }
  }
  for (let a = 0; a < 4; a++) for (let b = 1; b < 5; b++) names.push(`${b}.${a}.244.10.in-addr.arpa`);
  t.is(replica.nameCount, index.nameCount);
  for (const name of names) {
    for (const type of [RRType.A, RRType.SRV, RRType.PTR]) {
      t.deepEqual(fromReplica.resolve(name, type), fromIndex.resolve(name, type), `${name} ${type}`);
    }
  }
}

test('a replica fed by chunks answers every name as the index does, for any chunk size', (t) => {
  for (const maxNames of [1, 7, 256]) {
    const { index, recorder } = pair();
    const replica = new ReplicaIndex({ zone: 'cluster.local', pods: 'disabled' });
    index.markSynced();
    for (let round = 0; round < 20; round++) {
      churn(index, 25, round * 31 + maxNames);
      // Drain only every other round: changes coalesce while the answering thread is "busy".
      if (round % 2) drain(recorder, replica, maxNames);
    }
    drain(recorder, replica, maxNames);
    t.true(replica.synced);
    sameAnswers(t, index, replica);
  }
});

test('a name changed many times between chunks is sent once, with its latest records', (t) => {
  const { index, recorder } = pair();
  const replica = new ReplicaIndex({ zone: 'cluster.local', pods: 'disabled' });
  index.applyNamespace('added', namespace('default'));
  index.applyService('added', headlessService('default', 'h'));
  index.markSynced();
  drain(recorder, replica, 256);
  for (let i = 1; i <= 100; i++) index.applyEndpointSlice('added', slice('default', 'h', 'h-a', [endpoint(`10.244.0.${i}`)]));
  const d = recorder.take(1000);
  t.is(d.names.filter(([n]) => n === 'h.default.svc.cluster.local').length, 1);
  replica.apply(structuredClone(d));
  t.deepEqual(replica.lookup('h.default.svc.cluster.local')?.a, ['10.244.0.100']);
  t.false(replica.has('1.0.244.10.in-addr.arpa'), 'an address that came and went is gone');
});

test('not synced until the worker has synced and every name it held has arrived', (t) => {
  const { index, recorder } = pair();
  const replica = new ReplicaIndex({ zone: 'cluster.local', pods: 'disabled' });
  for (let i = 0; i < 10; i++) index.applyService('added', clusterIpService('default', `s-${i}`, [`10.96.0.${i + 1}`]));
  index.markSynced();
  replica.apply(recorder.take(5));
  t.false(replica.synced, 'half the names are still in the worker');
  drain(recorder, replica, 5);
  t.true(replica.synced);
  t.true(replica.has('s-9.default.svc.cluster.local'));
});

test('answer caches drop exactly the changed names, and everything on structural changes', (t) => {
  const { index, recorder } = pair();
  const replica = new ReplicaIndex({ zone: 'cluster.local', pods: 'disabled' });
  index.applyNamespace('added', namespace('default'));
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.10']));
  index.markSynced();
  drain(recorder, replica, 256);
  let gen = replica.generation;
  index.applyEndpointSlice('added', slice('default', 'web', 'web-a', [endpoint('10.244.0.5')]));
  drain(recorder, replica, 256);
  t.deepEqual([...replica.changesSince(gen) as Set<string>], ['10-244-0-5.web.default.svc.cluster.local']);
  gen = replica.generation;
  index.applyService('added', externalNameService('default', 'ext', 'web.default.svc.cluster.local'));
  index.applyService('added', clusterIpService('default', 'a', ['10.96.0.11']));
  index.applyService('added', clusterIpService('default', 'b', ['10.96.0.12']));
  drain(recorder, replica, 1);
  t.is(replica.changesSince(gen), 'all', 'a CNAME can embed any name: every chunk of its change says all');
  gen = replica.generation;
  index.applyNamespace('added', namespace('other'));
  drain(recorder, replica, 256);
  t.is(replica.changesSince(gen), 'all');
  t.true(replica.namespaceExists('other'));
});

test('a restarted worker loads aside; the old zone answers until the new one is complete, deletions included', (t) => {
  const first = pair(0);
  const replica = new ReplicaIndex({ zone: 'cluster.local', pods: 'disabled' });
  first.index.applyService('added', clusterIpService('default', 'old', ['10.96.0.1']));
  first.index.applyService('added', clusterIpService('default', 'kept', ['10.96.0.2']));
  first.index.markSynced();
  drain(first.recorder, replica, 256);
  // The store lost "old" while no worker ran; the new worker lists what is there now.
  const second = pair(1);
  second.index.applyService('added', clusterIpService('default', 'kept', ['10.96.0.2']));
  second.index.applyService('added', clusterIpService('default', 'new', ['10.96.0.3']));
  replica.apply(structuredClone(second.recorder.take(1)));
  t.true(replica.has('old.default.svc.cluster.local'), 'still the old zone while the new one loads');
  t.false(replica.has('new.default.svc.cluster.local'));
  const gen = replica.generation;
  second.index.markSynced();
  drain(second.recorder, replica, 1);
  t.false(replica.has('old.default.svc.cluster.local'));
  t.true(replica.has('new.default.svc.cluster.local'));
  t.is(replica.changesSince(gen), 'all');
  sameAnswers(t, second.index, replica);
});
