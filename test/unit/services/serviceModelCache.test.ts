/**
 * Incremental compilation and planning: unchanged Services keep their view objects (so the nftables planner
 * re-plans nothing for them), a changed slice recompiles only its Service, and the result always equals a
 * from-scratch compile.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { ServiceModelCache } from '../../../src/services/serviceModelCache.ts';
import { planNftables, NftPlanCache } from '../../../src/services/nftables/nftPlanner.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';

const services = [svc('a', {}), svc('b', { clusterIP: '10.96.0.11' })];
const slicesA = slice('a', [ep('10.244.1.5')]);
const slicesB = slice('b', [ep('10.244.2.5')]);
const OPTS = { clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false };

test('unchanged objects keep their views; a changed slice recompiles only its service; same result as scratch', (t) => {
  const cache = new ServiceModelCache();
  const m1 = cache.compile({ services, slices: [slicesA, slicesB], node: NODE });
  const m2 = cache.compile({ services, slices: [slicesA, slicesB], node: NODE });
  t.is(m2.ports[0], m1.ports[0]);
  t.is(m2.ports[1], m1.ports[1]);
  const changed = slice('b', [ep('10.244.3.5')]);
  const m3 = cache.compile({ services, slices: [slicesA, changed], node: NODE });
  t.is(m3.ports[0], m1.ports[0], 'service a untouched');
  t.not(m3.ports[1], m1.ports[1], 'service b recompiled');
  t.deepEqual(m3, compileServiceModel({ services, slices: [slicesA, changed], node: NODE }));
});

test('a node change invalidates everything (zone and addresses affect every service)', (t) => {
  const cache = new ServiceModelCache();
  const m1 = cache.compile({ services, slices: [slicesA, slicesB], node: NODE });
  const m2 = cache.compile({ services, slices: [slicesA, slicesB], node: { ...NODE, zone: 'zone-b' } });
  t.not(m2.ports[0], m1.ports[0]);
});

test('the plan cache gives the same desired state as planning from scratch', (t) => {
  const cache = new ServiceModelCache();
  const plans = new NftPlanCache();
  const m1 = cache.compile({ services, slices: [slicesA, slicesB], node: NODE });
  planNftables(m1, 'ip', OPTS, plans);
  const m2 = cache.compile({ services, slices: [slicesA, slice('b', [ep('10.244.3.5'), ep('10.244.4.5')])], node: NODE });
  t.deepEqual(planNftables(m2, 'ip', OPTS, plans), planNftables(m2, 'ip', OPTS));
});
