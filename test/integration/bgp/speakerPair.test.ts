import test from 'ava';
import { freePort, loopbackPair, speaker, waitFor } from './helpers/bgpTestHelpers.ts';
import type { Speaker } from '../../../src/bgp/speaker.ts';
import type { KernelChange } from '../../../src/bgp/speaker.ts';
import { nativeSocketHooks } from '../../../src/bgp/nativeSocketHooks.ts';
import { BgpMetrics } from '../../../src/bgp/bgpMetrics.ts';

/** Two of our speakers on loopback: A (AS 65001) and B (AS 65002), both listening on the same port number. */
async function pair(t: import('ava').ExecutionContext, opts: { gr?: boolean; passiveB?: boolean } = {}) {
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  const gr = opts.gr ? { restartTime: 30, restarting: false } : undefined;
  const mk = (me: string, them: string, as: number, peerAs: number, passive = false) => speaker({
    localAs: as, routerId: me, listen: { address: me, port }, gracefulRestart: gr,
    peers: [{ peerAddress: them, peerAs, peerPort: port, localAddress: me, passive, holdTime: 9, nextHopsV6: ['2001:db8::' + me.split('.')[3]] }],
  });
  const A = mk(a, b, 65001, 65002);
  const B = mk(b, a, 65002, 65001, opts.passiveB);
  const kernelB = new Map<string, string[]>();
  B.on('kernel', (ch: KernelChange[]) => { for (const c of ch) c.route ? kernelB.set(c.prefix, c.route.nextHops) : kernelB.delete(c.prefix); });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  return { A, B, a, b, port, kernelB, mk };
}

const established = (s: Speaker) => [...s.peers.values()].every((p) => p.session.state === 'Established');

test('two speakers establish, exchange IPv4 and IPv6 routes, and withdraw', async (t) => {
  const { A, B, a, kernelB } = await pair(t);
  await A.start(); await B.start();
  await waitFor('sessions up', () => established(A) && established(B));
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }, { prefix: 'fd00:1::/64' }]);
  await waitFor('routes at B', () => kernelB.size === 2);
  t.deepEqual(kernelB.get('10.244.1.0/24'), [a]);
  t.deepEqual(kernelB.get('fd00:1::/64'), ['2001:db8::1']);
  const best = B.rib.loc.get('10.244.1.0/24')!.best;
  t.deepEqual(best.attrs.asPath, [{ type: 2, asns: [65001] }]);
  A.setLocalRoutes([{ prefix: 'fd00:1::/64' }]);
  await waitFor('IPv4 withdrawn at B', () => !kernelB.has('10.244.1.0/24'));
  t.true(kernelB.has('fd00:1::/64'));
  t.like(B.status()[0], { state: 'Established', received: 1, peerAs: 65001 });
});

test('connection collision: both sides connect at once and keep the same single connection (RFC 4271 6.8)', async (t) => {
  for (let round = 0; round < 3; round++) {
    const { A, B, a, b } = await pair(t);
    await Promise.all([A.start(), B.start()]);
    await waitFor('sessions up', () => established(A) && established(B));
    const ca = A.peers.get(b)!.session.connection!;
    const cb = B.peers.get(a)!.session.connection!;
    t.is(ca.localPort, cb.remotePort);
    t.is(ca.remotePort, cb.localPort);
    // The connection opened by the higher BGP identifier (B, x.x.x.2) survives.
    t.is(cb.direction, 'outgoing');
    await A.stop(); await B.stop();
  }
});

test('a passive side waits for the active one', async (t) => {
  const { A, B } = await pair(t, { passiveB: true });
  await B.start(); await A.start();
  await waitFor('sessions up (passive B)', () => established(A) && established(B));
  t.pass();
});

