/**
 * bench/proxy — full sync of N services × 10 endpoints through the nftables backend vs loading the same services
 * in the shape kube-proxy's nftables mode writes (proxyKubeShape.ts, `nft -f` in a fresh namespace: the anchor) and
 * vs a raw `nft -f` of our own ruleset, 20 one-endpoint changes through netlink and through `nft -f` (median, p95),
 * resident memory, the drift check, iptables mode (full sync and changes, up to --iptables-max services) and
 * connection setup time to one service among 100 vs 10,000 (proxyDatapathBench.ts). Runs inside fresh namespaces it
 * removes afterwards. Last line: `ratio=R ours=X anchor=Y` for the largest size (R = ours / kube-proxy shape, seconds).
 * Also: the drift check's CPU per idle check and the longest event-loop block during the full sync.
 *
 * usage: bench/proxy [--sizes 1000,10000] [--endpoints 10] [--endpoint-chains]   (the last: kube-proxy's layout)
 *        [--iptables-max 1000] [--no-datapath] [--nft-changes 20]   (changes timed through `nft -f`, for comparison)
 *        [--dispatch map|cascade]   (inline endpoint choice: endpoint maps, the default, or the older rule cascade)
 *        [--anchor-runs N]   (nft -f loads per anchor, best kept; default 2, 1 from 5,000 services)
 *        bench/proxy --datapath [--sizes 100,10000]   only the connection setup times (proxyDatapathBench.ts)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Service, EndpointSlice } from '../src/store/types.ts';
import { ServiceModelCache } from '../src/services/serviceModelCache.ts';
import { NftBackend } from '../src/services/nftables/nftBackend.ts';
import { NftCli, type NftRunner } from '../src/services/nftables/nftRunner.ts';
import { findTool, runTool } from '../src/common/systemTools.ts';
import { createBackend } from '../src/services/backendTable.ts';
import type { ProxyBackend } from '../src/services/backend.ts';
import { NfnlBatchSocket } from '../src/netlink/nftables/nfnlBatchSocket.ts';
import type { NftOp } from '../src/netlink/nftables/nftMessages.ts';
import { compileRule } from '../src/services/nftables/nftRuleCompiler.ts';
import type { InlineDispatch } from '../src/services/nftables/nftPlanner.ts';
import { datapathBench } from './proxyDatapathBench.ts';
import { kubeProxyShapedRuleset } from './proxyKubeShape.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';

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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;
const CHANGES = 20;
/** `--dispatch cascade`: the rule cascade endpoint choice (before endpoint maps), for a same-load comparison. */
let DISPATCH: InlineDispatch = 'map';

type ChangeKind = 'replaced' | 'added' | 'removed';
const KINDS: ChangeKind[] = ['replaced', 'added', 'removed'];

/** One endpoint of slice `s` replaced (same count), added, or removed (its last). */
function changed(s: EndpointSlice, kind: ChangeKind, addr: string): EndpointSlice {
  if (kind === 'removed') return { ...s, endpoints: s.endpoints.slice(0, -1) };
  const fresh = { ...s.endpoints[0]!, addresses: [addr] };
  return { ...s, endpoints: kind === 'added' ? [...s.endpoints, fresh] : [fresh, ...s.endpoints.slice(1)] };
}

/**
 * CHANGES successive one-endpoint changes of one kind (each on another service), as a store event stream brings
 * them; each is timed from the event (the new slice list) through model compile, plan and commit to the kernel.
 * `input.slices` is advanced to the last state committed.
 */
async function oneChanges(backend: ProxyBackend, models: ServiceModelCache, input: ReturnType<typeof synthetic>, tag: number, inTool: () => number, kind: ChangeKind = 'replaced', count = CHANGES) {
  const times: number[] = [];
  const cpu: number[] = [];
  const compileCpu: number[] = [];
  const tool: number[] = [];
  let slices = input.slices;
  const first = CHANGES * KINDS.indexOf(kind);
  for (let i = first; i < first + count; i++) {
    const s = slices[i]!;
    slices = slices.map((x, j) => (j === i ? changed(s, kind, `10.255.${tag}.${i + 1}`) : x));
    const t0 = inTool();
    const c0 = process.cpuUsage();
    const t1 = performance.now();
    const model = models.compile({ services: input.services, slices, node: NODE });
    const cc = process.cpuUsage(c0);
    await backend.sync(model);
    times.push(performance.now() - t1);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000); // this process only, kernel work inside its sendmsg included; not nft's
    compileCpu.push((cc.user + cc.system) / 1000);
    tool.push(inTool() - t0);
  }
  input.slices = slices;
  return { median: median(times), p95: p95(times), cpuMedian: median(cpu), compileCpuMedian: median(compileCpu), toolMedian: median(tool) };
}

