/**
 * The fragment ledger's restricted diff must leave exactly the state a full merge would: after each of a long
 * random sequence of service/endpoint changes, (committed + delta) equals planNftables(new model), and the
 * restricted transaction touches only what changed. Contested keys (two services on one LB IP) are refused.
 */
import test from 'ava';
import { compileServiceModel, type ServiceModel } from '../../../src/services/serviceModel.ts';
import { ServiceModelCache } from '../../../src/services/serviceModelCache.ts';
import { planNftables, planNftablesParts, NftPlanCache, type NftDesired } from '../../../src/services/nftables/nftPlanner.ts';
import { FragmentLedger, applyDelta } from '../../../src/services/nftables/nftFragmentLedger.ts';
import { renderIncremental } from '../../../src/services/nftables/nftTransaction.ts';
import { svc, ep, slice } from './_modelFixtures.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

const NODE = { name: 'node-a', nodePortIPs: ['198.18.0.11'] };
const OPTS = { clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false };

function snapshot(d: NftDesired): unknown {
  const sorted = <T>(xs: Iterable<T>) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { chains: sorted(d.chains), maps: Object.fromEntries(Object.entries(d.maps).map(([k, m]) => [k, sorted(m)])),
    sets: Object.fromEntries(Object.entries(d.sets).map(([k, s]) => [k, sorted(s)])), affinity: sorted(d.affinitySets),
    dispatchMaps: sorted([...d.dispatchMaps].map(([n, m]) => [n, m.proto, sorted(m.elements)])) };
}

/** A deterministic pseudo-random generator (tests must be repeatable). */
function rng(seed: number): () => number {
  let x = seed;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function world(rand: () => number, n: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    if (rand() < 0.15) continue; // service absent this round
    const affinity = rand() < 0.3;
    const nodePort = rand() < 0.4;
    services.push(svc(`s${i}`, { type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP: `10.96.0.${i + 1}`, ...(affinity ? { sessionAffinity: 'ClientIP' as const } : {}),
      ports: [{ name: 'http', protocol: 'TCP', port: rand() < 0.8 ? 80 : 8080, targetPort: 8080, ...(nodePort ? { nodePort: 30000 + i } : {}) }] }));
    const eps = Array.from({ length: Math.floor(rand() * 4) }, () => ep(`10.244.${Math.floor(rand() * 3)}.${1 + Math.floor(rand() * 6)}`));
    slices.push(slice(`s${i}`, eps));
  }
  return { services, slices };
}

test('a random sequence of changes: committed + restricted delta = full merge of the new state, every step', (t) => {
  const rand = rng(42);
  const models = new ServiceModelCache();
  const cache = new NftPlanCache();
  let input = world(rand, 12);
  let model: ServiceModel = models.compile({ ...input, node: NODE });
  const committed = planNftables(model, 'ip', OPTS, cache);
  const ledger = FragmentLedger.build(planNftablesParts(model, 'ip', OPTS, cache).fragments);
  for (let step = 0; step < 60; step++) {
    // Keep most objects (same identity, like an informer cache) and replace a few.
    const next = world(rand, 12);
    input = { services: next.services.map((s) => input.services.find((o) => o.metadata.name === s.metadata.name && rand() < 0.7) ?? s),
      slices: next.slices.map((s) => input.slices.find((o) => o.metadata.name === s.metadata.name && rand() < 0.7) ?? s) };
    model = models.compile({ ...input, node: NODE });
    const parts = planNftablesParts(model, 'ip', OPTS, cache);
    const merged = planNftables(model, 'ip', OPTS, cache);
    const full = renderIncremental(committed, merged).text;
    const d = ledger.delta(committed, parts);
    if (!d) return t.fail(`step ${step}: no contested keys in this world`);
    const small = renderIncremental(d.prev, d.next).text;
    t.is(small.split('\n').length, full.split('\n').length, `step ${step}: same number of transaction lines`);
    applyDelta(committed, d);
    ledger.apply(d.removed, d.added);
    t.deepEqual(snapshot(committed), snapshot(merged), `step ${step}`);
  }
});

test('two services claiming one NodePort: the ledger refuses (order decides), the caller merges', (t) => {
  const cache = new NftPlanCache();
  const a = svc('a', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30001 }] });
  const b = svc('b', { type: 'NodePort', clusterIP: '10.96.0.2', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30001 }] });
  const m1 = compileServiceModel({ services: [a], slices: [slice('a', [ep('10.244.0.2')])], node: NODE });
  const m2 = compileServiceModel({ services: [a, b], slices: [slice('a', [ep('10.244.0.2')]), slice('b', [ep('10.244.0.3')])], node: NODE });
  const committed = planNftables(m1, 'ip', OPTS, cache);
  const ledger = FragmentLedger.build(planNftablesParts(m1, 'ip', OPTS, cache).fragments);
  t.is(ledger.delta(committed, planNftablesParts(m2, 'ip', OPTS, cache)), null);
});
