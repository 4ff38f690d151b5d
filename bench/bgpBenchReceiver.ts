/**
 * bench/bgp's receiving speaker, in its own process so its memory is its own: peers with gobgpd, counts the
 * prefixes that reach its Loc-RIB (and, with a kernel applier, the kernel), and prints one JSON line when
 * `expect` prefixes are there: { doneAt, kernelDoneAt (epoch ms), cpuSeconds since Established, rssBytes, ... }.
 */
import { Speaker } from '../src/bgp/speaker.ts';
import { KernelApplier } from '../src/bgp/kernelApplier.ts';
import { Rtnetlink } from '../src/netlink/index.ts';

interface Input { address: string; port: number; peer: string; peerPort: number; expect: number; netns?: string }

const input = JSON.parse(process.argv[2]!) as Input;
const nl = input.netns ? await Rtnetlink.open({ netns: input.netns }) : undefined;
const applier = nl ? new KernelApplier(nl.routes) : undefined;
let inKernel = 0;
let failed = 0;
let ribDoneAt = 0;
const baselineRssBytes = process.memoryUsage().rss;
const s = new Speaker({
  localAs: 65001, routerId: input.address, listen: { address: input.address, port: input.port }, connectRetryMs: 200,
  peers: [{ peerAddress: input.peer, peerAs: 65010, peerPort: input.peerPort, localAddress: input.address, holdTime: 90, families: [1] }],
});
let installed = 0;
function report(): void {
  global.gc?.();
  const kernelDoneAt = applier ? Date.now() : undefined;
  const cpu = process.cpuUsage(cpuAtEstablished);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(JSON.stringify({ doneAt: ribDoneAt, kernelDoneAt, failed, cpuSeconds, rssBytes: process.memoryUsage().rss, baselineRssBytes }) + '\n');
}
s.on('kernel', (changes) => {
  for (const c of changes) if (c.route) installed++;
  if (installed >= input.expect && !ribDoneAt) {
    ribDoneAt = Date.now();
    if (!applier) report();
  }
  if (!applier) return;
  void applier.apply(changes).then((r) => {
    inKernel += r.installed;
    failed += r.failed.length;
    if (inKernel + failed >= input.expect && ribDoneAt) { report(); inKernel = -Infinity; }
  });
});
let cpuAtEstablished: NodeJS.CpuUsage | undefined;
s.on('peerState', (_p, state) => {
  if (state !== 'Established') return;
  cpuAtEstablished = process.cpuUsage();
  process.stdout.write('established\n');
});
await s.start();
process.on('SIGTERM', () => { void s.stop().then(() => process.exit(0)); });
