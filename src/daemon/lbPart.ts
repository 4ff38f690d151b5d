/**
 * podnetd lb — the L2 load-balancer part (issue 9; src/lb/README.md): MetalLB-compatible pool allocation (one
 * leader) and this node's ARP/NDP announcer with store-lease liveness.
 */
import { createLogger } from '../common/logger.ts';
import { startOpsServer } from '../common/opsServer.ts';
import { UsageError } from '../common/cli.ts';
import { parseDaemonFlags } from './commonFlags.ts';
import { openStore } from '../store/openStore.ts';
import { startLb } from '../lb/lbService.ts';
import { enforceStrictArp } from '../lb/strictArp.ts';

const USAGE = `usage: podnetd lb [flags]
  --store file:DIR|etcd:URLS|kube   cluster state (default file:/etc/podnet/state)
  --node NAME                       this node's name (default: hostname)
  --netns NAME|PATH                 answer ARP/NDP in this network namespace (default: the process's own)
  --proxy-mode nftables|iptables|ipvs   with ipvs, strict ARP (arp_ignore=1, arp_announce=2) is enforced
  --no-allocate                     never run the address allocator on this node (announce only)
  --log-level LEVEL, --metrics ADDR:PORT, --health ADDR:PORT`;

function netnsPathOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return v.includes('/') ? v : `/var/run/netns/${v}`;
}

export async function run(argv: string[]): Promise<number> {
  const { common, values, help } = parseDaemonFlags(argv, {
    netns: { type: 'string' }, 'proxy-mode': { type: 'string' }, 'no-allocate': { type: 'boolean' },
  });
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const mode = (values['proxy-mode'] as string | undefined) ?? 'nftables';
  if (!['nftables', 'iptables', 'ipvs'].includes(mode)) throw new UsageError(`--proxy-mode: expected nftables, iptables or ipvs, got "${mode}"`);
  const netns = netnsPathOf(values.netns as string | undefined);
  const logger = createLogger({ name: 'podnetd-lb', level: common.logLevel }).child({ node: common.node });
  if (mode === 'ipvs') {
    const changed = enforceStrictArp(netns);
    logger.info({ event: 'strictArp', changed }, changed.length ? `strict ARP enforced: ${changed.join(', ')}` : 'strict ARP already set');
  }
  const store = await openStore(common.store, { logger });
  const lb = await startLb({ store, node: common.node, netns, logger, allocate: !values['no-allocate'] });
  const ops = common.metrics ? await startOpsServer({ ...common.metrics, registry: lb.metrics.registry, health: () => ({ healthy: true, detail: {} }) }) : null;
  logger.info({ event: 'started' }, `podnetd lb running for node ${common.node}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await ops?.close();
  await lb.stop();
  await store.close();
  return 0;
}