async function runOurs(input: ReturnType<typeof synthetic>, prefix: string, endpointChains: boolean, nftChanges: number) {
  let text = '';
  const r = await withNetns(`${prefix}-ours`, async (ns) => {
    // Time spent inside nft (apply + the name listing of a full sync), to split ours into JS and kernel/nft.
    const cli = new NftCli({ netns: ns });
    let inNft = 0;
    const timed = async <T>(p: Promise<T>): Promise<T> => { const t = performance.now(); try { return await p; } finally { inNft += performance.now() - t; } };
    const runner: NftRunner = { apply: (s) => timed(cli.apply(s)), query: (a) => timed(cli.query(a)) };
    const opts = { netns: ns, clusterCIDRs: ['10.128.0.0/10'], masqueradeAll: false, endpointChains };
    const backend = new NftBackend(opts, runner, { dispatch: DISPATCH });
    const models = new ServiceModelCache(); // as podnetd: unchanged Services are not recompiled nor re-planned
    // The longest event-loop block during the full sync (what health and informers would wait for).
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const t0 = performance.now();
    const model = models.compile({ ...input, node: NODE });
    await backend.sync(model);
    const full = (performance.now() - t0) / 1000;
    loop.disable();
    const loopMaxMs = loop.max / 1e6;
    const fullNft = inNft / 1000;
    text = backend.appliers.ip.lastTransaction;
    const base = input.slices;
    const kinds: Partial<Record<ChangeKind, Awaited<ReturnType<typeof oneChanges>> & { ops: string }>> = {};
    for (const kind of KINDS) {
      const r = await oneChanges(backend, models, input, 1, () => inNft, kind);
      kinds[kind] = { ...r, ops: opSummary(backend.appliers.ip.lastOps) };
    }
    const netlink = kinds.replaced!;
    const fellBack = backend.appliers.ip.netlinkFallbacks;
    const nlOps = backend.appliers.ip.lastOps.length;
    const rss = process.memoryUsage().rss;
    const kernel = await kernelCommitCost(ns, text);
    input.slices = base;
    // The periodic drift check with nothing changed: wall time of one, CPU of this process per check over 20.
    const td = performance.now();
    const drifted = await backend.driftDetected();
    const drift = performance.now() - td;
    const dc0 = process.cpuUsage();
    for (let i = 0; i < 20; i++) await backend.driftDetected();
    const dc = process.cpuUsage(dc0);
    const driftCpu = (dc.user + dc.system) / 1000 / 20;
    // The same changes through `nft -f` (the path before netlink): a second backend adopts the table.
    if (nftChanges === 0) return { full, fullNft, netlink, kinds, nft: null, nlOps, fellBack, rss, drift, drifted, driftCpu, loopMaxMs, kernel, nftLines: 0 };
    const viaNft = new NftBackend(opts, runner, { netlink: false });
    await viaNft.sync(models.compile({ ...input, node: NODE }));
    const nft = await oneChanges(viaNft, models, input, 2, () => inNft, 'replaced', nftChanges);
    input.slices = base; // the next run starts from the same state
    return { full, fullNft, netlink, kinds, nft, nlOps, fellBack, rss, drift, drifted, driftCpu, loopMaxMs, kernel, nftLines: viaNft.appliers.ip.lastTransaction.split('\n').length - 1 };
  });
  return { ...r, text };
}

/**
 * What the kernel alone charges for a commit in this table (CPU of our process, the commit runs inside its
 * sendmsg): one element added and removed, vs one service chain flushed and its rules re-added (the shape of an
 * endpoint change). Any new rule makes the commit cost O(table) (10 times each; median).
 */
