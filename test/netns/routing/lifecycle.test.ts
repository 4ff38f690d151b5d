/**
 * What happens over time (vxlan, three nodes): a node leaving and joining, someone deleting podnet's device, a
 * route or a neighbour by hand (repaired; the time is logged), a restart of the agent under a ping flood
 * (adopts: no kernel change, no packet lost), and a peer with another VNI (refused, with a reason).
 */
import test from 'ava';
import { RtnetlinkEvents } from '../../../src/netlink/index.ts';
import { RouteAgent } from '../../../src/routing/routeAgent.ts';
import { ip, ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { nodeObject, pings, podMatrixFailures, settleAll, startRoutingCluster, waitFor } from './helpers/routingCluster.ts';

const snapshot = rootSnapshot(uniquePrefix('l'));
test.after.always('nothing left behind in the root namespace', (t) => {
  t.deepEqual(snapshot.leaks().filter((p) => p.startsWith('links')), []);
});

const routeDsts = (ns: string) => ipJsonIn<Array<{ dst: string }>>(ns, ['route', 'show', 'proto', '157']).map((r) => r.dst).sort();
const neighbours = (ns: string) => ipJsonIn<Array<{ dst: string }>>(ns, ['neigh', 'show', 'dev', 'podnet.1', 'nud', 'permanent']).map((n) => n.dst).sort();

test.serial('a node that leaves has its entries removed on every peer; a node that joins is reachable', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  const [n1, n2, n3] = ['n1', 'n2', 'n3'].map((id) => c.lab.host(id));
  c.agents.get('n3')!.stop();
  c.agents.delete('n3');
  await c.store.delete('Node', 'n3');
  await settleAll(c.agents);
  for (const h of [n1!, n2!]) {
    t.false(routeDsts(h.ns).includes('10.244.3.0/24'), `${h.id} has no route to n3's pods`);
    t.false(neighbours(h.ns).includes('10.244.3.0'), `${h.id} has no neighbour for n3's VTEP`);
  }
  t.false(await pings(c.lab, c.pods.get('n1')!.ns, c.pods.get('n3')!.ip));

  await c.store.create(nodeObject(n3!, 3));
  c.agents.set('n3', await RouteAgent.start(c.options(n3!)));
  await settleAll(c.agents);
  t.deepEqual(await podMatrixFailures(c), []);
  t.deepEqual(routeDsts(n1!.ns), ['10.244.2.0/24', '10.244.3.0/24']);
});

/** Times (performance.now) of netlink events in a namespace, to measure repairs from the kernel's own clock of
 * events rather than from the test's polling. */
async function eventClock(t: import('ava').ExecutionContext, ns: string) {
  const events = await RtnetlinkEvents.open({ netns: ns, topics: ['link', 'route', 'neighbour'] });
  t.teardown(() => events.close());
  const seen: Array<{ at: number; what: string }> = [];
  events.on('link', (a, l) => seen.push({ at: performance.now(), what: `link ${a} ${l.name}` }));
  events.on('route', (a, r) => seen.push({ at: performance.now(), what: `route ${a} ${r.dst} ${String(r.protocol)}` }));
  events.on('neighbour', (a, n) => seen.push({ at: performance.now(), what: `neigh ${a} ${n.address ?? n.lladdr ?? ''}` }));
  return {
    /** ms from the first event matching `from` to the last matching `to` after it. */
    between(from: string, to: string[]): number {
      const start = seen.find((e) => e.what === from);
      if (!start) return -1;
      const ends = to.map((w) => seen.filter((e) => e.at >= start.at && e.what === w).at(-1)?.at ?? -1);
      return ends.includes(-1) ? -1 : Math.max(...ends) - start.at;
    },
    /** `between` once the events have arrived: the kernel state a test polls with `ip` can be visible before the
     * event socket has delivered the notifications that measure it (bounded: -1 after 5 s). */
    async settled(from: string, to: string[]): Promise<number> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const ms = this.between(from, to);
        if (ms >= 0 || Date.now() > deadline) return ms;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    clear: () => { seen.length = 0; },
  };
}

