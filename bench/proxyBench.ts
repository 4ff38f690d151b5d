/**
 * bench/proxy — full sync of N services × 10 endpoints through the nftables backend vs loading the very same
 * ruleset with a raw `nft -f` (the anchor), one-endpoint changes (median of 5, and the worst), resident memory. Runs inside fresh namespaces it
 * removes afterwards. Last line: `ratio=R ours=X anchor=Y` for the largest size (R = ours / nft, seconds).
 *
 * usage: bench/proxy [--sizes 1000,10000] [--endpoints 10] [--endpoint-chains]   (the last: kube-proxy's layout)
 *        bench/proxy --datapath [--sizes 100,10000]   connection setup time, nftables vs iptables (proxyDatapathBench.ts)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Service, EndpointSlice } from '../src/store/types.ts';
import { ServiceModelCache } from '../src/services/serviceModelCache.ts';
import { NftBackend } from '../src/services/nftables/nftBackend.ts';
import { NftCli, type NftRunner } from '../src/services/nftables/nftRunner.ts';
import { findTool, runTool } from '../src/common/systemTools.ts';
import { datapathBench } from './proxyDatapathBench.ts';

const IP = findTool('ip')!;
const NFT = findTool('nft')!;
const NODE = { name: 'bench-node', nodePortIPs: ['198.18.0.11'] };

function synthetic(n: number, eps: number, version = 0): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let s = 0; s < n; s++) {
    const name = `svc-${s}`;
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' },
      spec: { type: 'NodePort', clusterIP: `10.96.${(s >> 8) & 255}.${s & 255}`, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30000 + (s % 2768) + 0 }] } });
    const endpoints = [];
    for (let e = 0; e < eps; e++) endpoints.push({ addresses: [`10.${128 + ((s >> 8) & 63)}.${s & 255}.${e + 1 + (s === 0 ? version : 0)}`], nodeName: `n${e % 3}` });
    slices.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', endpoints, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] });
  }
  // NodePorts must be unique: only the first 2768 services get one.
  services.forEach((svc, i) => { if (i >= 2768) { svc.spec.type = 'ClusterIP'; delete svc.spec.ports![0]!.nodePort; } });
  return { services, slices };
}

const live = new Set<string>();
function removeNetns(name: string): void {
  try {
    execFileSync(IP, ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
  live.delete(name);
}
// bench/proxy runs under `timeout`: a SIGTERM must not leave a namespace with 100,000 chains behind.
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    for (const ns of [...live]) removeNetns(ns);
    process.exit(1);
  });
}

function withNetns<T>(name: string, fn: (ns: string) => Promise<T>): Promise<T> {
  execFileSync(IP, ['netns', 'add', name]);
  live.add(name);
  return fn(name).finally(() => removeNetns(name));
}

async function runOurs(input: ReturnType<typeof synthetic>, prefix: string, endpointChains: boolean) {
  let text = '';
  const r = await withNetns(`${prefix}-ours`, async (ns) => {
    // Time spent inside nft (apply + the name listing of a full sync), to split ours into JS and kernel/nft.
    const cli = new NftCli({ netns: ns });
    let inNft = 0;
    const timed = async <T>(p: Promise<T>): Promise<T> => { const t = performance.now(); try { return await p; } finally { inNft += performance.now() - t; } };
    const runner: NftRunner = { apply: (s) => timed(cli.apply(s)), query: (a) => timed(cli.query(a)) };
    const backend = new NftBackend({ netns: ns, clusterCIDRs: ['10.128.0.0/10'], masqueradeAll: false, endpointChains }, runner);
    const models = new ServiceModelCache(); // as podnetd: unchanged Services are not recompiled nor re-planned
    const t0 = performance.now();
    const model = models.compile({ ...input, node: NODE });
    await backend.sync(model);
    const full = (performance.now() - t0) / 1000;
    const fullNft = inNft / 1000;
    inNft = 0;
    text = backend.appliers.ip.lastTransaction;
    // Five successive one-endpoint changes (service i's first endpoint moves), as a store event stream would
    // bring them: the median is the steady state, the first includes collecting the full sync's garbage.
    const changes: number[] = [];
    const changesNft: number[] = [];
    let slices = input.slices;
    for (let i = 0; i < 5; i++) {
      const s = slices[i]!;
      slices = slices.map((x, j) => (j === i ? { ...s, endpoints: [{ ...s.endpoints[0]!, addresses: [`10.255.${i}.1`] }, ...s.endpoints.slice(1)] } : x));
      inNft = 0;
      const t1 = performance.now();
      await backend.sync(models.compile({ services: input.services, slices, node: NODE }));
      changes.push(performance.now() - t1);
      changesNft.push(inNft);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const change = median(changes);
    const changeMax = Math.max(...changes);
    return { full, fullNft, change, changeMax, changeNft: median(changesNft), changeLines: backend.appliers.ip.lastTransaction.split('\n').length - 1, rss: process.memoryUsage().rss };
  });
  return { ...r, text };
}

function runAnchor(file: string, prefix: string): Promise<number> {
  return withNetns(`${prefix}-nft`, async (ns) => {
    const t0 = performance.now();
    await runTool(IP, ['netns', 'exec', ns, NFT, '-f', file], { timeoutMs: 900_000 });
    return (performance.now() - t0) / 1000;
  });
}

/**
 * The machine is shared and its load swings: ours and the anchor run twice, interleaved (ours, nft, nft, ours),
 * and each side keeps its best time. `fullCold` is our first (cold process) run, as at podnetd's start.
 */
