import test from 'ava';
import { BgpKernelSync } from '../../../src/bgp/bgpKernelSync.ts';
import { KernelApplier, type RouteTable } from '../../../src/bgp/kernelApplier.ts';
import type { KernelRoute } from '../../../src/bgp/rib.ts';
import { silentLogger } from '../../../src/common/logger.ts';
import type { Route as NetlinkRoute, RouteSpec } from '../../../src/netlink/index.ts';

/** A kernel table in memory: dst → gateways, as the applier would leave it. */
function fakeKernel(initial: Record<string, string>) {
  const routes = new Map(Object.entries(initial));
  const table: RouteTable = {
    async replace(spec: RouteSpec) { routes.set(spec.dst!, spec.gateway ?? spec.nexthops!.map((h) => h.gateway).join(',')); },
    async delete(spec: RouteSpec) { routes.delete(spec.dst!); },
    async list() { return [...routes.keys()].map((dst) => ({ dst }) as unknown as NetlinkRoute); },
  };
  return { routes, table };
}

test('restarting: changes apply at once, nothing kept from before is pruned until convergence, then it is', async (t) => {
  const k = fakeKernel({ '10.244.2.0/24': '198.18.0.12', '10.244.3.0/24': '198.18.0.13' });
  let desired: KernelRoute[] = [];
  const fresh = new BgpKernelSync({ applier: new KernelApplier(k.table), desired: () => desired, resyncMs: 60_000, log: silentLogger });
  t.teardown(() => fresh.close());
  fresh.apply([{ prefix: '10.244.4.0/24', route: { prefix: '10.244.4.0/24', nextHops: ['198.18.0.14'] } }]);
  await fresh.idle();
  t.deepEqual([...k.routes.keys()].sort(), ['10.244.2.0/24', '10.244.3.0/24', '10.244.4.0/24'], 'before convergence: only changes, the kept routes stay');
  t.false(fresh.converged);
  desired = [{ prefix: '10.244.2.0/24', nextHops: ['198.18.0.12'] }, { prefix: '10.244.4.0/24', nextHops: ['198.18.0.14'] }];
  fresh.onConverged('End-of-RIB from every peer');
  await fresh.idle();
  t.true(fresh.converged);
  t.deepEqual([...k.routes.keys()].sort(), ['10.244.2.0/24', '10.244.4.0/24'], 'at convergence: what was not re-learned is pruned');
});

test('batches apply in order: an add then a withdraw of one prefix leaves nothing', async (t) => {
  const k = fakeKernel({});
  const sync = new BgpKernelSync({ applier: new KernelApplier(k.table), desired: () => [], resyncMs: 60_000, log: silentLogger });
  t.teardown(() => sync.close());
  sync.apply([{ prefix: '10.1.0.0/24', route: { prefix: '10.1.0.0/24', nextHops: ['192.0.2.1'] } }]);
  sync.apply([{ prefix: '10.1.0.0/24', route: undefined }]);
  await sync.idle();
  t.deepEqual([...k.routes.keys()], []);
});
