/**
 * Learned routes reach a real kernel: a speaker learns prefixes from another over loopback and the applier
 * installs them with netlink in a namespace made here (proto 159, ECMP as multipath), then removes them on
 * withdraw. Checked with `ip -j route show` (an independent reader).
 */
import test from 'ava';
import { Rtnetlink } from '../../../src/netlink/index.ts';
import { KernelApplier, BGP_ROUTE_PROTO } from '../../../src/bgp/kernelApplier.ts';
import { ip, ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { freePort, loopbackPair, speaker, waitFor } from '../../integration/bgp/helpers/bgpTestHelpers.ts';

const prefix = uniquePrefix('bgk');
let snapshot: ReturnType<typeof rootSnapshot>;
test.before(() => { snapshot = rootSnapshot(prefix); });
test.after.always('nothing left behind in the root namespace', (t) => { t.deepEqual(snapshot.leaks(), []); });

interface IpRoute { dst: string; gateway?: string; protocol: string | number; nexthops?: Array<{ gateway: string }> }

function fabric(t: import('ava').ExecutionContext, name: string) {
  const ns = makeNetns(t, prefix, name);
  ip(['-n', ns, 'link', 'add', 'fab0', 'type', 'veth', 'peer', 'name', 'fab1']);
  ip(['-n', ns, 'addr', 'add', '198.18.5.1/24', 'dev', 'fab0']);
  ip(['-n', ns, 'link', 'set', 'fab0', 'up']);
  ip(['-n', ns, 'link', 'set', 'fab1', 'up']);
  return ns;
}

const ours = (ns: string) => ipJsonIn<IpRoute[]>(ns, ['route', 'show', 'proto', String(BGP_ROUTE_PROTO)]);

test('applier: single next hop, ECMP multipath, removal, and resync that adopts and prunes', async (t) => {
  const ns = fabric(t, 'ka');
  const nl = await Rtnetlink.open({ netns: ns });
  t.teardown(() => nl.close());
  const applier = new KernelApplier(nl.routes);
  const r1 = await applier.apply([
    { prefix: '10.50.0.0/24', route: { prefix: '10.50.0.0/24', nextHops: ['198.18.5.2'] } },
    { prefix: '10.51.0.0/24', route: { prefix: '10.51.0.0/24', nextHops: ['198.18.5.2', '198.18.5.3'] } },
  ]);
  t.like(r1, { installed: 2, failed: [] });
  const routes = ours(ns);
  t.is(routes.find((r) => r.dst === '10.50.0.0/24')?.gateway, '198.18.5.2');
  t.deepEqual(routes.find((r) => r.dst === '10.51.0.0/24')?.nexthops?.map((h) => h.gateway), ['198.18.5.2', '198.18.5.3']);
  ip(['-n', ns, 'route', 'add', '10.99.0.0/24', 'via', '198.18.5.9']); // someone else's route: must survive
  const r2 = await applier.resync([{ prefix: '10.51.0.0/24', nextHops: ['198.18.5.3'] }]);
  t.like(r2, { installed: 1, removed: 1, failed: [] });
  t.deepEqual(ours(ns).map((r) => [r.dst, r.gateway]), [['10.51.0.0/24', '198.18.5.3']]);
  t.true(ipJsonIn<IpRoute[]>(ns, ['route', 'show']).some((r) => r.dst === '10.99.0.0/24'));
});

test('speaker → applier: learned routes appear in the kernel and go on withdraw', async (t) => {
  const ns = fabric(t, 'kb');
  const nl = await Rtnetlink.open({ netns: ns });
  t.teardown(() => nl.close());
  const applier = new KernelApplier(nl.routes);
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  const A = speaker({ localAs: 65001, routerId: a, listen: { address: a, port }, peers: [{ peerAddress: b, peerAs: 65002, peerPort: port, localAddress: a, nextHopV4: '198.18.5.2' }] });
  const B = speaker({ localAs: 65002, routerId: b, listen: { address: b, port }, peers: [{ peerAddress: a, peerAs: 65001, peerPort: port, localAddress: b }] });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  const failures: string[] = [];
  B.on('kernel', (changes) => { void applier.apply(changes).then((r) => failures.push(...r.failed.map((f) => f.error))); });
  await A.start(); await B.start();
  A.setLocalRoutes(Array.from({ length: 500 }, (_, i) => ({ prefix: `10.60.${i >> 8}.${i & 255}/32` })));
  await waitFor('500 routes in the kernel', () => ours(ns).length === 500);
  t.is(ours(ns)[0]!.gateway, '198.18.5.2');
  A.setLocalRoutes([]);
  await waitFor('routes removed from the kernel', () => ours(ns).length === 0);
  t.deepEqual(failures, []);
});
