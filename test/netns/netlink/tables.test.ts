/**
 * Addresses, routes, neighbours and FDB entries written with our netlink code, read back with `ip -j` and
 * `bridge -j` (independent readers); and the reverse: what `ip` wrote, listed by our code.
 */
import test from 'ava';
import { GenericNetlink, Rtnetlink, RtnetlinkEvents, NetlinkKernelError } from '../../../src/netlink/index.ts';
import { ip, ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { execFileSync } from 'node:child_process';

const prefix = uniquePrefix('nlt');
let snapshot: ReturnType<typeof rootSnapshot>;

test.before('snapshot the root namespace', () => {
  snapshot = rootSnapshot(prefix);
});

test.after.always('nothing left behind in the root namespace', (t) => {
  t.deepEqual(snapshot.leaks(), []);
});

async function setup(t: import('ava').ExecutionContext, name: string): Promise<{ ns: string; nl: Rtnetlink }> {
  const ns = makeNetns(t, prefix, name);
  const nl = await Rtnetlink.open({ netns: ns });
  t.teardown(() => nl.close());
  await nl.links.create({ kind: 'veth', name: 'e0', peer: { name: 'e0p' }, up: true });
  await nl.links.create({ kind: 'veth', name: 'e1', peer: { name: 'e1p' }, up: true });
  await nl.links.setUp('e0p');
  await nl.links.setUp('e1p');
  return { ns, nl };
}

interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number; broadcast?: string; scope: string; label?: string; nodad?: boolean; noprefixroute?: boolean }> }

test('addresses v4 and v6: add with broadcast, scope, flags; list; delete', async (t) => {
  const { ns, nl } = await setup(t, 'ad');
  await nl.addresses.add({ dev: 'e0', address: '10.9.0.1/24', broadcast: true, label: 'e0:pod' });
  await nl.addresses.add({ dev: 'e0', address: '10.9.1.1/32', scope: 'host' });
  await nl.addresses.add({ dev: 'e0', address: 'fd00:9::1/64', flags: ['nodad', 'noprefixroute'] });
  const [e0] = ipJsonIn<IpAddr[]>(ns, ['addr', 'show', 'dev', 'e0']);
  const byLocal = new Map(e0!.addr_info.map((a) => [a.local, a]));
  t.is(byLocal.get('10.9.0.1')?.prefixlen, 24);
  t.is(byLocal.get('10.9.0.1')?.broadcast, '10.9.0.255');
  t.is(byLocal.get('10.9.0.1')?.label, 'e0:pod');
  t.is(byLocal.get('10.9.1.1')?.scope, 'host');
  t.is(byLocal.get('fd00:9::1')?.prefixlen, 64);
  t.true(byLocal.get('fd00:9::1')?.nodad);
  t.true(byLocal.get('fd00:9::1')?.noprefixroute);

  const ours = await nl.addresses.list({ dev: 'e0' });
  const v6 = ours.find((a) => a.address === 'fd00:9::1');
  t.truthy(v6);
  t.true(v6!.flags.includes('nodad') && v6!.flags.includes('noprefixroute'));
  t.is(ours.find((a) => a.address === '10.9.0.1')?.broadcast, '10.9.0.255');
  t.deepEqual((await nl.addresses.list({ dev: 'e0', family: 4 })).map((a) => `${a.address}/${a.prefixLen}`).sort(), ['10.9.0.1/24', '10.9.1.1/32']);

  await nl.addresses.delete({ dev: 'e0', address: '10.9.0.1/24' });
  await nl.addresses.delete({ dev: 'e0', address: 'fd00:9::1/64' });
  const left = ipJsonIn<IpAddr[]>(ns, ['addr', 'show', 'dev', 'e0'])[0]!.addr_info.map((a) => a.local);
  t.false(left.includes('10.9.0.1'));
  t.false(left.includes('fd00:9::1'));
  t.true(left.includes('10.9.1.1'));
  await t.throwsAsync(nl.addresses.add({ dev: 'e0', address: '10.9.1.1/32', scope: 'host' }), { instanceOf: NetlinkKernelError, code: 'EEXIST' });
});

interface IpRoute { dst: string; gateway?: string; dev?: string; protocol?: string; scope?: string; type?: string; metric?: number; flags: string[]; metrics?: Array<Record<string, number>>; nexthops?: Array<{ gateway: string; dev: string; weight: number; flags: string[] }>; table?: string; prefsrc?: string }

