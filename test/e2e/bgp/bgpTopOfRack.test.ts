/**
 * Real top-of-rack peers against `lab up --routing bgp` (issue 8, "Done when"): gobgpd and BIRD 2, each in turn,
 * run in the lab's fabric namespace (198.18.0.1 on br0, every node's gateway) as AS 64500 and are declared to the
 * nodes as a MetalLB BGPPeer with a BFDProfile. The ToR learns every node's pod CIDR; IPv4 and IPv6 prefixes the
 * ToR announces land in every node's kernel (proto 159, via the ToR's underlay addresses) and leave it on
 * withdraw. Then BFD: a node whose link dies (its fabric port down: no FIN, no packets) is gone from the ToR's
 * RIB and from the other nodes' kernels within the BFD detection time — printed, not asserted; the test fails
 * only if the routes are still there after a deadline (3 s) that a hold timer (9 s) could never meet.
 */
import test from 'ava';
import { findTool } from '../../../src/common/systemTools.ts';
import { startBird, startGobgpd, type BirdDaemon, type GobgpDaemon } from '../../integration/bgp/helpers/peerDaemons.ts';
import { birdBgpStates, birdPrefixes, gobgpNeighborStates, gobgpPrefixes } from '../../integration/bgp/helpers/peerRib.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import {
  applyTorPeer, bgpKernelPrefixes, bgpKernelRoutes, CLUSTER_ASN, labWait, podCidrOf, podCidrsOf, sharedBgpCluster, TOR_ASN, TOR_V4, TOR_V6,
  watchRouteDeleted,
} from './helpers/bgpLab.ts';

const have = Boolean(findTool('bird') && findTool('birdc') && findTool('gobgpd') && findTool('gobgp'));
const serial = have ? test.serial : test.serial.skip;
const shared = sharedBgpCluster(3, undefined, { ipFamily: 'dual' });
/** What the ToR announces towards the cluster (TEST-NET-3 and a documentation-style ULA). */
const TOR_PREFIXES = ['203.0.113.0/24', 'fd99:1::/64'];
const BFD_MS = 100;

test.before(async () => {
  if (!have) return;
  const { store } = await shared.start();
  await applyTorPeer(store, { bfdIntervalMs: BFD_MS });
});
test.after.always(() => shared.cleanup());

function nodeAddresses(): string[] {
  return shared.get().lab.nodes.map((n) => n.interfaces[0]!.address);
}

/** Every node's kernel has (or, with `present` false, no longer has) each prefix, via the ToR's address. */
async function waitKernels(prefixes: string[], present: boolean): Promise<void> {
  const { lab } = shared.get();
  for (const n of lab.nodes) {
    await labWait(`${n.id}: ${prefixes.join(', ')} ${present ? 'installed' : 'removed'}`, async () => {
      const routes = [...await bgpKernelRoutes(lab, n.id, 4), ...await bgpKernelRoutes(lab, n.id, 6)];
      return prefixes.every((p) => {
        const r = routes.find((x) => x.dst === p);
        return present ? r?.gateway === (p.includes(':') ? TOR_V6 : TOR_V4) : r === undefined;
      });
    });
  }
}

/** Every node's pod CIDRs of one family (the lab is dual-stack). */
function podCidrs(family: 4 | 6): string[] {
  const { lab } = shared.get();
  return lab.nodes.flatMap((n) => podCidrsOf(lab, n.id)).filter((c) => c.includes(':') === (family === 6));
}

/** The ToR's RIB gets every node's pod CIDR of `family`; the failure names what is missing. */
async function torLearned(what: string, family: 4 | 6, prefixes: () => Promise<Set<string>>): Promise<void> {
  const want = podCidrs(family);
  if (!want.length) throw new Error(`the lab's nodes have no IPv${family} pod CIDR`);
  let missing: string[] = [];
  await labWait(`${what} learned every node's IPv${family} pod CIDR`, async () => {
    const rib = await prefixes().catch(() => new Set<string>());
    missing = want.filter((c) => !rib.has(c));
    return missing.length === 0;
  }, family === 4 ? 90_000 : 30_000).catch((err: Error) => { throw new Error(`${err.message}; missing ${missing.join(', ')}`); });
}