test('graceful restart: a peer that vanishes without NOTIFICATION keeps its routes stale until EoR', async (t) => {
  const { A, B, kernelB, mk, a, b } = await pair(t, { gr: true });
  await A.start(); await B.start();
  await waitFor('up', () => established(A) && established(B));
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }, { prefix: '10.244.2.0/24' }]);
  await waitFor('routes at B', () => kernelB.size === 2);
  await A.stop({ notify: false }); // what a killed or restarting podnetd looks like
  await waitFor('B sees A down', () => !established(B));
  t.true(B.rib.loc.get('10.244.1.0/24')?.best.stale, 'route kept, marked stale');
  t.is(kernelB.size, 2, 'kernel routes not removed during the restart');
  // A comes back (restarting, forwarding kept) announcing only one of the two prefixes.
  const A2 = mk(a, b, 65001, 65002);
  A2.config.gracefulRestart = { restartTime: 30, restarting: true };
  t.teardown(() => A2.stop());
  A2.setLocalRoutes([{ prefix: '10.244.1.0/24' }]);
  await A2.start();
  await waitFor('stale route swept after EoR', () => kernelB.size === 1 && !B.rib.loc.get('10.244.1.0/24')?.best.stale);
  t.true(kernelB.has('10.244.1.0/24'));
});

test('without graceful restart a closed session withdraws the routes at once', async (t) => {
  const { A, B, kernelB } = await pair(t);
  await A.start(); await B.start();
  await waitFor('up', () => established(A) && established(B));
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }]);
  await waitFor('route at B', () => kernelB.size === 1);
  await A.stop({ notify: true });
  await waitFor('route gone at B', () => kernelB.size === 0);
  t.pass();
});


const native = nativeSocketHooks();
const withAddon = native.missing ? test.skip : test;

withAddon('TCP MD5 (RFC 2385): matching keys establish, a wrong key never gets past TCP', async (t) => {
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  const mk = (me: string, them: string, as: number, peerAs: number, key: string) => speaker({
    localAs: as, routerId: me, listen: { address: me, port }, hooks: native.hooks,
    peers: [{ peerAddress: them, peerAs, peerPort: port, localAddress: me, holdTime: 9, md5Password: key }],
  });
  const A = mk(a, b, 65001, 65002, 'podnet-secret');
  const B = mk(b, a, 65002, 65001, 'podnet-secret');
  t.teardown(async () => { await A.stop(); await B.stop(); });
  await A.start(); await B.start();
  await waitFor('MD5 session up', () => established(A) && established(B));

  await A.stop(); await B.stop();
  const A2 = mk(a, b, 65001, 65002, 'podnet-secret');
  const B2 = mk(b, a, 65002, 65001, 'another-key');
  t.teardown(async () => { await A2.stop(); await B2.stop(); });
  let attempts = 0;
  for (const s of [A2, B2]) for (const p of s.peers.values()) p.session.on('state', (_f, to) => { if (to === 'Connect') attempts++; });
  await A2.start(); await B2.start();
  await waitFor('several connection attempts', () => attempts >= 4, 60_000);
  t.false(established(A2) || established(B2));
});

test('import policy: rejected prefixes never reach the RIB, accepted ones get the policy LOCAL_PREF', async (t) => {
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  const A = speaker({ localAs: 65001, routerId: a, listen: { address: a, port }, peers: [{ peerAddress: b, peerAs: 65002, peerPort: port, localAddress: a }] });
  const B = speaker({
    localAs: 65002, routerId: b, listen: { address: b, port },
    peers: [{
      peerAddress: a, peerAs: 65001, peerPort: port, localAddress: b,
      importPolicy: { rules: [{ prefixes: [{ prefix: '10.244.0.0/16', le: 24 }], action: 'accept', set: { localPref: 250 } }], default: 'reject' },
    }],
  });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  await A.start(); await B.start();
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }, { prefix: '192.168.7.0/24' }, { prefix: '10.244.9.128/25' }]);
  await waitFor('accepted route at B', () => B.rib.loc.has('10.244.1.0/24'));
  await waitFor('A has sent everything', () => A.status()[0]!.advertised === 3);
  t.deepEqual([...B.rib.loc.keys()].sort(), ['10.244.1.0/24']);
  t.is(B.rib.loc.get('10.244.1.0/24')!.best.attrs.localPref, 250);
});

