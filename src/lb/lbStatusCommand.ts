/**
 * `podnetctl lb status [--store SPEC] [-o json]` — which node announces which LB IP, on which interfaces, and
 * what is pending (lb/lbStatus.ts renders it). Reads the store only.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../common/cli.ts';
import { openStore } from '../store/openStore.ts';
import { LEASE_NAMESPACE, type Store } from '../store/store.ts';
import { processIO, storeSpecFor } from '../store/ctl/ctlIO.ts';
import { ALLOCATOR_LEASE } from './allocController.ts';
import { planAnnouncements } from './announcePlanner.ts';
import { renderLbStatus, type LbStatusInput } from './lbStatus.ts';
import { compileLbConfig } from './pools.ts';
import { SPEAKER_LEASE_PREFIX } from './speakerLiveness.ts';
import { parseReport } from './speakerReport.ts';

const USAGE = 'usage: podnetctl lb status [--store file:DIR|etcd:URLS|kube] [-o json]';

export async function gatherLbStatus(store: Store): Promise<LbStatusInput> {
  const [services, slices, nodes, pools, ads, cms, leases, reports] = await Promise.all([
    store.list('Service'), store.list('EndpointSlice'), store.list('Node'), store.list('IPAddressPool'),
    store.list('L2Advertisement'), store.list('ConfigMap', { namespace: 'metallb-system' }),
    store.list('Lease', { namespace: LEASE_NAMESPACE }), store.list('ConfigMap', { namespace: LEASE_NAMESPACE }),
  ]);
  const speakerNames = leases.items.map((l) => l.metadata.name).filter((n) => n.startsWith(SPEAKER_LEASE_PREFIX));
  const alive = (await Promise.all(speakerNames.map((n) => store.getLease(n)))).filter((r) => r !== undefined).map((r) => r.holder).sort();
  const config = compileLbConfig({ pools: pools.items, advertisements: ads.items, configMaps: cms.items });
  const aliveSet = new Set(alive);
  return {
    plan: planAnnouncements({ services: services.items, slices: slices.items, nodes: nodes.items, alive: aliveSet, config }),
    // A dead node's report is stale: it answers nothing any more.
    reports: reports.items.map(parseReport).filter((r) => r !== undefined && aliveSet.has(r.node)) as LbStatusInput['reports'],
    services: services.items, alive, allocatorLeader: (await store.getLease(ALLOCATOR_LEASE))?.holder, problems: config.problems,
  };
}

export async function lbCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'status') throw new UsageError(sub ? `unknown lb command "${sub}"\n${USAGE}` : USAGE);
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: { store: { type: 'string' }, output: { type: 'string', short: 'o' } }, strict: true }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const io = processIO();
  const store = await openStore(storeSpecFor(values.store, io));
  try {
    const status = await gatherLbStatus(store);
    io.out(values.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderLbStatus(status));
    return 0;
  } finally {
    await store.close();
  }
}
