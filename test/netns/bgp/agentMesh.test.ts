/**
 * `podnetd agent` with `backend: bgp` in three node namespaces sharing a file store: each node leases a pod CIDR,
 * the agents form an iBGP full mesh from the Node objects, and every node installs the others' pod CIDRs with
 * proto 159 via their node addresses; pods on different nodes reach each other with no overlay device. Also
 * `podnetctl bgp status` inside a node, and the per-peer metrics on the agent's /metrics.
 */
import test from 'ava';
import { findTool, runTool } from '../../../src/common/systemTools.ts';
import { rootSnapshot, uniquePrefix, ipJsonIn } from '../../helpers/netnsFixture.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import { addPod, ctlBgpStatus, pings, podCidrOf, podCidrsOf, routeVia, startFabric, type BgpNode } from './helpers/bgpNodes.ts';

const prefix = uniquePrefix('bga');
let snapshot: ReturnType<typeof rootSnapshot>;
test.before(() => { snapshot = rootSnapshot(prefix); });
test.after.always('nothing left behind in the root namespace', (t) => { t.deepEqual(snapshot.leaks(), []); });

test.serial('three dual-stack nodes: full mesh, IPv4 and IPv6 pod CIDRs in the kernel with proto 159, pods reach each other, status and metrics', async (t) => {
  const f = startFabric(t, prefix, 3, { dual: true });
  for (const n of f.nodes) f.writeConfig(n, { bfd: false, gracefulRestartTime: '60s' });
  await Promise.all(f.nodes.map((n) => f.startAgent(n)));
  const cidrs = f.nodes.map(podCidrOf);
  t.is(new Set(cidrs).size, 3, 'three distinct pod CIDRs were leased');
  for (const n of f.nodes) addPod(t, f, n);
  for (const [i, n] of f.nodes.entries()) {
    for (const [j, other] of f.nodes.entries()) {
      if (i === j) continue;
      const [v4, v6] = podCidrsOf(other);
      await waitFor(`${n.id}: route to ${other.id}'s ${v4} via ${other.address} (log: ${n.agent!.log().slice(-1500)})`,
        () => routeVia(n.ns, v4!)?.join() === other.address, 30_000);
      t.truthy(v6, `${other.id} leased an IPv6 pod CIDR`);
      await waitFor(`${n.id}: route to ${other.id}'s ${v6} via ${other.address6}`, () => routeVia(n.ns, v6!)?.join() === other.address6, 30_000);
    }
  }
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(f.nodes[0]!.ns, ['link', 'show']).map((l) => l.ifname).filter((n) => n.startsWith('podnet')), [], 'no overlay device');
  const failed: string[] = [];
  for (const a of f.nodes) for (const b of f.nodes) if (a !== b && !(await pings(a.pod!.ns, b.pod!.ip))) failed.push(`${a.id}→${b.id}`);
  t.deepEqual(failed, [], 'every pod reaches every other pod');

  const n1 = f.nodes[0]!;
  await waitFor('n1 converged', async () => /converged/.test((await ctlBgpStatus(n1)).stdout) && !/converging/.test((await ctlBgpStatus(n1)).stdout));
  const table = await ctlBgpStatus(n1);
  t.is(table.code, 0, table.stderr);
  t.log(table.stdout.trim());
  for (const other of f.nodes.slice(1)) t.regex(table.stdout, new RegExp(`${other.address.replace(/\./g, '\\.')}\\s+64512\\s+Established\\s+\\S+\\s+2\\s+2\\s+2`), 'IPv4 + IPv6 pod CIDR each way');
  const json = JSON.parse((await ctlBgpStatus(n1, ['-o', 'json'])).stdout) as { routerId: string; localRoutes: string[]; peers: Array<{ state: string }> };
  t.is(json.routerId, n1.address);
  t.deepEqual(json.localRoutes, podCidrsOf(n1));
  t.is(json.peers.length, 2);

  const metrics = await runTool('ip', ['netns', 'exec', n1.ns, findTool('curl') ?? '/usr/bin/curl', '-s', 'http://127.0.0.1:9101/metrics'], { allowFailure: true });
  t.regex(metrics.stdout, /podnet_bgp_session_state\{peer="198\.18\.0\.12",state="Established"\} 1/);
  t.regex(metrics.stdout, /podnet_bgp_prefixes_received\{peer="198\.18\.0\.13"\} 2/);
  t.regex(n1.agent!.log(), /"event":"peerState".*"to":"Established"/, 'state changes are logged with their event name');
});

test.serial('route reflector (dual-stack): n1 reflects for n2 and n3, which peer only with it; next hops stay the owning node', async (t) => {
  const f = startFabric(t, prefix, 3, { dual: true });
  const [n1, n2, n3] = f.nodes as [BgpNode, BgpNode, BgpNode];
  f.writeConfig(n1, { bfd: false, routeReflectorServer: { clusterId: n1.address } });
  for (const n of [n2, n3]) f.writeConfig(n, { bfd: false, mode: 'route-reflector-client', routeReflectors: [n1.address] });
  await Promise.all(f.nodes.map((n) => f.startAgent(n)));
  const cidrs = f.nodes.map(podCidrOf);
  await waitFor('n2: n3\'s pods via n3 itself', () => routeVia(n2.ns, cidrs[2]!)?.join() === n3.address, 30_000);
  await waitFor('n3: n2\'s pods via n2 itself', () => routeVia(n3.ns, cidrs[1]!)?.join() === n2.address, 30_000);
  await waitFor('n2: n1\'s pods via n1', () => routeVia(n2.ns, cidrs[0]!)?.join() === n1.address, 30_000);
  const n3v6 = podCidrsOf(n3)[1]!;
  await waitFor(`n2: n3's IPv6 pods ${n3v6} via n3's IPv6 address`, () => routeVia(n2.ns, n3v6)?.join() === n3.address6, 30_000);
  const n2Status = JSON.parse((await ctlBgpStatus(n2, ['-o', 'json'])).stdout) as { peers: Array<{ peer: string }> };
  t.deepEqual(n2Status.peers.map((p) => p.peer), [n1.address], 'a client has one session: the reflector');
  const rr = await ctlBgpStatus(n1);
  t.log(rr.stdout.trim());
  t.regex(rr.stdout, /route-reflector cluster-id 198\.18\.0\.11/);
  t.regex(rr.stdout, /198\.18\.0\.12 \(rr-client\)/);
  for (const n of f.nodes) addPod(t, f, n);
  t.true(await pings(n2.pod!.ns, n3.pod!.ip), 'n2\'s pod reaches n3\'s pod over the reflected route');
});
