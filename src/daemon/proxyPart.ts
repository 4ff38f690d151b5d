/**
 * podnetd proxy — the service proxy part: Service / EndpointSlice / Node informers → service model → backend
 * (nftables by default, iptables, ipvs refused on kernels without ip_vs), /healthz (kube-proxy's port 10256) and
 * /metrics. `--cleanup` removes every mode's rules and exits (KEP-3866's mode switch).
 */
import { networkInterfaces } from 'node:os';
import { UsageError } from '../common/cli.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { startOpsServer, type OpsServer } from '../common/opsServer.ts';
import { parseDaemonFlags, type CommonFlags } from './commonFlags.ts';
import { openStore } from '../store/openStore.ts';
import type { Store } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import { PROXY_MODES, type ProxyMode, type BackendOptions, type ProxyBackend } from '../services/backend.ts';
import { createBackend, cleanupOtherModes } from '../services/backendTable.ts';
import { ServiceModelCache } from '../services/serviceModelCache.ts';
import { proxyNodeInfo, parseNodePortAddresses, type NodePortAddresses } from '../services/proxyNode.ts';
import { ProxyMetrics } from '../services/proxyMetrics.ts';
import { ProxyRunner } from '../services/proxyRunner.ts';
import { HealthCheckServers } from '../services/healthCheckServers.ts';
import { tryParsePrefix } from '../common/ipPrefix.ts';

const USAGE = `usage: podnetd proxy [common flags] [--mode nftables|iptables|ipvs] [--cleanup]
  --min-sync-period DUR     at most one sync per DUR, start to start (default 1s)
  --sync-period DUR         drift check period (default 30s)
  --full-sync-period DUR    bounded full resync (default 1h)
  --nodeport-addresses LIST primary (default) or CIDRs, comma separated; never localhost
  --cluster-cidr LIST       pod CIDRs: traffic to ClusterIPs from outside them is masqueraded
  --masquerade-all          masquerade all service traffic
  --proxy-name NAME         handle Services labelled service.kubernetes.io/service-proxy-name=NAME
  --no-conntrack-cleanup    do not delete stale UDP conntrack entries
  --nft-endpoint-chains     nftables: kube-proxy's chain per endpoint instead of inline DNAT (slower syncs)`;

const OPTIONS = {
  mode: { type: 'string' as const },
  cleanup: { type: 'boolean' as const },
  'min-sync-period': { type: 'string' as const },
  'sync-period': { type: 'string' as const },
  'full-sync-period': { type: 'string' as const },
  'nodeport-addresses': { type: 'string' as const },
  'cluster-cidr': { type: 'string' as const },
  'masquerade-all': { type: 'boolean' as const },
  'proxy-name': { type: 'string' as const },
  'no-conntrack-cleanup': { type: 'boolean' as const },
  'nft-endpoint-chains': { type: 'boolean' as const },
};

/** `500ms`, `1s`, `10m`, `1h` → milliseconds; the error names the flag. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag}: expected a duration like 500ms, 1s, 10m or 1h, got "${value}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function list(v: unknown): string[] {
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address));
}

export interface ProxyOptions {
  mode: ProxyMode;
  backend: BackendOptions;
  nodePortAddresses: NodePortAddresses;
  minSyncMs: number;
  syncPeriodMs: number;
  fullSyncMs: number;
  proxyName: string | undefined;
  conntrack: boolean;
}

function parseProxyOptions(values: Record<string, unknown>): ProxyOptions {
  const mode = ((values.mode as string | undefined) ?? 'nftables') as ProxyMode;
  if (!PROXY_MODES.includes(mode)) throw new UsageError(`--mode: unknown mode "${mode}" (nftables, iptables or ipvs)`);
  const clusterCIDRs = list(values['cluster-cidr']);
  for (const c of clusterCIDRs) if (!tryParsePrefix(c, { hostBits: 'clear', bareAddress: true })) throw new UsageError(`--cluster-cidr: "${c}" is not a CIDR`);
  const dur = (flag: string, def: string) => parseDuration((values[flag] as string | undefined) ?? def, `--${flag}`);
  return {
    mode,
    backend: { clusterCIDRs, masqueradeAll: values['masquerade-all'] === true, endpointChains: values['nft-endpoint-chains'] === true },
    nodePortAddresses: parseNodePortAddresses(list(values['nodeport-addresses'])),
    minSyncMs: dur('min-sync-period', '1s'),
    syncPeriodMs: dur('sync-period', '30s'),
    fullSyncMs: dur('full-sync-period', '1h'),
    proxyName: values['proxy-name'] as string | undefined,
    conntrack: values['no-conntrack-cleanup'] !== true,
  };
}

/**
 * Informers → model → backend on a store the caller owns (`podnetd proxy` below, and the agent's proxy part,
 * src/services/proxyAgentPart.ts). Returns the runner (for /healthz) and the shutdown function.
 */