test('routes: gateway, onlink, table, protocol, metric, mtu metric, replace, delete (v4+v6)', async (t) => {
  const { ns, nl } = await setup(t, 'rt');
  await nl.addresses.add({ dev: 'e0', address: '10.8.0.1/24' });
  await nl.addresses.add({ dev: 'e0', address: 'fd00:8::1/64', flags: ['nodad'] });
  await nl.routes.add({ dst: '10.20.0.0/16', gateway: '10.8.0.254', dev: 'e0', protocol: 77, priority: 50, metrics: { mtu: 1400 } });
  await nl.routes.add({ dst: '10.21.0.0/24', gateway: '192.0.2.1', dev: 'e1', onlink: true });
  await nl.routes.add({ dst: '10.22.0.0/24', dev: 'e1', table: 1000 });
  await nl.routes.add({ dst: 'fd00:20::/48', gateway: 'fd00:8::fe', dev: 'e0' });
  await nl.routes.add({ dst: '10.23.0.0/24', type: 'blackhole' });

  const main = ipJsonIn<IpRoute[]>(ns, ['route', 'show']);
  const r1 = main.find((r) => r.dst === '10.20.0.0/16')!;
  t.is(r1.gateway, '10.8.0.254');
  t.is(r1.dev, 'e0');
  t.is(r1.protocol, '77');
  t.is(r1.metric, 50);
  t.deepEqual(r1.metrics, [{ mtu: 1400 }]);
  const r2 = main.find((r) => r.dst === '10.21.0.0/24')!;
  t.true(r2.flags.includes('onlink'));
  t.is(r2.gateway, '192.0.2.1');
  t.is(main.find((r) => r.dst === '10.23.0.0/24')?.type, 'blackhole');
  const t1000 = ipJsonIn<IpRoute[]>(ns, ['route', 'show', 'table', '1000']);
  t.deepEqual(t1000.map((r) => [r.dst, r.dev, r.scope]), [['10.22.0.0/24', 'e1', 'link']]);
  const v6 = ipJsonIn<IpRoute[]>(ns, ['-6', 'route', 'show']).find((r) => r.dst === 'fd00:20::/48');
  t.is(v6?.gateway, 'fd00:8::fe');

  const ours = await nl.routes.list({ family: 4 });
  const o1 = ours.find((r) => r.dst === '10.20.0.0/16')!;
  t.is(o1.protocol, 77);
  t.is(o1.metrics?.mtu, 1400);
  t.is(o1.dev, await nl.links.index('e0'));
  t.true(ours.find((r) => r.dst === '10.21.0.0/24')!.onlink);
  t.deepEqual((await nl.routes.list({ table: 1000 })).map((r) => r.dst), ['10.22.0.0/24']);
  t.truthy((await nl.routes.list({ family: 6 })).find((r) => r.dst === 'fd00:20::/48' && r.gateway === 'fd00:8::fe'));

  await nl.routes.replace({ dst: '10.20.0.0/16', gateway: '10.8.0.253', dev: 'e0', protocol: 77, priority: 50 });
  t.is(ipJsonIn<IpRoute[]>(ns, ['route', 'show', '10.20.0.0/16'])[0]?.gateway, '10.8.0.253');
  await t.throwsAsync(nl.routes.add({ dst: '10.20.0.0/16', gateway: '10.8.0.253', dev: 'e0', protocol: 77, priority: 50 }), { code: 'EEXIST' });
  await nl.routes.delete({ dst: '10.20.0.0/16', priority: 50 });
  await nl.routes.delete({ dst: '10.22.0.0/24', table: 1000 });
  await nl.routes.delete({ dst: 'fd00:20::/48' });
  t.is(ipJsonIn<IpRoute[]>(ns, ['route', 'show', '10.20.0.0/16']).length, 0);
  t.is(ipJsonIn<IpRoute[]>(ns, ['route', 'show', 'table', '1000']).length, 0);
  t.is(ipJsonIn<IpRoute[]>(ns, ['-6', 'route', 'show', 'fd00:20::/48']).length, 0);
});