serial('gobgpd as top-of-rack: its IPv4 and IPv6 prefixes reach every node\'s kernel and leave on withdraw; it learns every IPv4 and IPv6 pod CIDR', async (t) => {
  const { lab } = shared.get();
  const g: GobgpDaemon = startGobgpd({ netns: lab.plan.fabricNs, as: TOR_ASN, routerId: TOR_V4, listenAddress: TOR_V4, port: 179, apiPort: 50051,
    peers: nodeAddresses().map((address) => ({ address, as: CLUSTER_ASN, port: 179, gracefulRestart: 30 })) });
  shared.onCleanup(() => g.stop());
  t.teardown(() => g.stop());
  await labWait(`gobgpd Established with every node (${g.log().slice(-500)})`, async () => {
    const s = await gobgpNeighborStates(g).catch(() => new Map<string, string>());
    return nodeAddresses().every((a) => s.get(a) === 'established');
  });
  await torLearned('gobgpd', 4, () => gobgpPrefixes(g));
  await g.cli(['global', 'rib', 'add', TOR_PREFIXES[0]!, '-a', 'ipv4']);
  await g.cli(['global', 'rib', 'add', TOR_PREFIXES[1]!, 'nexthop', TOR_V6, '-a', 'ipv6']);
  await waitKernels(TOR_PREFIXES, true);
  await g.cli(['global', 'rib', 'del', TOR_PREFIXES[0]!, '-a', 'ipv4']);
  await g.cli(['global', 'rib', 'del', TOR_PREFIXES[1]!, '-a', 'ipv6']);
  await waitKernels(TOR_PREFIXES, false);
  await torLearned('gobgpd', 6, () => gobgpPrefixes(g));
  t.pass();
});

/** BIRD as the ToR: BFD with every node (BIRD's side single-hop, 100 ms), state changes logged for timing. */
async function startTorBird(t: import('ava').ExecutionContext): Promise<BirdDaemon> {
  const { lab } = shared.get();
  const b = startBird({ netns: lab.plan.fabricNs, as: TOR_ASN, routerId: TOR_V4, listenAddress: TOR_V4, port: 179, nextHopV6: TOR_V6,
    bfd: true, bfdIntervalMs: BFD_MS, logStates: true,
    peers: lab.nodes.map((n) => ({ name: n.id, address: n.interfaces[0]!.address, as: CLUSTER_ASN, port: 179, direct: true, bfd: true, gracefulRestart: 30 })) });
  shared.onCleanup(() => b.stop());
  t.teardown(() => b.stop());
  await labWait(`BIRD Established with every node (${b.log().slice(-500)})`, async () => {
    const s = await birdBgpStates(b);
    return lab.nodes.every((n) => s.get(n.id)?.includes('Established'));
  });
  return b;
}

serial('BIRD as top-of-rack: its IPv4 and IPv6 prefixes reach every node\'s kernel and leave on withdraw; it learns every IPv4 and IPv6 pod CIDR', async (t) => {
  const b = await startTorBird(t);
  await torLearned('BIRD', 4, () => birdPrefixes(b));
  await b.announce(TOR_PREFIXES);
  await waitKernels(TOR_PREFIXES, true);
  await b.announce(TOR_PREFIXES, true);
  await waitKernels(TOR_PREFIXES, false);
  await torLearned('BIRD', 6, () => birdPrefixes(b));
  t.regex(await b.birdc(['show', 'bfd', 'sessions']), /198\.18\.0\.13\s+\S+\s+Up/, 'BFD Up between BIRD and n3');
});

/**
 * Link down → ms after the command until each observer lost `prefix`: the other nodes' kernels timed by `ip monitor
 * route` (the Deleted event), BIRD's session with the node by its state-change log line, BIRD's table by polling
 * birdc. Each must happen within 3 s (a hold timer could not), or the test fails.
 */
