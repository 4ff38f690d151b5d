/**
 * podnetd dns — the cluster DNS part (issue 6; src/dns/README.md).
 *
 * One process, or with `--workers N` a primary that forks N workers sharing the UDP and TCP listening sockets
 * (Node 20's dgram has no `reusePort`, so node:cluster hands every worker the same socket handles and the kernel
 * wakes one reader per datagram). Each worker runs its own store informers and record index; the primary serves
 * /metrics (the workers' registries summed by prom-client's AggregatorRegistry), /health and /ready (ready once
 * every worker has synced).
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type PrometheusContentType, type Registry } from 'prom-client';
import { createLogger, type Logger } from '../common/logger.ts';
import { startOpsServer, type HealthReport, type OpsServer } from '../common/opsServer.ts';
import { parseDnsFlags, DNS_USAGE, type DnsFlags } from '../dns/dnsFlags.ts';
import { startDnsServer, type RunningDnsServer } from '../dns/dnsServer.ts';
import type { ZoneIndex } from '../dns/zoneIndex.ts';
import { feedIndexFromStore, type StoreFeed } from '../dns/storeFeed.ts';
import { feedIndexFromWorker } from '../dns/indexWorkerFeed.ts';
import { ReplicaIndex } from '../dns/replicaIndex.ts';
import { openStore } from '../store/openStore.ts';

const READY_MESSAGE = 'podnet-dns:ready';

/** Serve from the store until SIGTERM/SIGINT. The zone is built on a worker thread unless `--feed inline`. */
async function serve(flags: DnsFlags, logger: Logger): Promise<{ server: RunningDnsServer<ZoneIndex>; ready: () => boolean; stop: () => Promise<void> }> {
  const base = {
    listen: flags.listen, zone: flags.zone, pods: flags.pods, ttl: flags.ttl, upstreams: flags.upstreams,
    logQueries: flags.logQueries, logger,
  };
  let server: RunningDnsServer<ZoneIndex>;
  let feed: StoreFeed;
  let closeStore = async () => {};
  if (flags.feed === 'worker') {
    const index = new ReplicaIndex({ zone: flags.zone, pods: flags.pods });
    server = await startDnsServer({ ...base, index });
    feed = feedIndexFromWorker(index, { store: flags.common.store, logger, logLevel: flags.common.logLevel, logName: 'podnetd-dns-index', startupTimeoutMs: flags.startupTimeoutMs, registry: server.metrics.registry });
  } else {
    const inline = await startDnsServer(base);
    server = inline;
    const store = await openStore(flags.common.store, { logger });
    feed = feedIndexFromStore(store, inline.index, { logger, startupTimeoutMs: flags.startupTimeoutMs });
    closeStore = () => store.close();
  }
  let synced = false;
  void feed.ready.then(() => { synced = true; });
  return {
    server,
    ready: () => synced && server.index.synced,
    stop: async () => { feed.stop(); await server.close(); await closeStore(); },
  };
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

/** The ops listeners: metrics (+ health, ready) and, when asked for, a separate health/ready listener. */
async function startOps(flags: DnsFlags, registry: Registry, ready: () => boolean, health: () => HealthReport): Promise<OpsServer[]> {
  const out: OpsServer[] = [];
  if (flags.common.metrics) out.push(await startOpsServer({ ...flags.common.metrics, registry, ready, health }));
  if (flags.common.health) out.push(await startOpsServer({ ...flags.common.health, ready, health }));
  return out;
}

async function runSingle(flags: DnsFlags, logger: Logger): Promise<number> {
  const s = await serve(flags, logger);
  const ops = await startOps(flags, s.server.metrics.registry, s.ready,
    () => ({ healthy: true, detail: { upstreams: s.server.forwarder?.health() ?? [] } }));
  await waitForSignal();
  await Promise.all(ops.map((o) => o.close()));
  await s.stop();
  return 0;
}

async function runWorker(flags: DnsFlags, logger: Logger): Promise<number> {
  const s = await serve(flags, logger);
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([s.server.metrics.registry]);
  const poll = setInterval(() => {
    if (!s.ready()) return;
    clearInterval(poll);
    process.send?.({ type: READY_MESSAGE });
  }, 50);
  await waitForSignal();
  clearInterval(poll);
  await s.stop();
  // The IPC channel to the primary would keep a worker alive after its work is done.
  process.exit(0);
}

class ClusterRegistry extends AggregatorRegistry<PrometheusContentType> {
  override metrics(): Promise<string> {
    return this.clusterMetrics();
  }
}

async function runPrimary(flags: DnsFlags, logger: Logger): Promise<number> {
  // Every worker accepts on the shared TCP handle itself instead of the primary round-robining connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const readyWorkers = new Set<number>();
  let stopping = false;
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: { type?: string }) => { if (m?.type === READY_MESSAGE) readyWorkers.add(w.id); });
    w.on('exit', (code, signal) => {
      readyWorkers.delete(w.id);
      if (stopping) return;
      logger.error({ event: 'workerExited', code, signal }, 'DNS worker exited; starting another');
      setTimeout(fork, 1000).unref();
    });
  };
  for (let i = 0; i < flags.workers; i++) fork();
  const ops = await startOps(flags, new ClusterRegistry(), () => readyWorkers.size === flags.workers,
    () => ({ healthy: Object.keys(cluster.workers ?? {}).length > 0, detail: { workers: readyWorkers.size } }));
  await waitForSignal();
  stopping = true;
  await Promise.all(ops.map((o) => o.close()));
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    w.once('exit', () => resolve());
    w.process.kill('SIGTERM');
  })));
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseDnsFlags(argv);
  if (flags.help) {
    process.stdout.write(`${DNS_USAGE}\n`);
    return 0;
  }
  const logger = createLogger({ name: cluster.isWorker ? `podnetd-dns-${cluster.worker?.id}` : 'podnetd-dns', level: flags.common.logLevel });
  if (cluster.isWorker) return runWorker(flags, logger);
  if (flags.workers > 1) return runPrimary(flags, logger);
  return runSingle(flags, logger);
}
