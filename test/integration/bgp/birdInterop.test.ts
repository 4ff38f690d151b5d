import test from 'ava';
import { findTool } from '../../../src/common/systemTools.ts';
import { freePort, loopbackPair, speaker, waitFor } from './helpers/bgpTestHelpers.ts';
import { startBird, type BirdDaemon } from './helpers/peerDaemons.ts';

const have = Boolean(findTool('bird') && findTool('birdc'));
const maybe = have ? test.serial : test.skip;

/** Prefixes in BIRD's table learned from protocol `podnet` (BIRD shows them unreachable: it has no IGP here). */
async function birdLearned(b: BirdDaemon): Promise<string[]> {
  const out = await b.birdc(['show', 'route', 'protocol', 'podnet']);
  return out.split('\n').map((l) => /^([0-9a-f:.]+\/\d+)\s/.exec(l)?.[1]).filter((p): p is string => !!p).sort();
}

async function setup(t: import('ava').ExecutionContext) {
  const [ours, theirs] = loopbackPair();
  const [port, bport] = [await freePort(ours), await freePort(theirs)];
  const start = (recovery = false) => startBird({ recovery,
    as: 65020, routerId: theirs, listenAddress: theirs, port: bport, nextHopV6: '2001:db8::2',
    peers: [{ name: 'podnet', address: ours, as: 65001, port, gracefulRestart: 30 }],
    staticV4: ['10.66.0.0/24', '10.67.0.0/24'], staticV6: ['fd66::/64'],
  });
  let b = start();
  t.teardown(() => b.stop());
  const s = speaker({
    localAs: 65001, routerId: ours, listen: { address: ours, port }, gracefulRestart: { restartTime: 30, restarting: false },
    peers: [{ peerAddress: theirs, peerAs: 65020, peerPort: bport, localAddress: ours, holdTime: 9, nextHopsV6: ['2001:db8::1'] }],
  });
  t.teardown(() => s.stop());
  const kernel = new Map<string, string[]>();
  s.on('kernel', (ch) => { for (const c of ch) c.route ? kernel.set(c.prefix, c.route.nextHops) : kernel.delete(c.prefix); });
  await s.start();
  const peer = () => s.peers.get(theirs)!;
  await waitFor(`session with BIRD (${b.log()})`, () => peer().session.state === 'Established');
  return { s, b: () => b, restart: async () => { await b.stop(); b = start(true); }, kernel, ours, theirs, peer };
}

maybe('BIRD: session, IPv4 and IPv6 both ways, withdraw, route refresh from BIRD', async (t) => {
  const { s, b, kernel, theirs, peer } = await setup(t);
  t.truthy(peer().session.negotiated?.peerGracefulRestart);
  s.setLocalRoutes([{ prefix: '10.244.1.0/24' }, { prefix: 'fd00:1::/64' }]);
  await waitFor('our routes in BIRD', async () => (await birdLearned(b())).length === 2);
  t.deepEqual(await birdLearned(b()), ['10.244.1.0/24', 'fd00:1::/64']);
  const detail = await b().birdc(['show', 'route', 'all', '10.244.1.0/24']);
  t.regex(detail, /BGP\.as_path: 65001/);

  await waitFor('BIRD routes at our speaker', () => kernel.size === 3);
  t.deepEqual(kernel.get('10.66.0.0/24'), [theirs]);
  t.deepEqual(kernel.get('fd66::/64'), ['2001:db8::2']);

  await b().birdc(['disable', 'static4']);
  await waitFor('BIRD withdrew its IPv4 routes', () => kernel.size === 1 && kernel.has('fd66::/64'));
  s.setLocalRoutes([{ prefix: 'fd00:1::/64' }]);
  await waitFor('our withdraw reached BIRD', async () => (await birdLearned(b())).length === 1);

  let refreshes = 0;
  peer().session.on('routeRefresh', () => { refreshes++; });
  await b().birdc(['reload', 'in', 'podnet']);
  await waitFor('ROUTE-REFRESH from BIRD answered', () => refreshes > 0);
  t.deepEqual(await birdLearned(b()), ['fd00:1::/64']);
});

maybe('BIRD: graceful restart both ways', async (t) => {
  const { s, b, kernel, restart, peer } = await setup(t);
  s.setLocalRoutes([{ prefix: '10.244.1.0/24' }]);
  await waitFor('routes both ways', async () => kernel.size === 3 && (await birdLearned(b())).length === 1);
  await restart(); // BIRD killed -9 and started again
  await waitFor('session lost or routes stale', () => s.rib.loc.get('10.66.0.0/24')?.best.stale || peer().session.state !== 'Established');
  t.is(kernel.size, 3, 'BIRD routes kept during its restart');
  await waitFor('BIRD back, EoR clears stale marks', () => peer().session.state === 'Established' && !s.rib.loc.get('10.66.0.0/24')?.best.stale, 40_000);
  t.is(kernel.size, 3);

  await s.stop({ notify: false });
  await waitFor('BIRD sees us go', async () => !/Established/.test(await b().birdc(['show', 'protocols', 'podnet'])));
  const kept = await b().birdc(['show', 'route', 'all', '10.244.1.0/24']);
  t.regex(kept, /10\.244\.1\.0\/24/, 'BIRD keeps our route while we restart');
});