test('multipath (ECMP) routes, v4 and v6', async (t) => {
  const { ns, nl } = await setup(t, 'mp');
  await nl.addresses.add({ dev: 'e0', address: '10.7.0.1/24' });
  await nl.addresses.add({ dev: 'e1', address: '10.7.1.1/24' });
  await nl.addresses.add({ dev: 'e0', address: 'fd00:70::1/64', flags: ['nodad'] });
  await nl.addresses.add({ dev: 'e1', address: 'fd00:71::1/64', flags: ['nodad'] });
  await nl.routes.add({ dst: '10.30.0.0/16', nexthops: [{ gateway: '10.7.0.2', dev: 'e0', weight: 1 }, { gateway: '10.7.1.2', dev: 'e1', weight: 3 }] });
  await nl.routes.add({ dst: 'fd00:30::/48', nexthops: [{ gateway: 'fd00:70::2', dev: 'e0' }, { gateway: 'fd00:71::2', dev: 'e1' }] });
  const [r4] = ipJsonIn<IpRoute[]>(ns, ['route', 'show', '10.30.0.0/16']);
  t.deepEqual(r4!.nexthops!.map((h) => [h.gateway, h.dev, h.weight]), [['10.7.0.2', 'e0', 1], ['10.7.1.2', 'e1', 3]]);
  const [r6] = ipJsonIn<IpRoute[]>(ns, ['-6', 'route', 'show', 'fd00:30::/48']);
  t.deepEqual(r6!.nexthops!.map((h) => [h.gateway, h.dev]), [['fd00:70::2', 'e0'], ['fd00:71::2', 'e1']]);

  const ours = (await nl.routes.list({ family: 4 })).find((r) => r.dst === '10.30.0.0/16')!;
  t.deepEqual(ours.nexthops?.map((h) => [h.gateway, h.weight]), [['10.7.0.2', 1], ['10.7.1.2', 3]]);
  const ours6 = (await nl.routes.list({ family: 6 })).find((r) => r.dst === 'fd00:30::/48')!;
  t.deepEqual(ours6.nexthops?.map((h) => h.gateway), ['fd00:70::2', 'fd00:71::2']);
});

interface IpNeigh { dst: string; dev?: string; lladdr?: string; state?: string[] }

test('neighbours: permanent entries, replace, proxy entries, delete', async (t) => {
  const { ns, nl } = await setup(t, 'nb');
  await nl.neighbours.add({ dev: 'e0', address: '10.6.0.9', lladdr: '02:00:00:00:06:09' });
  await nl.neighbours.add({ dev: 'e0', address: 'fd00:6::9', lladdr: '02:00:00:00:06:0a' });
  await nl.neighbours.replace({ dev: 'e0', address: '10.6.0.9', lladdr: '02:00:00:00:06:99' });
  await nl.neighbours.add({ dev: 'e1', address: '10.6.1.1', proxy: true });
  const all = ipJsonIn<IpNeigh[]>(ns, ['neigh', 'show', 'dev', 'e0']);
  const v4 = all.find((n) => n.dst === '10.6.0.9');
  t.is(v4?.lladdr, '02:00:00:00:06:99');
  t.deepEqual(v4?.state, ['PERMANENT']);
  t.is(all.find((n) => n.dst === 'fd00:6::9')?.lladdr, '02:00:00:00:06:0a');
  t.deepEqual(ipJsonIn<IpNeigh[]>(ns, ['neigh', 'show', 'proxy']).map((n) => [n.dst, n.dev]), [['10.6.1.1', 'e1']]);

  const ours = await nl.neighbours.list({ dev: 'e0' });
  t.truthy(ours.find((n) => n.address === '10.6.0.9' && n.lladdr === '02:00:00:00:06:99' && n.state.includes('permanent')));
  t.truthy(ours.find((n) => n.address === 'fd00:6::9' && n.family === 6));
  t.deepEqual((await nl.neighbours.list({ proxy: true })).map((n) => n.address), ['10.6.1.1']);

  await nl.neighbours.delete({ dev: 'e0', address: '10.6.0.9' });
  await nl.neighbours.delete({ dev: 'e1', address: '10.6.1.1', proxy: true });
  t.falsy(ipJsonIn<IpNeigh[]>(ns, ['neigh', 'show', 'dev', 'e0']).find((n) => n.dst === '10.6.0.9'));
  t.is(ipJsonIn<IpNeigh[]>(ns, ['neigh', 'show', 'proxy']).length, 0);
});

interface BridgeFdb { mac: string; ifname: string; dst?: string; flags: string[]; state?: string; master?: string; vni?: number }

