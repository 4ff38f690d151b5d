/**
 * bench/lb — L2 failover time: three `podnetd lb` processes (one per node namespace, shared file store, the lab's
 * pool in the legacy MetalLB ConfigMap), a client namespace on the same segment. Each round kill -9s the process
 * announcing the LB IP and times kill → first gratuitous ARP from another node, as captured by tcpdump in the
 * client; then restarts the killed node and lets the cluster settle. Env: BENCH_KILLS (default 5, max 10).
 * Last line: ratio=R ours=<median seconds> anchor=2.0 (the 2 s target; ratio = ours / anchor).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTopology } from '../test/netns/lb/lbTopology.ts';
import { spawnLb, stopAll, writeLegacyManifests, type LbProcess } from '../test/netns/lb/lbProcesses.ts';
import { uniquePrefix } from '../test/helpers/netnsFixture.ts';
import { measureFailover, resolveMac } from './lbBenchFailover.ts';

const ANCHOR_S = 2.0;
const IP = '198.18.0.200';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stableMac(client: string, limitMs = 30_000): Promise<string> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    const mac = await resolveMac(client, IP).catch(() => undefined);
    if (mac) return mac;
    await sleep(300);
  }
  throw new Error(`nobody answers ARP for ${IP} within ${limitMs / 1000} s`);
}

async function main(): Promise<number> {
  const kills = Math.min(10, Math.max(1, Number(process.env.BENCH_KILLS ?? 5)));
  const topo = buildTopology(uniquePrefix('lbb'), 3);
  const dir = mkdtempSync(join(tmpdir(), 'podnet-lbbench-'));
  const store = join(dir, 'store');
  const procs = new Map<string, LbProcess>();
  const cleanup = async () => {
    await stopAll(procs.values());
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    writeLegacyManifests(store, IP);
    for (const n of topo.nodes) procs.set(n.mac, spawnLb(store, n.name, n.ns, join(dir, 'logs')));
    const times: number[] = [];
    for (let i = 1; i <= kills; i++) {
      const oldMac = await stableMac(topo.client);
      const victim = procs.get(oldMac)!;
      const r = await measureFailover(topo.client, IP, oldMac, () => { victim.child.kill('SIGKILL'); return victim.node; });
      times.push(r.seconds);
      process.stdout.write(`round ${i}: killed ${r.killed} (${oldMac}), ${r.newMac} sent gratuitous ARP after ${r.seconds.toFixed(3)} s\n`);
      await victim.exited;
      const node = topo.nodes.find((n) => n.mac === oldMac)!;
      procs.set(oldMac, spawnLb(store, node.name, node.ns, join(dir, 'logs')));
      // Let the restarted node come up (tsx start + lease + grace) and take back what the hash order gives it.
      await sleep(5000);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    process.stdout.write(`failover over ${times.length} kills: min ${sorted[0]!.toFixed(3)} s, median ${median.toFixed(3)} s, max ${sorted.at(-1)!.toFixed(3)} s\n`);
    process.stdout.write(`ratio=${(median / ANCHOR_S).toFixed(3)} ours=${median.toFixed(3)} anchor=${ANCHOR_S.toFixed(1)}\n`);
    return 0;
  } finally {
    await cleanup();
  }
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`bench/lb: ${err.message}\n`);
  process.exit(1);
});