async function kernelCommitCost(ns: string, fullTx: string): Promise<{ elements: number; rules: number }> {
  const sock = await NfnlBatchSocket.open({ netns: `/var/run/netns/${ns}` });
  try {
    // The first service chain of the full sync, rewritten as it is (what a rule-changing sync commits).
    const chain = /^add rule ip podnet-proxy (svc-\S+) /m.exec(fullTx)?.[1];
    const rules = fullTx.split('\n').filter((l) => chain && l.startsWith(`add rule ip podnet-proxy ${chain} `)).map((l) => l.slice(`add rule ip podnet-proxy ${chain} `.length));
    const cost = async (ops: NftOp[]) => {
      const cpu: number[] = [];
      for (let i = 0; i < 10; i++) {
        const c0 = process.cpuUsage();
        await sock.commit({ family: 2, table: 'podnet-proxy', ops });
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      return median(cpu);
    };
    const key = Uint8Array.of(10, 200, 0, 1, 10, 200, 0, 1);
    const elements = await cost([{ op: 'newElems', set: 'hairpin-pairs', elems: [{ key }] }, { op: 'delElems', set: 'hairpin-pairs', elems: [{ key }] }]);
    const ruleOps: NftOp[] = chain ? [{ op: 'flushChain', chain }, ...rules.map((r) => ({ op: 'newRule' as const, chain, exprs: compileRule('ip', r) }))] : [];
    return { elements, rules: ruleOps.length ? await cost(ruleOps) : Number.NaN };
  } finally {
    sock.close();
  }
}

/** iptables mode, same services: full sync and one-endpoint changes (iptables-restore --noflush). */
async function runIptables(input: ReturnType<typeof synthetic>, prefix: string) {
  return withNetns(`${prefix}-ipt`, async (ns) => {
    const backend = createBackend('iptables', { netns: ns, clusterCIDRs: ['10.128.0.0/10'], masqueradeAll: false });
    const models = new ServiceModelCache();
    const t0 = performance.now();
    await backend.sync(models.compile({ ...input, node: NODE }));
    const full = (performance.now() - t0) / 1000;
    return { full, change: await oneChanges(backend, models, input, 3, () => 0) };
  });
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
async function benchSize(n: number, eps: number, prefix: string, endpointChains: boolean, nftChanges: number, anchorRuns: number) {
  const input = synthetic(n, eps);
  const first = await runOurs(input, prefix, endpointChains, nftChanges);
  const dir = mkdtempSync(join(tmpdir(), 'pxbench-'));
  const file = join(dir, 'ruleset.nft');
  writeFileSync(file, first.text);
  // The anchor: the same services in kube-proxy's nftables shape (proxyKubeShape.ts), loaded by `nft -f`.
  const kubeFile = join(dir, 'kube-proxy.nft');
  const kubeText = kubeProxyShapedRuleset(new ServiceModelCache().compile({ ...input, node: NODE }), '10.128.0.0/10');
  writeFileSync(kubeFile, kubeText);
  const best = async (f: string) => { let b = Infinity; for (let i = 0; i < anchorRuns; i++) b = Math.min(b, await runAnchor(f, prefix)); return b; };
  const raw = await best(file);
  const anchor = await best(kubeFile);
  rmSync(dir, { recursive: true, force: true });
  const second = await runOurs(input, prefix, endpointChains, nftChanges);
  const pick = second.full < first.full ? second : first;
  return { n, eps, ...pick, fullCold: first.full, raw, anchor, lines: first.text.split('\n').length - 1, kubeLines: kubeText.split('\n').length - 1 };
}

const ms = (x: number) => `${x.toFixed(1)}ms`;

/** `delElems eps-…×1, newElems eps-…×1`: what the last netlink batch held (rules would show as newRule). */
function opSummary(ops: readonly NftOp[]): string {
  const counts = new Map<string, number>();
  for (const o of ops) {
    const target = 'chain' in o ? 'chain' : 'set' in o && typeof o.set === 'string' ? o.set.replace(/^(eps|aff)-.*/, '$1-*') : 'set';
    const k = `${o.op} ${target}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}×${n}`).join(', ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000' }, endpoints: { type: 'string', default: '10' }, 'endpoint-chains': { type: 'boolean', default: false },
    datapath: { type: 'boolean', default: false }, 'iptables-max': { type: 'string', default: '1000' }, 'no-datapath': { type: 'boolean', default: false },
    'nft-changes': { type: 'string', default: String(CHANGES) }, dispatch: { type: 'string', default: 'map' }, 'anchor-runs': { type: 'string' } } });
  if (values.dispatch !== 'map' && values.dispatch !== 'cascade') throw new Error(`--dispatch: map or cascade, not ${values.dispatch}`);
  DISPATCH = values.dispatch;
  if (values.datapath) {
    await datapathBench(values.sizes === '1000,10000' ? [100, 10000] : values.sizes!.split(',').map(Number));
    return;
  }
  const sizes = values.sizes!.split(',').map(Number);
  const eps = Number(values.endpoints);
  const prefix = `pxb${randomBytes(2).toString('hex')}`;
  let last: Awaited<ReturnType<typeof benchSize>> | null = null;
  for (const n of sizes) {
    // kube-proxy's shape at 10,000 takes minutes to load (anonymous numgen vmaps): one run each unless asked.
    const anchorRuns = Number(values['anchor-runs'] ?? (n >= 5000 ? 1 : 2));
    last = await benchSize(n, eps, prefix, values['endpoint-chains'] === true, Number(values['nft-changes']), anchorRuns);
    console.log(`layout=${values['endpoint-chains'] ? 'endpoint-chains' : `inline/${DISPATCH}`} services=${n} endpoints=${n * eps} lines=${last.lines} full_ours=${last.full.toFixed(2)}s (cold ${last.fullCold.toFixed(2)}s) ` +
      `full_kube_proxy_shape=${last.anchor.toFixed(2)}s (${last.kubeLines} lines) raw_nft_of_ours=${last.raw.toFixed(2)}s ` +
      `ratio=${(last.full / last.anchor).toFixed(2)} vs_raw=${(last.full / last.raw).toFixed(2)} (of ours: ${last.fullNft.toFixed(2)}s in nft) rss=${(last.rss / 2 ** 20).toFixed(0)}MiB`);
    console.log(`  drift_check idle: ${ms(last.drift)} wall, cpu=${last.driftCpu.toFixed(3)}ms per check${last.drifted ? ' (DRIFT?!)' : ''}; longest event-loop block during the full sync ${ms(last.loopMaxMs)}`);
    console.log(`  one_change n=${CHANGES} netlink: median=${ms(last.netlink.median)} p95=${ms(last.netlink.p95)} cpu=${ms(last.netlink.cpuMedian)} (model compile ${ms(last.netlink.compileCpuMedian)}; ${last.nlOps} messages, ${last.fellBack} fallbacks, ${ms(last.netlink.toolMedian)} in nft)` +
      (last.nft ? `  via nft -f (${values['nft-changes']} changes): median=${ms(last.nft.median)} p95=${ms(last.nft.p95)} (${ms(last.nft.toolMedian)} in nft, ${last.nftLines} lines)` : ''));
    for (const kind of KINDS) {
      const k = last.kinds[kind]!;
      console.log(`  endpoint ${kind} n=${CHANGES} netlink: median=${ms(k.median)} p95=${ms(k.p95)} cpu=${ms(k.cpuMedian)} (compile ${ms(k.compileCpuMedian)}) last batch: ${k.ops}`);
    }
    console.log(`  kernel commit cpu: 1 element add+del ${ms(last.kernel.elements)}, 1 service chain flush+rules ${ms(last.kernel.rules)}`);
    if (n <= Number(values['iptables-max'])) {
      const ipt = await runIptables(synthetic(n, eps), prefix);
      console.log(`  iptables services=${n} endpoints=${n * eps}: full=${ipt.full.toFixed(2)}s one_change median=${ms(ipt.change.median)} p95=${ms(ipt.change.p95)}`);
    }
  }
  if (!values['no-datapath']) await datapathBench([100, 10000]);
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs (wall times stretch with it; cpu= does not)`);
  if (last) console.log(`ratio=${(last.full / last.anchor).toFixed(2)} ours=${last.full.toFixed(2)} anchor=${last.anchor.toFixed(2)}`);
}

await main();
