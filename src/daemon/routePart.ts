/**
 * podnetd route — the pod network between nodes (issue 7; src/routing/README.md): a Node informer, the pure
 * routing planner and the applier that keeps podnet's links, neighbours, FDB entries and routes in the kernel,
 * repairing drift from netlink events and a periodic full check. Stopping leaves the kernel state in place, so
 * a restart (even after kill -9) adopts it without a packet lost.
 */
import { createLogger } from '../common/logger.ts';
import { startOpsServer } from '../common/opsServer.ts';
import { RouteAgent } from '../routing/routeAgent.ts';
import { parseRouteFlags, ROUTE_USAGE } from '../routing/routeFlags.ts';
import { openStore } from '../store/openStore.ts';

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

export async function run(argv: string[]): Promise<number> {
  // `--backend bgp` is the BGP agent (src/bgp), with flags of its own.
  const bgp = await import('../bgp/bgpRouteCommand.ts');
  if (bgp.wantsBgpBackend(argv)) return bgp.runBgpRoute(argv);
  const flags = parseRouteFlags(argv);
  if (flags.help) {
    process.stdout.write(`${ROUTE_USAGE}\n  --backend bgp           the BGP backend: see \`podnetd route --backend bgp --help\`\n`);
    return 0;
  }
  const logger = createLogger({ name: 'podnetd-route', level: flags.common.logLevel });
  const store = await openStore(flags.common.store, { logger });
  let agent: RouteAgent;
  try {
    agent = await RouteAgent.start({
      store, nodeName: flags.common.node, settings: flags.settings, clusterCidrs: flags.clusterCidrs, iface: flags.iface,
      netns: flags.netns, masquerade: flags.masquerade, nodeStateFile: flags.nodeStateFile, resyncMs: flags.resyncMs, logger,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  logger.info({ event: 'started', backend: flags.settings.backend, vni: flags.settings.vni, port: flags.settings.port }, `routing: ${flags.settings.backend} backend running`);
  const opsAddr = flags.common.metrics ?? flags.common.health;
  const ops = opsAddr ? await startOpsServer({
    ...opsAddr, registry: agent.metrics.registry,
    health: () => ({ healthy: !agent.applier.last?.errors.length, detail: { lastPass: agent.applier.last, peers: agent.lastPlan?.peers.length ?? 0, problems: agent.lastPlan?.problems ?? [] } }),
    ready: () => agent.lastPlan !== undefined,
  }) : null;
  await waitForSignal();
  await ops?.close();
  agent.stop();
  await store.close();
  return 0;
}