test('FDB entries on vxlan (self, dst, append) and on a bridge port (master)', async (t) => {
  const { ns, nl } = await setup(t, 'fd');
  await nl.links.create({ kind: 'vxlan', name: 'vx0', vni: 10, port: 8472, learning: false, local: '198.18.0.11' });
  await nl.fdb.add({ dev: 'vx0', lladdr: '02:aa:00:00:00:01', dst: '198.18.0.12' });
  await nl.fdb.append({ dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: '198.18.0.12' });
  await nl.fdb.append({ dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: '198.18.0.13' });
  await nl.links.create({ kind: 'bridge', name: 'br0' });
  await nl.links.setMaster('e1', 'br0');
  await nl.fdb.add({ dev: 'e1', lladdr: '02:bb:00:00:00:01', master: true });

  const bridge = execFileSync('/usr/sbin/bridge', ['-n', ns, '-j', 'fdb', 'show'], { encoding: 'utf8' });
  const fdb = JSON.parse(bridge) as BridgeFdb[];
  const vx = fdb.filter((e) => e.ifname === 'vx0');
  const one = vx.find((e) => e.mac === '02:aa:00:00:00:01');
  t.is(one?.dst, '198.18.0.12');
  t.true(one?.flags.includes('self'));
  t.is(one?.state, 'permanent');
  t.deepEqual(vx.filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst).sort(), ['198.18.0.12', '198.18.0.13']);
  const port = fdb.find((e) => e.ifname === 'e1' && e.mac === '02:bb:00:00:00:01');
  t.is(port?.master, 'br0');

  const ours = await nl.fdb.list({ dev: 'vx0' });
  t.truthy(ours.find((e) => e.lladdr === '02:aa:00:00:00:01' && e.dst === '198.18.0.12' && e.flags.includes('self')));
  await nl.fdb.delete({ dev: 'vx0', lladdr: '02:aa:00:00:00:01', dst: '198.18.0.12' });
  t.falsy((await nl.fdb.list({ dev: 'vx0' })).find((e) => e.lladdr === '02:aa:00:00:00:01'));
});

test('address and route events for changes made by ip', async (t) => {
  const { ns } = await setup(t, 'ev');
  const events = await RtnetlinkEvents.open({ netns: ns, topics: ['address', 'route', 'neighbour'] });
  t.teardown(() => events.close());
  const seen = new Set<string>();
  const done = new Promise<void>((resolve) => {
    const check = () => { if (seen.has('addr:10.5.0.1') && seen.has('route:10.50.0.0/16') && seen.has('neigh:10.5.0.7')) resolve(); };
    events.on('address', (action, a) => { if (action === 'new') seen.add(`addr:${a.address}`); check(); });
    events.on('route', (action, r) => { if (action === 'new') seen.add(`route:${r.dst}`); check(); });
    events.on('neighbour', (action, n) => { if (action === 'new') seen.add(`neigh:${n.address}`); check(); });
  });
  ip(['-n', ns, 'addr', 'add', '10.5.0.1/24', 'dev', 'e0']);
  ip(['-n', ns, 'route', 'add', '10.50.0.0/16', 'via', '10.5.0.2']);
  ip(['-n', ns, 'neigh', 'add', '10.5.0.7', 'lladdr', '02:00:00:00:05:07', 'dev', 'e0', 'nud', 'permanent']);
  await done;
  t.pass();
});

test('generic netlink family lookup matches genl ctrl', async (t) => {
  const ns = makeNetns(t, prefix, 'gn');
  const genl = await GenericNetlink.open({ netns: ns });
  t.teardown(() => genl.close());
  const ctrl = await genl.getFamily('nlctrl');
  t.is(ctrl.id, 16);
  t.is(ctrl.name, 'nlctrl');
  t.is(typeof ctrl.mcastGroups.notify, 'number');
  const families = await genl.listFamilies();
  // Families without netnsok are invisible outside the initial namespace: ask genl from inside ours.
  const text = ip(['netns', 'exec', ns, '/usr/sbin/genl', 'ctrl', 'list']);
  const ids = [...text.matchAll(/Name: (\S+)\s+ID: 0x([0-9a-f]+)/g)].map((m) => [m[1]!, parseInt(m[2]!, 16)] as const);
  t.true(ids.length > 0);
  for (const [name, id] of ids) t.is(families.find((f) => f.name === name)?.id, id, `family ${name}`);
  t.is(families.length, ids.length);
  await t.throwsAsync(genl.getFamily('no-such-family'), { instanceOf: NetlinkKernelError, code: 'ENOENT' });
});