async function measureDeadNode(t: import('ava').ExecutionContext, b: BirdDaemon, node: string, prefix: string): Promise<Record<string, number>> {
  const { lab } = shared.get();
  const others = lab.nodes.filter((n) => n.id !== node).map((n) => n.id);
  const monitors = others.map((o) => ({ o, m: watchRouteDeleted(lab, o, prefix) }));
  t.teardown(() => { for (const { m } of monitors) m.stop(); });
  const logFrom = b.log().length;
  const gone: Record<string, number> = {};
  const within = (what: string, p: () => unknown, stepMs = 10) => waitFor(`${prefix} gone from ${what} within 3 s of ${node}'s link going down`, p, 3_000, stepMs);
  const t0 = Date.now();
  // The node's fabric port goes down: the node can neither send nor receive; no FIN or NOTIFICATION leaves it.
  await lab.exec('fabric', ['ip', 'link', 'set', node, 'down']);
  t.teardown(() => lab.exec('fabric', ['ip', 'link', 'set', node, 'up']).then(() => undefined));
  await Promise.all([
    // BIRD's session with the node (BFD between BIRD and podnetd): its `<node>: State changed to stop` line.
    within(`BIRD's session ${node}`, () => {
      if (!new RegExp(`^.*${node}: State changed to (stop|down)`, 'm').test(b.log().slice(logFrom))) return false;
      gone[`BIRD session ${node}`] = Date.now() - t0;
      return true;
    }, 5),
    // BIRD's table as a whole also has the prefix from the other nodes (they pass iBGP routes on to their eBGP
    // peer) until their own node-to-node BFD fires.
    within('BIRD\'s table', async () => {
      if ((await birdPrefixes(b)).has(prefix)) return false;
      gone['BIRD table (polled)'] = Date.now() - t0;
      return true;
    }),
    ...monitors.map(async ({ o, m }) => {
      await within(`${o}'s kernel`, async () => !(await bgpKernelPrefixes(lab, o)).has(prefix), 50);
      gone[`${o} kernel`] = await Promise.race([m.deleted, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 1_000))]) - t0;
    }),
  ]);
  for (const { m } of monitors) m.stop();
  return gone;
}

const ROUNDS = 3;

serial('BFD: a dead node\'s pod CIDR leaves the ToR (BIRD) and the other nodes\' kernels within the detection time', async (t) => {
  const { lab } = shared.get();
  const b = await startTorBird(t);
  const dead = podCidrOf(lab, 'n3');
  t.log((await b.birdc(['show', 'bfd', 'sessions'])).trim());
  const rounds: Array<Record<string, number>> = [];
  for (let i = 0; i < ROUNDS; i++) {
    await labWait(`n3's pod CIDR at BIRD (session n3), n1 and n2 (round ${i + 1})`, async () =>
      (await birdPrefixes(b, 'n3')).has(dead) && (await bgpKernelPrefixes(lab, 'n1')).has(dead) && (await bgpKernelPrefixes(lab, 'n2')).has(dead));
    await labWait('BFD Up between BIRD and n3', async () => /198\.18\.0\.13\s+\S+\s+Up/.test(await b.birdc(['show', 'bfd', 'sessions'])));
    const gone = await measureDeadNode(t, b, 'n3', dead);
    rounds.push(gone);
    t.log(`round ${i + 1}: n3 link down → ${dead} gone: ${Object.entries(gone).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
    await lab.exec('fabric', ['ip', 'link', 'set', 'n3', 'up']);
  }
  for (const what of Object.keys(rounds[0]!)) {
    const v = rounds.map((r) => r[what]!).sort((x, y) => x - y);
    t.log(`${what}: min ${v[0]} ms, median ${v[Math.floor(v.length / 2)]} ms, max ${v[v.length - 1]} ms over ${v.length} rounds`);
  }
  t.log(`BFD: BIRD ⇄ nodes ${BFD_MS} ms × 3 (BFDProfile), node ⇄ node 300 ms × 3 (the agent's default); kernels timed by ` +
    '`ip monitor route`, BIRD\'s session by its log, BIRD\'s table by polling birdc');
  t.pass();
});
