/**
 * Bench: routing, in one fresh namespace (removed at exit, also on SIGINT/SIGTERM).
 *
 * 1. Event → kernel: a RouteAgent (store informer → planner → applier) runs with BENCH_NODES remote vxlan nodes
 *    already programmed; a new Node is created in the store and the time until its route's RTM_NEWROUTE
 *    notification arrives is measured (a separate netlink event socket), BENCH_EVENTS times.
 * 2. Programming BENCH_NODES remote nodes = 3 × BENCH_NODES operations (permanent FDB entry, permanent neighbour,
 *    onlink route each) onto an existing podnet.1: podnet's RoutingApplier vs the same operations as
 *    `bridge -n NS -batch -` (FDB; `ip` has no FDB command) followed by `ip -n NS -batch -` (neighbours, routes).
 *    Between rounds podnet.1 is re-created, which drops everything on it. One warm-up round of each (JIT, page
 *    cache) is run first and not counted; the order of the two sides alternates between rounds.
 * Last line: `ratio=R ours=X anchor=Y` (medians of (2) in ms; R = X/Y).
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { runTool } from '../src/common/systemTools.ts';
import { Rtnetlink, RtnetlinkEvents } from '../src/netlink/index.ts';
import { APPLY_WINDOW, RouteAgent } from '../src/routing/routeAgent.ts';
import { RoutingApplier } from '../src/routing/routingApplier.ts';
import { planRouting } from '../src/routing/routingPlanner.ts';
import type { LocalNode, RoutingSettings } from '../src/routing/routingModel.ts';
import { MemoryStore } from '../src/store/memoryStore.ts';
import type { Node } from '../src/store/types.ts';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20);
const NS = `brt${randomBytes(3).toString('hex')}`;
const SETTINGS: RoutingSettings = { backend: 'vxlan', vni: 1, port: 8472 };
const LOCAL_IP = '198.18.250.1';

const hex = (n: number) => n.toString(16).padStart(2, '0');
const peerIp = (i: number) => `198.18.${i >> 8}.${(i & 255) || 254}`;
const peerCidr = (i: number) => `10.${100 + (i >> 8)}.${i & 255}.0/24`;
const peerMac = (i: number) => `02:00:00:${hex(i >> 16)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`;

function peerNode(i: number): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name: `peer${i}`, annotations: { 'podnet.io/backend': 'vxlan', 'podnet.io/vtep-mac': peerMac(i), 'podnet.io/vni': '1', 'podnet.io/vxlan-port': '8472' } },
    spec: { podCIDR: peerCidr(i), podCIDRs: [peerCidr(i)] }, status: { addresses: [{ type: 'InternalIP', address: peerIp(i) }] },
  };
}

const ip = (args: string[], input?: string) => runTool('ip', ['-n', NS, ...args], { input, timeoutMs: 600_000 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function uplink(): Promise<LocalNode> {
  await ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  await ip(['addr', 'add', `${LOCAL_IP}/16`, 'dev', 'eth0']);
  await ip(['link', 'set', 'eth0', 'up']);
  await ip(['link', 'set', 'eth1', 'up']);
  const index = Number(JSON.parse((await ip(['-j', 'link', 'show', 'eth0'])).stdout)[0].ifindex);
  return { name: 'local', endpoint: LOCAL_IP, endpointFamily: 4, uplink: { name: 'eth0', index, mtu: 1500, prefixLen: 16 }, podCidrs: ['10.99.0.0/24'], vtepMac: '02:00:00:ff:ff:ff' };
}

async function programOurs(rtnl: Rtnetlink, local: LocalNode, nodes: Node[]): Promise<number> {
  const applier = new RoutingApplier({ rtnl, resyncMs: 3_600_000 });
  try {
    applier.setDesired(planRouting({ settings: SETTINGS, local, nodes: [] }).desired); // the device, adopted
    await applier.idle();
    const full = planRouting({ settings: SETTINGS, local, nodes }).desired;
    const t0 = performance.now();
    applier.setDesired(full);
    await applier.idle();
    const ms = performance.now() - t0;
    if (applier.last?.errors.length || applier.last?.ops !== 3 * nodes.length) throw new Error(`ours: ${JSON.stringify(applier.last)}`);
    return ms;
  } finally {
    applier.close();
  }
}

async function programAnchor(nodes: number): Promise<number> {
  const fdb: string[] = [];
  const rest: string[] = [];
  for (let i = 1; i <= nodes; i++) {
    const vtep = peerCidr(i).replace('/24', '');
    fdb.push(`fdb replace ${peerMac(i)} dev podnet.1 dst ${peerIp(i)} self permanent`);
    rest.push(`neigh replace ${vtep} lladdr ${peerMac(i)} dev podnet.1 nud permanent`);
  }
  for (let i = 1; i <= nodes; i++) rest.push(`route replace ${peerCidr(i)} via ${peerCidr(i).replace('/24', '')} dev podnet.1 onlink proto 157`);
  const t0 = performance.now();
  await runTool('bridge', ['-n', NS, '-batch', '-'], { input: `${fdb.join('\n')}\n`, timeoutMs: 600_000 });
  await ip(['-batch', '-'], `${rest.join('\n')}\n`);
  return performance.now() - t0;
}

async function resetDevice(rtnl: Rtnetlink, local: LocalNode): Promise<void> {
  await ip(['link', 'del', 'podnet.1']).catch(() => undefined);
  const a = new RoutingApplier({ rtnl, resyncMs: 3_600_000 });
  a.setDesired(planRouting({ settings: SETTINGS, local, nodes: [] }).desired);
  await a.idle();
  a.close();
}

async function eventLatency(nodes: Node[]): Promise<number[]> {
  const store = new MemoryStore();
  await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'local', annotations: { 'podnet.io/tunnel-endpoint': LOCAL_IP } }, spec: { podCIDR: '10.99.0.0/24' } });
  for (const n of nodes) await store.create(n);
  const agent = await RouteAgent.start({ store, nodeName: 'local', settings: SETTINGS, clusterCidrs: ['10.0.0.0/8'], netns: NS, masquerade: false, nodeStateFile: null, resyncMs: 3_600_000 });
  const events = await RtnetlinkEvents.open({ netns: NS, topics: ['route'] });
  const waiting = new Map<string, () => void>();
  events.on('route', (action, r) => { if (action === 'new') waiting.get(r.dst)?.(); });
  const out: number[] = [];
  try {
    await agent.settled();
    for (let k = 0; k < EVENTS; k++) {
      const i = NODES + 1 + k;
      const seen = new Promise<void>((resolve) => waiting.set(peerCidr(i), resolve));
      const t0 = performance.now();
      await store.create(peerNode(i));
      await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error(`no route for ${peerCidr(i)} within 5 s`)), 5000))]);
      out.push(performance.now() - t0);
      await agent.settled();
    }
  } finally {
    events.close();
    agent.stop();
  }
  return out;
}

async function main(): Promise<void> {
  await runTool('ip', ['netns', 'add', NS]);
  const cleanup = () => runTool('ip', ['netns', 'del', NS], { allowFailure: true });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const local = await uplink();
    const nodes = Array.from({ length: NODES }, (_, k) => peerNode(k + 1));
    const rtnl = await Rtnetlink.open({ netns: NS, maxInFlight: APPLY_WINDOW }); // as RouteAgent opens it
    const oursMs: number[] = [];
    const anchorMs: number[] = [];
    const runOurs = async () => { await resetDevice(rtnl, local); return programOurs(rtnl, local, nodes); };
    const runAnchor = async () => { await resetDevice(rtnl, local); return programAnchor(NODES); };
    await runOurs();
    await runAnchor();
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) { oursMs.push(await runOurs()); anchorMs.push(await runAnchor()); }
      else { anchorMs.push(await runAnchor()); oursMs.push(await runOurs()); }
      console.log(`round ${r + 1}: ours ${oursMs[r]!.toFixed(1)} ms, anchor ${anchorMs[r]!.toFixed(1)} ms (${3 * NODES} operations each)`);
    }
    await ip(['link', 'del', 'podnet.1']);
    rtnl.close();
    const lat = await eventLatency(nodes);
    console.log(`event→kernel with ${NODES} nodes present: median ${median(lat).toFixed(1)} ms, p95 ${pct(lat, 0.95).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms (${lat.length} Node creations; target ≤ 100 ms)`);
    const ours = median(oursMs);
    const anchor = median(anchorMs);
    console.log(`${NODES} remote nodes: ours median ${ours.toFixed(1)} ms (target ≤ 1000 ms), bridge+ip -batch median ${anchor.toFixed(1)} ms`);
    console.log(`ratio=${(ours / anchor).toFixed(2)} ours=${ours.toFixed(0)} anchor=${anchor.toFixed(0)}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/routing: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
