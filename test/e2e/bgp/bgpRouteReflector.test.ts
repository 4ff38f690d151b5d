/**
 * Route reflectors against `lab up --routing bgp` in route-reflector-client mode (issue 8, "Done when"): the
 * nodes peer only with the reflector, never with each other, and still learn each other's pod CIDRs with the
 * originating node as next hop (RFC 4456 keeps next hops), so pods on different nodes reach each other. Three
 * reflectors in turn, each at 198.18.0.1 in the fabric namespace as AS 64512: BIRD 2, gobgpd; then podnetd itself
 * (n1 with `routeReflectorServer`, n2 and n3 its clients), which means new agent configs and restarted agents.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { findTool } from '../../../src/common/systemTools.ts';
import { nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { startBird, startGobgpd, type Daemon } from '../../integration/bgp/helpers/peerDaemons.ts';
import { birdPrefixes, gobgpPrefixes } from '../../integration/bgp/helpers/peerRib.ts';
import {
  bgpKernelPrefixes, bgpKernelRoutes, bgpStatus, type KernelRoute, CLUSTER_ASN, labWait, nodeAddressFor, podCidrsOf, podPerNode, restartPodnetd,
  sharedBgpCluster, TOR_V4, waitPodsReachEachOther, type RunningPod,
} from './helpers/bgpLab.ts';

const have = Boolean(findTool('bird') && findTool('birdc') && findTool('gobgpd') && findTool('gobgp'));
const serial = have ? test.serial : test.serial.skip;
const shared = sharedBgpCluster(3, { mode: 'route-reflector-client', routeReflectors: [TOR_V4] }, { ipFamily: 'dual' });
let pods: RunningPod[] = [];

test.before(async () => {
  if (!have) return;
  const { lab, store } = await shared.start();
  pods = await podPerNode(lab, store);
});
test.after.always(() => shared.cleanup());

type Family = 4 | 6;
const familyOf = (cidr: string): Family => (cidr.includes(':') ? 6 : 4);

/**
 * Every node has every other node's pod CIDR of `family` via that node (next hop kept), and reports only
 * `reflectors` as its peers; pods reach each other on that family's addresses (and over HTTP on IPv4).
 */
async function checkReflected(t: import('ava').ExecutionContext, family: Family, reflectors: (node: string) => string[]): Promise<void> {
  const { lab } = shared.get();
  for (const n of lab.nodes) {
    const cidrs = lab.nodes.filter((o) => o !== n)
      .flatMap((o) => podCidrsOf(lab, o.id).filter((c) => familyOf(c) === family).map((cidr) => ({ id: o.id, cidr })));
    t.true(cidrs.length > 0, `the lab's nodes have IPv${family} pod CIDRs`);
    // One wait for prefix and next hop together: on a starved CI machine a BFD expiry may reset a session for a
    // moment, and a route read between two separate checks would be missing though reflection is right.
    let routes: KernelRoute[] = [];
    const wrong = () => cidrs.filter(({ id, cidr }) => routes.find((r) => r.dst === cidr)?.gateway !== nodeAddressFor(lab, id, cidr));
    await labWait(`${n.id} learned the other IPv${family} pod CIDRs (${cidrs.map((c) => c.cidr).join(', ')}) through the reflector, next hops kept`, async () => {
      routes = await bgpKernelRoutes(lab, n.id, family);
      return wrong().length === 0;
    }, family === 4 ? 90_000 : 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; ${n.id}'s kernel has ${JSON.stringify(routes)}; wrong or missing: ${wrong().map((c) => `${c.id}'s ${c.cidr} via ${nodeAddressFor(lab, c.id, c.cidr)}`).join(', ')}`);
    });
    const peers = await labWait(`${n.id}'s peers Established`, async () => {
      const s = await bgpStatus(lab, n.id);
      return s.length > 0 && s.every((p) => /established/i.test(p.state)) ? s : undefined;
    });
    t.deepEqual(peers.map((p) => p.peer).sort(), reflectors(n.id).sort(), `${n.id} peers with the reflector(s) only`);
  }
  await waitPodsReachEachOther(lab, pods.map((p) => ({ ...p, ips: p.ips.filter((ip) => familyOf(ip) === family) })));
}

