/**
 * Bench: a GoBGP peer injects 100,000 IPv4 prefixes; how long until our speaker has all of them in its Loc-RIB,
 * against BIRD 2 receiving the same feed from the same gobgpd at the same time (the anchor). Memory (RSS) of both.
 *
 * Feed: gobgpd learns the prefixes from a feeder (one of our speakers, packing ~1,000 prefixes per UPDATE — much
 * faster than `gobgp global rib add` per prefix), and re-advertises them to both receivers at once, with its next
 * hop rewritten to 198.18.5.2 by a gobgpd export policy so our receiver can install them in a namespace. The clock
 * starts when the feeder starts sending; both receivers therefore include gobgpd's own processing.
 * Ours reports its finish time itself (event-driven); BIRD is polled with `birdc show route count` every 50 ms.
 *
 * Ours goes on to install every route with netlink into a namespace made here (proto 159); BIRD runs without a
 * kernel protocol (it would write the host's table), so its figure is to its RIB: the comparison favours BIRD.
 *
 * Last line: `ratio=R ours=X anchor=Y` (seconds; R = X/Y). Env: BENCH_PREFIXES (100000), BENCH_TIMEOUT_S (240).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Speaker } from '../src/bgp/speaker.ts';
import { runTool } from '../src/common/systemTools.ts';
import { BGP_ROUTE_PROTO } from '../src/bgp/kernelApplier.ts';
import { freePort, waitFor } from '../test/integration/bgp/helpers/bgpTestHelpers.ts';
import { startBird, startGobgpd } from '../test/integration/bgp/helpers/peerDaemons.ts';

const PREFIXES = Number(process.env.BENCH_PREFIXES ?? 100_000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 240) * 1000;
const base = `127.77.${1 + (process.pid % 250)}`;
const [OURS, GOBGP, BIRD, FEEDER] = [`${base}.1`, `${base}.2`, `${base}.3`, `${base}.4`];
const NS = `bgpb${process.pid.toString(36)}`;

function prefixes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);

/** utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15, USER_HZ = 100). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function birdCount(birdc: (a: string[]) => Promise<string>): Promise<number> {
  const out = await birdc(['show', 'route', 'count']);
  const m = /(\d+) of \d+ routes/.exec(out);
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async () => { for (const c of cleanups.reverse()) await c(); cleanups.length = 0; };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  let progress = () => '';
  const deadline = setTimeout(() => { console.error(`bench/bgp: timed out; ${progress()}`); void cleanup().finally(() => process.exit(1)); }, TIMEOUT_MS);
  try {
    const [gport, oport, bport, api] = [await freePort(GOBGP), await freePort(OURS), await freePort(BIRD), await freePort('127.0.0.1')];
    const gobgp = startGobgpd({
      as: 65010, routerId: GOBGP, listenAddress: GOBGP, port: gport, apiPort: api, exportNextHop: '198.18.5.2',
      peers: [
        { address: FEEDER, as: 65100, port: 1, passive: true, families: ['ipv4-unicast']},
        { address: OURS, as: 65001, port: oport, families: ['ipv4-unicast']},
        { address: BIRD, as: 65020, port: bport, families: ['ipv4-unicast']},
      ],
    });
    cleanups.push(() => gobgp.stop());
    const bird = startBird({ as: 65020, routerId: BIRD, listenAddress: BIRD, port: bport, peers: [{ name: 'podnet', address: GOBGP, as: 65010, port: gport }] });
    cleanups.push(() => bird.stop());
    // Our receiver installs into this namespace's kernel; next hop 198.18.5.2 sits on its veth.
    await runTool('ip', ['netns', 'add', NS]);
    cleanups.push(async () => { await runTool('ip', ['netns', 'del', NS], { allowFailure: true }); });
    for (const args of [['link', 'add', 'fab0', 'type', 'veth', 'peer', 'name', 'fab1'], ['addr', 'add', '198.18.5.1/24', 'dev', 'fab0'], ['link', 'set', 'fab0', 'up'], ['link', 'set', 'fab1', 'up']]) {
      await runTool('ip', ['-n', NS, ...args]);
    }
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./bgpBenchReceiver.ts', import.meta.url)),
      JSON.stringify({ address: OURS, port: oport, peer: GOBGP, peerPort: gport, expect: PREFIXES, netns: NS })], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => { child.kill('SIGKILL'); });
    let childOut = '';
    child.stdout!.on('data', (b: Buffer) => { childOut += b.toString(); });
    progress = () => `receiver said: ${JSON.stringify(childOut)}; gobgpd: ${gobgp.log().slice(-800)}`;

    const birdPid = Number(await waitFor('bird pid', () => { try { return readFileSync(`${bird.dir}/bird.pid`, 'utf8').trim(); } catch { return undefined; } }));
    await waitFor(`our receiver established (${gobgp.log().slice(-500)})`, () => childOut.includes('established'), 60_000);
    await waitFor('BIRD established', async () => /Established/.test(await bird.birdc(['show', 'protocols', 'podnet'])), 60_000);
    const birdBaseline = rssOf(birdPid);
    const birdCpu0 = cpuOf(birdPid);

    const feeder = new Speaker({ localAs: 65100, routerId: FEEDER, peers: [{ peerAddress: GOBGP, peerAs: 65010, peerPort: gport, localAddress: FEEDER, nextHopV4: '198.18.5.2', families: [1] }] });
    cleanups.push(() => feeder.stop());
    feeder.setLocalRoutes(prefixes(PREFIXES).map((prefix) => ({ prefix })));
    await feeder.start();
    await waitFor('feeder established', () => feeder.status()[0]!.state === 'Established', 60_000);
    const t0 = Date.now();

    let birdDone = 0;
    const oursLine = waitFor('our receiver has every prefix', () => childOut.split('\n').find((l) => l.startsWith('{')), TIMEOUT_MS);
    await waitFor('BIRD has every prefix', async () => {
      if ((await birdCount(bird.birdc)) >= PREFIXES) birdDone = Date.now();
      return birdDone;
    }, TIMEOUT_MS);
    const birdRss = rssOf(birdPid);
    const birdCpu = cpuOf(birdPid) - birdCpu0;
    const ours = JSON.parse(await oursLine) as { doneAt: number; kernelDoneAt: number; failed: number; cpuSeconds: number; rssBytes: number; baselineRssBytes: number };
    const oursRibS = (ours.doneAt - t0) / 1000;
    const oursS = (ours.kernelDoneAt - t0) / 1000;
    const inKernel = (await runTool('ip', ['-n', NS, 'route', 'show', 'proto', String(BGP_ROUTE_PROTO)])).stdout.trim().split('\n').length;
    const anchorS = (birdDone - t0) / 1000;
    console.log(`prefixes=${PREFIXES} (IPv4 /24, one attribute set, via gobgpd ${GOBGP})`);
    console.log(`ours:   ${oursRibS.toFixed(2)} s to Loc-RIB, ${oursS.toFixed(2)} s to the kernel of ${NS} (${inKernel} routes proto 159, ${ours.failed} failed); CPU ${ours.cpuSeconds.toFixed(2)} s; RSS ${mb(ours.rssBytes)} MB (baseline ${mb(ours.baselineRssBytes)} MB, Node + tsx)`);
    console.log(`bird:   ${anchorS.toFixed(2)} s to its table (polled every 50 ms; no kernel protocol: BIRD must not touch the host), CPU ${birdCpu.toFixed(2)} s, RSS ${mb(birdRss)} MB (baseline ${mb(birdBaseline)} MB)`);
    console.log('both receivers keep pace with gobgpd, which sets the rate; CPU shows the cost of keeping up. ratio compares our time to the kernel with BIRD\'s to its own table');
    console.log(`ratio=${(oursS / anchorS).toFixed(2)} ours=${oursS.toFixed(2)} anchor=${anchorS.toFixed(2)}`);
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

await main();
process.exit(0);
