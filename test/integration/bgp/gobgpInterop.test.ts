import test from 'ava';
import { findTool } from '../../../src/common/systemTools.ts';
import { freePort, loopbackPair, speaker, waitFor } from './helpers/bgpTestHelpers.ts';
import { startGobgpd, type GobgpDaemon } from './helpers/peerDaemons.ts';
import type { Speaker } from '../../../src/bgp/speaker.ts';

const have = Boolean(findTool('gobgpd') && findTool('gobgp'));
const maybe = have ? test.serial : test.skip;

interface GobgpPath { nlri: { prefix: string }; attrs: Array<{ type: number; nexthop?: string; as_paths?: Array<{ asns: number[] }> }>; stale?: boolean }

async function gobgpRib(g: GobgpDaemon, family: 'ipv4' | 'ipv6'): Promise<Record<string, GobgpPath[]>> {
  const out = await g.cli(['global', 'rib', '-a', family, '-j']);
  return out.trim() ? JSON.parse(out) as Record<string, GobgpPath[]> : {};
}

async function setup(t: import('ava').ExecutionContext, gr = false) {
  const [ours, theirs] = loopbackPair();
  const [port, gport, api] = [await freePort(ours), await freePort(theirs), await freePort('127.0.0.1')];
  const start = (restarting = false) => startGobgpd({ restarting,
    as: 65010, routerId: theirs, listenAddress: theirs, port: gport, apiPort: api,
    peers: [{ address: ours, as: 65001, port, gracefulRestart: gr ? 30 : undefined }],
  });
  let g = start();
  t.teardown(() => g.stop());
  const s: Speaker = speaker({
    localAs: 65001, routerId: ours, listen: { address: ours, port },
    gracefulRestart: gr ? { restartTime: 30, restarting: false } : undefined,
    peers: [{ peerAddress: theirs, peerAs: 65010, peerPort: gport, localAddress: ours, holdTime: 9, nextHopV4: '192.0.2.1', nextHopsV6: ['2001:db8::1'] }],
    // gobgpd refuses loopback next hops ("invalid nexthop address"), so announce a TEST-NET-1 one.
  });
  t.teardown(() => s.stop());
  const kernel = new Map<string, string[]>();
  s.on('kernel', (ch) => { for (const c of ch) c.route ? kernel.set(c.prefix, c.route.nextHops) : kernel.delete(c.prefix); });
  await s.start();
  const peer = () => s.peers.get(theirs)!;
  await waitFor(`session with gobgpd (${g.log()})`, () => peer().session.state === 'Established');
  return { s, g: () => g, restart: async () => { await g.stop(); g = start(true); }, kernel, ours, theirs, peer };
}

