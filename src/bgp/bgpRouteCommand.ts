/**
 * `podnetd route --backend bgp` — the BGP routing backend alone (the same BgpAgent as `podnetd agent` with
 * `backend: bgp`), for nodes that run the other parts elsewhere. The `bgp` settings come from `--bgp-config FILE`
 * (a YAML/JSON file holding the agent config's `bgp` section, or a whole agent config with one) and `--asn`.
 */
import { UsageError } from '../common/cli.ts';
import { loadConfigFile } from '../common/config.ts';
import { canonicalPrefix } from '../common/ipPrefix.ts';
import { createLogger } from '../common/logger.ts';
import { startOpsServer } from '../common/opsServer.ts';
import { parseDaemonFlags } from '../daemon/commonFlags.ts';
import { openStore } from '../store/openStore.ts';
import { readBgpSettings } from './bgpAgentConfig.ts';
import { Registry } from 'prom-client';

export const BGP_ROUTE_USAGE = `usage: podnetd route --backend bgp --asn N [flags]
  --asn N                 the cluster AS (1-4294967295), as the agent config's bgpASN
  --bgp-config FILE       the \`bgp\` section (mode, routeReflectors, advertise, bfd, statusAddress...) as YAML/JSON
  --cluster-cidr CIDRS    pod ranges, masqueraded when leaving them (default 10.244.0.0/16)
  --service-cidr CIDR     the service range, for advertise.serviceClusterIPs (default 10.96.0.0/16)
  --no-masquerade         do not install the inet podnet-nat table
  --resync SECONDS        full check of the kernel routes this often (default 10)
common: --store --node --log-level --metrics --health`;

/** Does this argv ask for the bgp backend? */
export function wantsBgpBackend(argv: string[]): boolean {
  const i = argv.indexOf('--backend');
  return argv.includes('--backend=bgp') || (i >= 0 && argv[i + 1] === 'bgp');
}

function cidrList(raw: string | undefined, def: string, flag: string): string[] {
  return (raw ?? def).split(',').map((c) => c.trim()).filter(Boolean).map((c) => {
    try { return canonicalPrefix(c); } catch { throw new UsageError(`--${flag}: "${c}" is not a CIDR`); }
  });
}

export async function runBgpRoute(argv: string[]): Promise<number> {
  const { common, values: v, help } = parseDaemonFlags(argv, {
    backend: { type: 'string' }, asn: { type: 'string' }, 'bgp-config': { type: 'string' }, 'cluster-cidr': { type: 'string' },
    'service-cidr': { type: 'string' }, 'no-masquerade': { type: 'boolean' }, resync: { type: 'string' },
  });
  if (help) { process.stdout.write(`${BGP_ROUTE_USAGE}\n`); return 0; }
  const asn = Number(v.asn ?? 0);
  if (!/^\d+$/.test(String(v.asn ?? '')) || asn < 1 || asn > 4294967295) throw new UsageError(`--asn: the cluster AS is required, 1-4294967295 (got "${String(v.asn ?? '')}")`);
  const resync = Number(v.resync ?? 10);
  if (!Number.isInteger(resync) || resync < 1 || resync > 3600) throw new UsageError(`--resync: expected 1-3600 seconds, got "${String(v.resync)}"`);
  const file = v['bgp-config'] as string | undefined;
  const raw = file ? loadConfigFile(file) : {};
  // A whole agent config is fine too: take its bgp section.
  const section = raw && typeof raw === 'object' && 'bgp' in raw && 'backend' in raw ? (raw as { bgp: unknown }).bgp : raw;
  const settings = readBgpSettings(section, asn, file);
  const logger = createLogger({ name: 'podnetd-route', level: common.logLevel });
  const store = await openStore(common.store, { logger });
  const registry = new Registry();
  const { BgpAgent } = await import('./bgpAgent.ts');
  let agent;
  try {
    agent = await BgpAgent.start({
      store, nodeName: common.node, settings, clusterCidrs: cidrList(v['cluster-cidr'] as string | undefined, '10.244.0.0/16', 'cluster-cidr'),
      serviceCidrs: cidrList(v['service-cidr'] as string | undefined, '10.96.0.0/16', 'service-cidr'), masquerade: !v['no-masquerade'],
      resyncMs: resync * 1000, logger, registry,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  logger.info({ event: 'started', backend: 'bgp', asn, mode: settings.mode }, `routing: bgp backend running (AS ${asn}, ${settings.mode})`);
  const opsAddr = common.metrics ?? common.health;
  const ops = opsAddr ? await startOpsServer({ ...opsAddr, registry, health: () => ({ healthy: agent.speaker !== undefined, detail: { converged: agent.converged } }), ready: () => agent.speaker !== undefined }) : null;
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); process.once('SIGINT', () => resolve()); });
  await ops?.close();
  await agent.stop();
  await store.close();
  return 0;
}
