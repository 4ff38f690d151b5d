/**
 * Our speaker as a route reflector (RFC 4456) for real clients: two gobgpd route-reflector clients, BIRD 2 as a
 * third client and one gobgpd non-client, all iBGP in AS 64512, on loopback addresses inside a namespace made here. A client's IPv4 and IPv6
 * routes reach the other client and the non-client with the originator's next hop, ORIGINATOR_ID and our
 * CLUSTER_ID in CLUSTER_LIST; the non-client's route reaches the clients; nothing comes back to its originator.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findTool } from '../../../src/common/systemTools.ts';
import { makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import { startBird, startGobgpd, type GobgpDaemon } from '../../integration/bgp/helpers/peerDaemons.ts';
import { gobgpRib, type GobgpPath } from '../../integration/bgp/helpers/peerRib.ts';

const prefix = uniquePrefix('bgq');
let snapshot: ReturnType<typeof rootSnapshot>;
test.before(() => { snapshot = rootSnapshot(prefix); });
test.after.always('nothing left behind in the root namespace', (t) => { t.deepEqual(snapshot.leaks(), []); });

const maybe = findTool('gobgpd') && findTool('bird') ? test.serial : test.serial.skip;
const RR = '127.0.0.1', A = '127.0.0.2', B = '127.0.0.3', C = '127.0.0.4', D = '127.0.0.5';

type Attr = { type: number; nexthop?: string; value?: unknown };
const attr = (p: GobgpPath, type: number) => (p.attrs as Attr[]).find((a) => a.type === type);

maybe('route reflector: clients and a non-client exchange routes through us with RFC 4456 attributes', async (t) => {
  const ns = makeNetns(t, prefix, 'rr');
  const gobgp = (routerId: string, apiPort: number): GobgpDaemon => {
    const d = startGobgpd({ as: 64512, routerId, listenAddress: routerId, port: 179, apiPort, netns: ns, peers: [{ address: RR, as: 64512, port: 179 }] });
    t.teardown(() => d.stop());
    return d;
  };
  const [a, b, c] = [gobgp(A, 50061), gobgp(B, 50062), gobgp(C, 50063)];
  const bird = startBird({ as: 64512, routerId: D, listenAddress: D, port: 179, netns: ns, peers: [{ name: 'reflector', address: RR, as: 64512, port: 179 }] });
  t.teardown(() => bird.stop());
  const ours = spawn(findTool('ip')!, ['netns', 'exec', ns, process.execPath, '--import', 'tsx',
    fileURLToPath(new URL('../../integration/bgp/helpers/speakerProcess.ts', import.meta.url)), JSON.stringify({
      speaker: {
        localAs: 64512, routerId: RR, listen: { address: RR, port: 179 }, connectRetryMs: 200, routeReflector: { clusterId: '10.0.0.1' },
        peers: [A, B, C, D].map((addr) => ({ peerAddress: addr, peerAs: 64512, localAddress: RR, nextHopV4: '192.0.2.1', nextHopsV6: ['fd00::1'], routeReflectorClient: addr !== C })),
      },
      routes: [{ prefix: '10.99.0.0/24' }],
    })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  ours.stdout.on('data', (d: Buffer) => { log += d.toString(); });
  ours.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  t.teardown(() => { ours.kill('SIGKILL'); });

  // Next hops outside 127/8: gobgpd refuses a reflected loopback next hop other than its peer's ("invalid nexthop").
  await a.cli(['global', 'rib', 'add', '10.1.0.0/24', 'nexthop', '192.0.2.2', '-a', 'ipv4']);
  await a.cli(['global', 'rib', 'add', 'fd01::/64', 'nexthop', '2001:db8::2', '-a', 'ipv6']);
  await c.cli(['global', 'rib', 'add', '10.3.0.0/24', 'nexthop', '192.0.2.4', '-a', 'ipv4']);
  const path = async (d: GobgpDaemon, family: 'ipv4' | 'ipv6', p: string) => (await gobgpRib(d, family))[p]?.[0];
  for (const [who, d] of [['B', b], ['C', c]] as const) {
    const p = await waitFor(`${who} learns A's 10.1.0.0/24`, () => path(d, 'ipv4', '10.1.0.0/24'), 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\nspeaker: ${log.slice(-1500)}\n${who}: ${await d.cli(['neighbor'])}\n${d.log().slice(-1500)}`);
    });
    t.is(attr(p, 3)?.nexthop, '192.0.2.2', `${who}: the originator's next hop, not the reflector's`);
    t.is(attr(p, 9)?.value, A, `${who}: ORIGINATOR_ID is A`);
    t.deepEqual(attr(p, 10)?.value, ['10.0.0.1'], `${who}: CLUSTER_LIST holds our cluster id`);
  }
  const inBird = await waitFor('BIRD (a client) learns A\'s 10.1.0.0/24', async () => {
    const out = await bird.birdc(['show', 'route', 'for', '10.1.0.0/24', 'all']);
    return /BGP\.cluster_list/.test(out) ? out : false;
  }, 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await bird.birdc(['show', 'route', 'all'])}\n${await bird.birdc(['show', 'protocols', 'all', 'reflector'])}\n${bird.log().slice(-1000)}`);
  });
  t.regex(inBird, /BGP\.originator_id:\s+127\.0\.0\.2/, 'BIRD sees A as the originator');
  t.regex(inBird, /BGP\.cluster_list:\s+10\.0\.0\.1/, 'and our cluster id');
  t.regex(inBird, /BGP\.next_hop:\s+192\.0\.2\.2/, 'and A\'s next hop');
  const v6 = await waitFor('B learns A\'s fd01::/64', () => path(b, 'ipv6', 'fd01::/64'), 30_000);
  t.true(JSON.stringify(v6.attrs).includes('2001:db8::2'), `IPv6 next hop kept: ${JSON.stringify(v6.attrs)}`);
  for (const [who, d] of [['A', a], ['B', b]] as const) {
    const fromC = await waitFor(`${who} learns the non-client C's 10.3.0.0/24`, () => path(d, 'ipv4', '10.3.0.0/24'), 30_000);
    t.is(attr(fromC, 3)?.nexthop, '192.0.2.4');
    t.is(attr(fromC, 9)?.value, C);
    await waitFor(`${who} learns the reflector's own 10.99.0.0/24`, () => path(d, 'ipv4', '10.99.0.0/24'), 30_000);
  }
  const aRib = await gobgpRib(a, 'ipv4');
  t.true((aRib['10.1.0.0/24'] ?? []).every((p) => p['neighbor-ip'] !== RR), 'A\'s own route is not reflected back to A');
  const cRib = await gobgpRib(c, 'ipv4');
  t.true((cRib['10.3.0.0/24'] ?? []).every((p) => p['neighbor-ip'] !== RR), 'nor C\'s to C');
});
