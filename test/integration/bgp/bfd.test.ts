import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { BfdManager, attachToSpeaker } from '../../../src/bgp/bfdManager.ts';
import { freePort, loopbackPair, speaker, waitFor } from './helpers/bgpTestHelpers.ts';
import type { DownInfo } from '../../../src/bgp/session.ts';

async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('two BFD instances come Up; AdminDown from one takes the other Down', async (t) => {
  const [a, b] = loopbackPair();
  const port = await freeUdpPort(a);
  const A = new BfdManager({ localAddress: a, port });
  const B = new BfdManager({ localAddress: b, port });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  await A.start(); await B.start();
  const timers = { minTxMs: 50, minRxMs: 50, detectMult: 3 };
  await A.addPeer(b, timers, port); await B.addPeer(a, timers, port);
  await waitFor('both Up', () => A.state(b) === 'Up' && B.state(a) === 'Up');
  const events: Array<[string, string, number]> = [];
  B.on('state', (_p, from, to, diag) => events.push([from, to, diag]));
  A.removePeer(b);
  await waitFor('B Down', () => B.state(a) === 'Down');
  t.deepEqual(events[0], ['Up', 'Down', 3]);
});

/**
 * A speaker in a child process (address a, announcing `prefix`, BFD at 100 ms × 3) peered with speaker B in this
 * process, BFD attached to B; resolves once B has the route and BFD is Up.
 */
async function childPeerWithBfd(t: ExecutionContext, prefix: string) {
  const [a, b] = loopbackPair();
  const port = await freePort(a);
  const bfdPort = await freeUdpPort(a);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/speakerProcess.ts', import.meta.url)), JSON.stringify({
    speaker: { localAs: 65001, routerId: a, listen: { address: a, port }, connectRetryMs: 200, gracefulRestart: { restartTime: 60, restarting: false },
      peers: [{ peerAddress: b, peerAs: 65002, peerPort: port, localAddress: a, holdTime: 30 }] },
    routes: [{ prefix }],
    bfd: { port: bfdPort, peer: b, minTxMs: 100 },
  })], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  const B = speaker({ localAs: 65002, routerId: b, listen: { address: b, port }, gracefulRestart: { restartTime: 60, restarting: false },
    peers: [{ peerAddress: a, peerAs: 65001, peerPort: port, localAddress: b, holdTime: 30 }] });
  const bfd = new BfdManager({ localAddress: b, port: bfdPort });
  t.teardown(async () => { await B.stop(); await bfd.stop(); });
  attachToSpeaker(bfd, B);
  const downs: DownInfo[] = [];
  B.peers.get(a)!.session.on('down', (d) => downs.push(d));
  await B.start(); await bfd.start();
  await bfd.addPeer(a, { minTxMs: 100, minRxMs: 100, detectMult: 3 }, bfdPort);
  await waitFor('route learned and BFD Up', () => B.rib.loc.has(prefix) && bfd.state(a) === 'Up', 30_000);
  return { a, B, bfd, child, downs };
}

test('a frozen peer (no FIN, no packets) loses its BGP routes through BFD, not the hold timer', async (t) => {
  const { B, child, downs } = await childPeerWithBfd(t, '10.244.7.0/24');

  child.kill('SIGSTOP'); // the node hangs: TCP stays open, BGP hold time is 30 s, graceful restart would keep routes
  await waitFor('route withdrawn', () => !B.rib.loc.has('10.244.7.0/24'), 20_000);
  t.is(downs[0]?.reason, 'BFD session down');
  t.false(downs[0]?.graceful, 'no graceful restart when the forwarding path is dead');
  child.kill('SIGKILL');
});

test('a killed peer whose FIN and BFD expiry reach a busy speaker in one turn keeps its routes (graceful restart, not BFD)', async (t) => {
  const { a, B, bfd, child, downs } = await childPeerWithBfd(t, '10.244.8.0/24');

  // podnetd killed (-9) while this node is busy: its kernel sends the FIN at once, BFD falls silent, and both
  // the FIN and the expired detection timer wait for our loop. The FIN says the process died, not the path.
  child.kill('SIGKILL');
  const until = Date.now() + 1500;
  while (Date.now() < until) { /* a busy node: longer than the 300 ms detection time */ }
  await waitFor('BFD Down', () => bfd.state(a) === 'Down', 10_000);
  await new Promise((r) => setTimeout(r, 300));
  t.is(downs[0]?.reason, 'TCP connection closed');
  t.true(downs[0]?.graceful, 'graceful restart keeps the routes');
  t.true(B.rib.loc.has('10.244.8.0/24'), 'the route stays, stale, for the restart time');
});