async function benchSize(n: number, eps: number, prefix: string, endpointChains: boolean) {
  const input = synthetic(n, eps);
  const first = await runOurs(input, prefix, endpointChains);
  const dir = mkdtempSync(join(tmpdir(), 'pxbench-'));
  const file = join(dir, 'ruleset.nft');
  writeFileSync(file, first.text);
  const anchor = Math.min(await runAnchor(file, prefix), await runAnchor(file, prefix));
  rmSync(dir, { recursive: true, force: true });
  const second = await runOurs(input, prefix, endpointChains);
  const best = second.full < first.full ? second : first;
  return { n, eps, ...best, fullCold: first.full, anchor, lines: first.text.split('\n').length - 1 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000' }, endpoints: { type: 'string', default: '10' }, 'endpoint-chains': { type: 'boolean', default: false },
    datapath: { type: 'boolean', default: false } } });
  if (values.datapath) {
    await datapathBench(values.sizes === '1000,10000' ? [100, 10000] : values.sizes!.split(',').map(Number));
    return;
  }
  const sizes = values.sizes!.split(',').map(Number);
  const eps = Number(values.endpoints);
  const prefix = `pxb${randomBytes(2).toString('hex')}`;
  let last: Awaited<ReturnType<typeof benchSize>> | null = null;
  for (const n of sizes) {
    last = await benchSize(n, eps, prefix, values['endpoint-chains'] === true);
    console.log(`layout=${values['endpoint-chains'] ? 'endpoint-chains' : 'inline'} services=${n} endpoints=${n * eps} lines=${last.lines} full_ours=${last.full.toFixed(2)}s (cold ${last.fullCold.toFixed(2)}s) full_nft=${last.anchor.toFixed(2)}s ` +
      `ratio=${(last.full / last.anchor).toFixed(2)} (of ours: ${last.fullNft.toFixed(2)}s in nft) one_change_median=${last.change.toFixed(0)}ms max=${last.changeMax.toFixed(0)}ms ` +
      `(${last.changeNft.toFixed(0)}ms in nft, ${last.changeLines} lines) rss=${(last.rss / 2 ** 20).toFixed(0)}MiB`);
  }
  if (last) console.log(`ratio=${(last.full / last.anchor).toFixed(2)} ours=${last.full.toFixed(2)} anchor=${last.anchor.toFixed(2)}`);
}

await main();
