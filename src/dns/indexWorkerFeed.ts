/**
 * @module dns/indexWorkerFeed — `podnetd dns`'s store feed on a worker thread: starts indexWorker.ts, applies its
 * IndexDelta chunks to the ReplicaIndex the server answers from, and acknowledges each one (the worker's flow
 * control). The answering thread thus never parses a watch response, scans a manifest directory or recomputes a
 * Service: per chunk it applies at most `maxNames` prepared names (default 256, ~0.1 ms here).
 *
 * Why a worker thread and not the informers on the answering thread (storeFeed.ts alone, as before): with the
 * store on the same loop, writing 10,000 Services × 10 endpoints stalled answering for 0.3 s (etcd) to 4.5 s (file
 * store: the manifest parse), losing queries (bench/dns-churn, src/dns/README.md). A worker that dies is started
 * again after 1 s; the replica keeps answering from what it had until the new worker's first list is in.
 */
import { Worker } from 'node:worker_threads';
import type { LevelWithSilent } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import type { IndexWorkerData, FromIndexWorker, ToIndexWorker } from './indexWorker.ts';
import type { ReplicaIndex } from './replicaIndex.ts';
import type { StoreFeed } from './storeFeed.ts';

export interface IndexWorkerFeedOptions {
  /** A `--store` value; the worker opens its own connection. */
  store: string;
  logger: Logger;
  logLevel: LevelWithSilent;
  logName: string;
  startupTimeoutMs: number;
  /** Names per chunk (default 256). */
  maxNames?: number;
  /** Where to count chunks and the answering thread's time applying them. */
  registry?: Registry;
}

/**
 * `podnet_dns_index_deltas_total`, `podnet_dns_index_delta_names_total` and the longest apply since the last scrape
 * (`podnet_dns_index_delta_apply_max_seconds`): the answering thread's own work per chunk, which machine load
 * does not inflate the way it inflates latencies.
 */
function deltaMetrics(registry: Registry | undefined): (names: number, seconds: number) => void {
  if (!registry) return () => undefined;
  const registers = [registry];
  const chunks = new Counter({ name: 'podnet_dns_index_deltas_total', help: 'Index delta chunks applied by the answering thread.', registers });
  const names = new Counter({ name: 'podnet_dns_index_delta_names_total', help: 'Names updated from index deltas.', registers });
  let max = 0;
  new Gauge({
    name: 'podnet_dns_index_delta_apply_max_seconds', help: 'Longest time applying one delta chunk since the previous scrape.', registers,
    collect() { this.set(max); max = 0; },
  });
  return (n, seconds) => { chunks.inc(); names.inc(n); if (seconds > max) max = seconds; };
}

const WORKER_TS = new URL('./indexWorker.ts', import.meta.url);
// Node 20 does not carry module hooks (tsx) into workers: from source the worker registers tsx itself (as
// netlinkWorkerPool.ts does). A bundle (bin/) ships the worker as its own file beside it (scripts/build.mjs).
const BOOT_FROM_SOURCE = `
  const { workerData } = require('node:worker_threads');
  import('tsx/esm/api').then((api) => { api.register(); return import(workerData.entry); })
    .catch((err) => { console.error('dns index worker: ' + err.message); process.exit(1); });
`;

function spawnWorker(data: IndexWorkerData): Worker {
  if (import.meta.url.endsWith('.ts')) return new Worker(BOOT_FROM_SOURCE, { eval: true, workerData: { ...data, entry: WORKER_TS.href } });
  return new Worker(new URL('./podnetd-dns-index.mjs', import.meta.url), { workerData: data });
}

export function feedIndexFromWorker(index: ReplicaIndex, opts: IndexWorkerFeedOptions): StoreFeed {
  let stopping = false;
  let epoch = 0;
  let worker: Worker | undefined;
  let restart: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { markReady = resolve; });
  const applied = deltaMetrics(opts.registry);
  const start = () => {
    const w = spawnWorker({
      store: opts.store, zone: index.zone, pods: index.pods, startupTimeoutMs: opts.startupTimeoutMs,
      logLevel: opts.logLevel, logName: opts.logName, epoch: epoch++, maxNames: opts.maxNames ?? 256,
    });
    worker = w;
    w.on('message', (m: FromIndexWorker) => {
      if (m.type !== 'delta') return;
      const t0 = performance.now();
      index.apply(m.delta);
      applied(m.delta.names.length, (performance.now() - t0) / 1000);
      if (index.synced) markReady();
      w.postMessage({ type: 'ack' } satisfies ToIndexWorker);
    });
    w.on('error', (err) => opts.logger.error({ event: 'indexWorkerError', err: err.message }, 'dns index worker failed'));
    w.on('exit', (code) => {
      if (stopping) return;
      opts.logger.error({ event: 'indexWorkerExited', code }, 'dns index worker exited; starting another in 1 s');
      restart = setTimeout(start, 1000);
    });
  };
  start();
  return {
    ready,
    stop: () => {
      stopping = true;
      clearTimeout(restart);
      const w = worker;
      if (!w) return;
      // Let the worker close its store connection (an etcd client, the file store's watcher), but not forever.
      const kill = setTimeout(() => void w.terminate(), 2000);
      w.once('exit', () => clearTimeout(kill));
      w.on('message', (m: FromIndexWorker) => { if (m.type === 'stopped') void w.terminate(); });
      w.postMessage({ type: 'stop' } satisfies ToIndexWorker);
    },
  };
}