test('setPeers: a peer added at runtime comes up; a removed one is told and its routes go', async (t) => {
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  const A = speaker({ localAs: 65001, routerId: a, listen: { address: a, port }, peers: [] });
  const B = speaker({ localAs: 65002, routerId: b, listen: { address: b, port }, peers: [{ peerAddress: a, peerAs: 65001, peerPort: port, localAddress: b }] });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  await A.start(); await B.start();
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }]);
  A.setPeers([{ peerAddress: b, peerAs: 65002, peerPort: port, localAddress: a }]);
  await waitFor('route at B after the peer was added', () => B.rib.loc.has('10.244.1.0/24'));
  const downs: string[] = [];
  B.peers.get(a)!.session.on('down', (d) => downs.push(d.reason));
  A.setPeers([]);
  await waitFor('route gone at B', () => !B.rib.loc.has('10.244.1.0/24'));
  t.regex(downs[0]!, /Cease \/ Peer De-configured/);
  t.is(A.peers.size, 0);
});


test('metrics: per-peer state, prefixes received and advertised, session losses', async (t) => {
  const { A, B, a } = await pair(t);
  const m = new BgpMetrics();
  m.observe(B);
  await A.start(); await B.start();
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }, { prefix: '10.244.2.0/24' }]);
  B.setLocalRoutes([{ prefix: '10.244.3.0/24' }]);
  await waitFor('routes at B', () => B.rib.countFrom(a) === 2 && B.status()[0]!.advertised === 1);
  const text = await m.metrics();
  t.regex(text, new RegExp(`podnet_bgp_session_state\\{peer="${a.replace(/\./g, '\\.')}",state="Established"\\} 1`));
  t.regex(text, new RegExp(`podnet_bgp_prefixes_received\\{peer="${a.replace(/\./g, '\\.')}"\\} 2`));
  t.regex(text, new RegExp(`podnet_bgp_prefixes_advertised\\{peer="${a.replace(/\./g, '\\.')}"\\} 1`));
  await A.stop();
  const lost = await waitFor('B sees the loss', async () => /podnet_bgp_session_down_total\{[^}]*graceful="false"\} 1/.test(await m.metrics()));
  t.true(lost);
});

test('converged: emitted once every peer has sent End-of-RIB, after its routes', async (t) => {
  const { A, B, kernelB } = await pair(t);
  A.setLocalRoutes([{ prefix: '10.244.1.0/24' }, { prefix: 'fd00:1::/64' }]);
  const seenAtConverge: number[] = [];
  B.on('converged', () => seenAtConverge.push(kernelB.size));
  await A.start(); await B.start();
  await waitFor('B converged', () => seenAtConverge.length === 1);
  t.deepEqual(seenAtConverge, [2], 'both routes were known when B declared convergence');
});

withAddon('TCP MD5: a peer configured after start (setPeers) gets its key on the listener too', async (t) => {
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  // A only listens (passive): B's connection must pass A's listener, whose key for B arrives with setPeers.
  const A = speaker({ localAs: 65001, routerId: a, listen: { address: a, port }, hooks: native.hooks, peers: [] });
  const B = speaker({ localAs: 65002, routerId: b, listen: { address: b, port }, hooks: native.hooks, peers: [{ peerAddress: a, peerAs: 65001, peerPort: port, localAddress: b, holdTime: 9, md5Password: 'late-key' }] });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  await A.start(); await B.start();
  A.setPeers([{ peerAddress: b, peerAs: 65002, peerPort: port, localAddress: a, holdTime: 9, passive: true, md5Password: 'late-key' }]);
  await waitFor('MD5 session up through the listener', () => established(A) && established(B), 30_000);
  t.pass();
});
