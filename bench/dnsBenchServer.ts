/**
 * Our DNS server for bench/dns: `node --import=tsx bench/dnsBenchServer.ts SERVICES PORT [WORKERS [UDPIO]]`. The record
 * index is fed SERVICES ClusterIP Services (`svc-<i>.bench.svc.cluster.local` → 10.96.<i/250>.<i%250+1>) from a
 * MemoryStore through the same informers as the daemon. With WORKERS > 1 (PORT must then be fixed), node:cluster
 * workers share the sockets as `podnetd dns --workers` does. UDPIO is `recvmmsg` (default: native batches) or
 * `dgram` (node:dgram, the fallback). Prints "ready PORT udp=IO load=MS names=N" (load: the time from starting the
 * informers to a synced index); exits on SIGTERM.
 */
import cluster from 'node:cluster';
import { silentLogger } from '../src/common/logger.ts';
import { startDnsServer } from '../src/dns/dnsServer.ts';
import { feedIndexFromStore } from '../src/dns/storeFeed.ts';
import { MemoryStore } from '../src/store/memoryStore.ts';
import { benchServiceIp, benchServiceName } from './dnsBenchNames.ts';

const count = Number(process.argv[2] ?? '100');
const port = Number(process.argv[3] ?? '0');
const workers = Number(process.argv[4] ?? '1');
const udpIo = process.argv[5] === 'dgram' ? 'dgram' : 'recvmmsg';

async function serve(): Promise<string> {
  const store = new MemoryStore();
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  for (let i = 0; i < count; i++) {
    const ip = benchServiceIp(i);
    await store.create({
      apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'bench' },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
  }
  const server = await startDnsServer({
    listen: { host: '127.0.0.1', port }, zone: 'cluster.local', pods: 'disabled', ttl: 5, upstreams: [],
    logQueries: false, logger: silentLogger, udpIo,
  });
  const loadStart = performance.now();
  const feed = feedIndexFromStore(store, server.index, { logger: silentLogger, startupTimeoutMs: 60_000 });
  await feed.ready;
  const loadMs = performance.now() - loadStart;
  if (!server.index.has(benchServiceName(count - 1))) throw new Error('index not loaded');
  process.once('SIGTERM', () => { feed.stop(); void server.close().then(() => process.exit(0)); });
  return `ready ${server.port} udp=${server.udpIo} load=${loadMs.toFixed(0)}ms names=${server.index.nameCount}`;
}

if (workers > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let ready = 0;
  const forked = Array.from({ length: workers }, () => cluster.fork());
  for (const w of forked) {
    w.on('message', (m: string) => {
      if (++ready === workers) process.stdout.write(`${m.replace(/ load=/, ` workers=${workers} load=`)}\n`);
    });
  }
  process.once('SIGTERM', () => {
    for (const w of forked) w.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const line = await serve();
  if (cluster.isWorker) process.send!(line);
  else process.stdout.write(`${line}\n`);
}
