import test from 'ava';
import { RecordIndex } from '../../../src/dns/recordIndex.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, namespace, slice } from './helpers/dnsObjects.ts';

function synced() {
  const index = new RecordIndex({ zone: 'cluster.local', pods: 'disabled' });
  index.applyNamespace('added', namespace('default'));
  index.markSynced();
  return index;
}

test('changesSince names exactly what an endpoint change touched', (t) => {
  const index = synced();
  index.applyService('added', headlessService('default', 'h'));
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20']));
  const gen = index.generation;
  index.applyEndpointSlice('added', slice('default', 'h', 'h-1', [endpoint('10.244.1.5', { hostname: 'db-0' })]));
  t.deepEqual([...index.changesSince(gen) as Set<string>].sort(), [
    '5.1.244.10.in-addr.arpa', 'db-0.h.default.svc.cluster.local', 'h.default.svc.cluster.local',
  ]);
  const gen2 = index.generation;
  index.applyEndpointSlice('deleted', slice('default', 'h', 'h-1', []));
  t.true((index.changesSince(gen2) as Set<string>).has('db-0.h.default.svc.cluster.local'), 'removed names too');
  t.deepEqual([...index.changesSince(index.generation) as Set<string>], []);
});

test('structural changes and readers far behind get "all"', (t) => {
  const index = synced();
  let gen = index.generation;
  index.applyNamespace('added', namespace('other'));
  t.is(index.changesSince(gen), 'all', 'namespace existence');
  gen = index.generation;
  index.applyService('added', clusterIpService('fresh', 'a', ['10.96.0.40']));
  t.is(index.changesSince(gen), 'all', 'first Service makes its namespace exist');
  gen = index.generation;
  index.applyService('added', externalNameService('default', 'alias', 'a.fresh.svc.cluster.local'));
  t.is(index.changesSince(gen), 'all', 'CNAMEs chain onto other names');
  index.applyService('deleted', externalNameService('default', 'alias', 'x'));
  gen = index.generation;
  index.applyService('added', clusterIpService('fresh', 'b', ['10.96.0.41']));
  t.not(index.changesSince(gen), 'all', 'back to precise once no CNAME is left');
  for (let i = 0; i < 300; i++) index.applyService('modified', clusterIpService('fresh', 'b', [`10.96.1.${i % 250}`]));
  t.is(index.changesSince(gen), 'all', 'older than the change log');
});