export async function startProxyOnStore(store: Store, node: string, o: ProxyOptions, backend: ProxyBackend, logger: Logger):
  Promise<{ runner: ProxyRunner; metrics: ProxyMetrics; stop: () => void }> {
  const services = new Informer(store, 'Service', { logger }).start();
  const slices = new Informer(store, 'EndpointSlice', { logger }).start();
  const nodes = new Informer(store, 'Node', { logger }).start();
  await Promise.all([services.synced(), slices.synced(), nodes.synced()]);
  const metrics = new ProxyMetrics();
  const models = new ServiceModelCache();
  const hc = new HealthCheckServers({ host: '0.0.0.0', logger, proxyHealthy: () => runner.health().healthy });
  const runner: ProxyRunner = new ProxyRunner({
    backend, metrics, logger,
    model: () => models.compile({
      services: services.list(),
      slices: slices.list(),
      node: proxyNodeInfo(node, nodes.get(node), o.nodePortAddresses, localAddresses()),
      options: o.proxyName ? { proxyName: o.proxyName } : {},
    }),
    minSyncPeriodMs: o.minSyncMs,
    syncPeriodMs: o.syncPeriodMs,
    fullSyncPeriodMs: o.fullSyncMs,
    healthTimeoutMs: 2 * o.syncPeriodMs,
    conntrack: o.conntrack,
    afterSync: (m) => hc.reconcile(m),
  });
  const trigger = { add: () => runner.trigger(), update: (a: unknown, b: unknown) => { if (a !== b) runner.trigger(); }, delete: () => runner.trigger() };
  for (const i of [services, slices, nodes] as const) i.on(trigger);
  runner.start();
  return {
    runner, metrics,
    stop: () => {
      runner.stop();
      hc.close();
      for (const i of [services, slices, nodes] as const) i.stop();
    },
  };
}

/** `podnetd proxy`: its own store and ops listeners around startProxyOnStore. */
async function startProxy(common: CommonFlags, o: ProxyOptions, backend: ProxyBackend, logger: Logger): Promise<() => Promise<void>> {
  const store = await openStore(common.store, { logger });
  const { runner, metrics, stop } = await startProxyOnStore(store, common.node, o, backend, logger);
  const servers: OpsServer[] = [];
  if (common.health) servers.push(await startOpsServer({ ...common.health, health: () => runner.health() }));
  if (common.metrics) servers.push(await startOpsServer({ ...common.metrics, registry: metrics.registry, health: () => runner.health() }));
  return async () => {
    stop();
    await Promise.all(servers.map((s) => s.close()));
    await store.close();
  };
}

export async function run(argv: string[]): Promise<number> {
  const { common, values, help } = parseDaemonFlags(argv, OPTIONS, { healthPort: 10256, metricsPort: 10249 });
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const o = parseProxyOptions(values);
  const logger = createLogger({ name: 'podnetd-proxy', level: common.logLevel }).child({ subsystem: 'proxy' });
  if (values.cleanup) {
    await cleanupOtherModes('ipvs', o.backend); // nothing of ipvs to keep: nftables and iptables rules both go
    logger.info({ op: 'cleanup' }, 'removed the nftables and iptables rules of every proxy mode');
    return 0;
  }
  const backend = createBackend(o.mode, { ...o.backend, logger }); // ipvs without ip_vs: a clear error, exit 1
  await cleanupOtherModes(o.mode, o.backend);
  const stop = await startProxy(common, o, backend, logger);
  logger.info({ op: 'start', mode: o.mode, node: common.node, store: common.store }, 'service proxy running');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await stop();
  return 0;
}