maybe('gobgpd: session, IPv4 and IPv6 both ways, withdraw, route refresh', async (t) => {
  const { s, g, kernel, ours, theirs, peer } = await setup(t);
  t.true(peer().session.negotiated?.fourOctetAs);
  t.deepEqual(peer().session.negotiated?.families, [1, 2]);

  s.setLocalRoutes([{ prefix: '10.244.1.0/24', communities: [65001 * 65536 + 7] }, { prefix: 'fd00:1::/64' }]);
  const v4 = await waitFor('IPv4 route at gobgpd', async () => (await gobgpRib(g(), 'ipv4'))['10.244.1.0/24']);
  t.is(v4[0]!.attrs.find((a) => a.type === 3)?.nexthop, '192.0.2.1');
  t.deepEqual(v4[0]!.attrs.find((a) => a.type === 2)?.as_paths?.[0]?.asns, [65001]);
  const v6 = await waitFor('IPv6 route at gobgpd', async () => (await gobgpRib(g(), 'ipv6'))['fd00:1::/64']);
  t.is(v6[0]!.attrs.find((a) => a.type === 14)?.nexthop, '2001:db8::1');

  await g().cli(['global', 'rib', 'add', '10.55.0.0/24', '-a', 'ipv4', 'community', '65010:9']);
  await g().cli(['global', 'rib', 'add', 'fd55::/64', 'nexthop', '2001:db8::2', '-a', 'ipv6']);
  await waitFor('gobgpd routes at our speaker', () => kernel.has('10.55.0.0/24') && kernel.has('fd55::/64'));
  t.deepEqual(kernel.get('10.55.0.0/24'), [theirs]);
  t.deepEqual(kernel.get('fd55::/64'), ['2001:db8::2']);
  t.deepEqual(s.rib.loc.get('10.55.0.0/24')!.best.attrs.communities, [65010 * 65536 + 9]);

  await g().cli(['global', 'rib', 'del', '10.55.0.0/24', '-a', 'ipv4']);
  await waitFor('withdraw from gobgpd', () => !kernel.has('10.55.0.0/24'));
  s.setLocalRoutes([{ prefix: 'fd00:1::/64' }]);
  await waitFor('withdraw at gobgpd', async () => !(await gobgpRib(g(), 'ipv4'))['10.244.1.0/24']);

  // Route refresh (RFC 2918): gobgpd counts our request and re-sends its table. (gobgp's CLI has no command
  // that makes gobgpd send one to us; the BIRD test covers that direction with `birdc reload in`.)
  let updates = 0;
  peer().session.on('update', () => { updates++; });
  t.true(s.requestRefresh(theirs));
  await waitFor('gobgpd received ROUTE-REFRESH', async () => (JSON.parse(await g().cli(['neighbor', ours, '-j'])).state.messages.received.refresh ?? 0) >= 2);
  await waitFor('re-sent routes after ROUTE-REFRESH', () => updates > 0);
});

maybe('gobgpd: graceful restart in both directions', async (t) => {
  const { s, g, kernel, ours, restart, peer } = await setup(t, true);
  t.truthy(peer().session.negotiated?.peerGracefulRestart);
  s.setLocalRoutes([{ prefix: '10.244.1.0/24' }]);
  await g().cli(['global', 'rib', 'add', '10.55.0.0/24', '-a', 'ipv4']);
  await g().cli(['global', 'rib', 'add', '10.56.0.0/24', '-a', 'ipv4']);
  await waitFor('routes learned', () => kernel.size === 2);
  await waitFor('our route at gobgpd', async () => (await gobgpRib(g(), 'ipv4'))['10.244.1.0/24']);

  // gobgpd dies: we keep its routes stale.
  await restart();
  await waitFor('session lost', () => peer().session.state !== 'Established' || s.rib.loc.get('10.55.0.0/24')?.best.stale);
  t.true(kernel.has('10.55.0.0/24'), 'route kept while the peer restarts');
  t.true(s.rib.loc.get('10.55.0.0/24')?.best.stale, 'and marked stale');
  await waitFor('session back', () => peer().session.state === 'Established');
  await g().cli(['global', 'rib', 'add', '10.55.0.0/24', '-a', 'ipv4']);
  // After gobgpd's End-of-RIB the route it did not re-announce is gone, the other stays and is fresh.
  await waitFor('stale swept after EoR', () => kernel.size === 1 && kernel.has('10.55.0.0/24') && !s.rib.loc.get('10.55.0.0/24')!.best.stale, 40_000);

  // We "restart" (close without NOTIFICATION): gobgpd keeps our route, marked stale.
  await s.stop({ notify: false });
  const kept = await waitFor('gobgpd sees us down', async () => {
    const n = JSON.parse(await g().cli(['neighbor', ours, '-j']));
    return n.state.session_state !== 6 && n.state.session_state !== 'established' ? await gobgpRib(g(), 'ipv4') : undefined;
  });
  t.truthy(kept['10.244.1.0/24'], 'gobgpd keeps our route during our restart');
  t.true(kept['10.244.1.0/24']![0]!.stale ?? false);
});