test.serial('deleting podnet.1, a route or a neighbour by hand is repaired from netlink events', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  const ns = c.lab.host('n1').ns;
  const clock = await eventClock(t, ns);
  const routed = () => routeDsts(ns).length === 2 && neighbours(ns).length === 2;
  const bothRoutes = ['route new 10.244.2.0/24 157', 'route new 10.244.3.0/24 157'];

  ip(['-n', ns, 'link', 'del', 'podnet.1']);
  t.not(await waitFor(routed), -1);
  const device = await clock.settled('link del podnet.1', bothRoutes);
  t.log(`podnet.1 deleted by hand: device, neighbours, FDB and routes back ${device.toFixed(1)} ms after the deletion event`);
  t.true(device >= 0);
  t.true(await pings(c.lab, c.pods.get('n1')!.ns, c.pods.get('n2')!.ip));

  clock.clear();
  ip(['-n', ns, 'route', 'del', '10.244.2.0/24']);
  t.not(await waitFor(routed), -1);
  const route = await clock.settled('route del 10.244.2.0/24 157', ['route new 10.244.2.0/24 157']);
  t.log(`route 10.244.2.0/24 deleted by hand: back ${route.toFixed(1)} ms after the deletion event`);
  t.true(route >= 0);

  clock.clear();
  ip(['-n', ns, 'neigh', 'del', '10.244.3.0', 'dev', 'podnet.1']);
  t.not(await waitFor(routed), -1);
  const neigh = await clock.settled('neigh del 10.244.3.0', ['neigh new 10.244.3.0']);
  t.log(`neighbour 10.244.3.0 deleted by hand: back ${neigh.toFixed(1)} ms after the deletion event`);
  t.true(neigh >= 0);

  clock.clear();
  ip(['-n', ns, 'route', 'replace', '10.244.2.0/24', 'via', '198.18.0.1']);
  const hijack = await waitFor(() => ipJsonIn<Array<{ dev: string }>>(ns, ['route', 'show', '10.244.2.0/24', 'proto', '157']).some((r) => r.dev === 'podnet.1'));
  t.log(`route replaced by another protocol: podnet's back ${(await clock.settled('route new 10.244.2.0/24 boot', ['route new 10.244.2.0/24 157'])).toFixed(1)} ms after the replacement event`);
  t.not(hijack, -1);
  t.deepEqual(await podMatrixFailures(c), []);
});

test.serial('restarting the agent adopts the kernel state: no change made, no packet lost in a ping flood', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  const n1 = c.lab.host('n1');
  const before = JSON.stringify([routeDsts(n1.ns), neighbours(n1.ns)]);
  const flood = c.lab.exec(c.pods.get('n1')!.ns, ['ping', '-q', '-i', '0.002', '-c', '2000', '-W', '1', c.pods.get('n2')!.ip], { allowFailure: true, timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  c.agents.get('n1')!.stop();
  await new Promise((r) => setTimeout(r, 300));
  const again = await RouteAgent.start(c.options(n1));
  c.agents.set('n1', again);
  await settleAll(c.agents);
  const out = (await flood).stdout;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  t.truthy(m, out);
  t.log(`ping flood across the restart: ${m![1]} sent, ${m![2]} received`);
  t.is(m![1], '2000');
  t.is(m![2], '2000', 'not one packet lost');
  t.is(again.applier.last?.ops ?? 0, 0, 'the restarted agent found everything in place and changed nothing');
  t.is(JSON.stringify([routeDsts(n1.ns), neighbours(n1.ns)]), before);
});

test.serial('a peer with another VNI is refused with a reason naming both nodes, not silently routed', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan', nodes: 2 });
  const n2 = c.lab.host('n2');
  c.agents.get('n2')!.stop();
  c.agents.set('n2', await RouteAgent.start({ ...c.options(n2), settings: { backend: 'vxlan', vni: 7, port: 8472 } }));
  await settleAll(c.agents);
  const problems = c.agents.get('n1')!.lastPlan!.problems;
  t.deepEqual(problems.map((p) => p.code), ['vniMismatch']);
  t.regex(problems[0]!.message, /node n2 and node n1 disagree on the VXLAN VNI \(7 on n2, 1 on n1\)/);
  t.deepEqual(routeDsts(c.lab.host('n1').ns), [], 'no route into a tunnel the peer would drop');
});

test.serial('a node whose VTEP MAC changes: peers replace its neighbour and FDB entry, no stale permanent entry', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  const node = (await c.store.get('Node', 'n2'))!;
  const old = node.metadata.annotations!['podnet.io/vtep-mac']!;
  node.metadata.annotations = { ...node.metadata.annotations, 'podnet.io/vtep-mac': '02:aa:bb:cc:dd:02' };
  await c.store.update(node);
  await settleAll(c.agents);
  const [dev] = ipJsonIn<Array<{ address: string }>>(c.lab.host('n2').ns, ['link', 'show', 'podnet.1']);
  t.is(dev!.address, '02:aa:bb:cc:dd:02', 'n2 re-created its device with the published MAC');
  for (const id of ['n1', 'n3']) {
    const fdb = JSON.parse((await c.lab.exec(id, ['bridge', '-j', 'fdb', 'show', 'dev', 'podnet.1'])).stdout) as Array<{ mac: string }>;
    t.false(fdb.some((f) => f.mac === old), `${id}: no FDB entry left for the old MAC`);
    t.true(fdb.some((f) => f.mac === '02:aa:bb:cc:dd:02'), `${id}: FDB entry for the new MAC`);
    const neigh = ipJsonIn<Array<{ dst: string; lladdr: string }>>(c.lab.host(id).ns, ['neigh', 'show', 'dev', 'podnet.1']);
    t.is(neigh.find((n) => n.dst === '10.244.2.0')?.lladdr, '02:aa:bb:cc:dd:02');
  }
  t.deepEqual(await podMatrixFailures(c), []);
});