/** Stop an external reflector and wait until the nodes dropped what it reflected (so the next one starts clean). */
async function stopReflector(d: Daemon): Promise<void> {
  const { lab } = shared.get();
  await d.stop();
  for (const n of lab.nodes) {
    await labWait(`${n.id} dropped the reflected routes`, async () => (await bgpKernelPrefixes(lab, n.id)).size === 0);
  }
}

/** The external reflector learned every node's pod CIDR of `family`. */
async function reflectorLearned(what: string, family: Family, prefixes: () => Promise<Set<string>>): Promise<void> {
  const { lab } = shared.get();
  const want = lab.nodes.flatMap((n) => podCidrsOf(lab, n.id)).filter((c) => familyOf(c) === family);
  let missing: string[] = [];
  await labWait(`${what} learned every IPv${family} pod CIDR`, async () => {
    const rib = await prefixes().catch(() => new Set<string>());
    missing = want.filter((c) => !rib.has(c));
    return missing.length === 0;
  }, family === 4 ? 90_000 : 30_000).catch((err: Error) => { throw new Error(`${err.message}; missing ${missing.join(', ')}`); });
}

serial('BIRD as route reflector: clients learn each other\'s pod CIDRs (IPv4, then IPv6), pods reach each other', async (t) => {
  const { lab } = shared.get();
  const b = startBird({ netns: lab.plan.fabricNs, as: CLUSTER_ASN, routerId: TOR_V4, listenAddress: TOR_V4, port: 179, rrClusterId: TOR_V4,
    peers: lab.nodes.map((n) => ({ name: n.id, address: n.interfaces[0]!.address, as: CLUSTER_ASN, port: 179, direct: true, rrClient: true })) });
  shared.onCleanup(() => b.stop());
  t.teardown(() => b.stop());
  for (const family of [4, 6] as const) {
    await reflectorLearned('BIRD', family, () => birdPrefixes(b));
    await checkReflected(t, family, () => [TOR_V4]);
  }
  await stopReflector(b);
});

serial('gobgpd as route reflector: clients learn each other\'s pod CIDRs (IPv4, then IPv6), pods reach each other', async (t) => {
  const { lab } = shared.get();
  const g = startGobgpd({ netns: lab.plan.fabricNs, as: CLUSTER_ASN, routerId: TOR_V4, listenAddress: TOR_V4, port: 179, apiPort: 50052,
    clusterId: TOR_V4, peers: lab.nodes.map((n) => ({ address: n.interfaces[0]!.address, as: CLUSTER_ASN, port: 179, routeReflectorClient: true })) });
  shared.onCleanup(() => g.stop());
  t.teardown(() => g.stop());
  for (const family of [4, 6] as const) {
    await reflectorLearned('gobgpd', family, () => gobgpPrefixes(g));
    await checkReflected(t, family, () => [TOR_V4]);
  }
  await stopReflector(g);
});

serial('podnetd as route reflector (n1, routeReflectorServer): n2 and n3 learn each other\'s pod CIDRs through it', async (t) => {
  const { lab } = shared.get();
  const rr = lab.host('n1').interfaces[0]!.address;
  for (const n of lab.nodes) {
    const file = nodeFiles(lab.paths, n.id).agentConfig;
    const config = JSON.parse(readFileSync(file, 'utf8')) as { bgp: Record<string, unknown> };
    config.bgp = { ...config.bgp, routeReflectors: [rr], ...(n.id === 'n1' ? { routeReflectorServer: { clusterId: rr } } : {}) };
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    await restartPodnetd(lab, n.id, 'SIGTERM');
  }
  for (const family of [4, 6] as const) await checkReflected(t, family, (id) => (id === 'n1' ? ['198.18.0.12', '198.18.0.13'] : [rr]));
});
