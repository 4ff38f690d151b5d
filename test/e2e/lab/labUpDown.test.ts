import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { createLab } from '../../../src/lab/lab.ts';
import { primaryAddress, primaryAddress6 } from '../../../src/lab/addressPlan.ts';
import { ipJsonIn, listNetns, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { labStateRoot, uniqueLabName } from '../../helpers/labFixture.ts';

interface IpAddr { ifname: string; operstate: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }

test('up with 3 nodes: every underlay address pings every other; down leaves nothing behind', async (t) => {
  const name = uniqueLabName();
  const root = rootSnapshot(`${name}-`);
  const lab = await createLab({ name, nodes: 3, stateRoot: labStateRoot(t) });
  t.teardown(() => lab.destroy());

  t.deepEqual(listNetns().filter((n) => n.startsWith(`${name}-`)).sort(),
    [`${name}-client`, `${name}-fabric`, `${name}-n1`, `${name}-n2`, `${name}-n3`]);
  // An independent reader (ip -j) sees the planned addresses, up.
  for (const h of lab.plan.hosts) {
    const [eth0] = ipJsonIn<IpAddr[]>(h.ns, ['address', 'show', 'dev', 'eth0']);
    t.is(eth0?.operstate, 'UP', h.ns);
    t.true(eth0!.addr_info.some((a) => a.family === 'inet' && a.local === primaryAddress(h) && a.prefixlen === 24), h.ns);
    t.true(eth0!.addr_info.some((a) => a.family === 'inet6' && a.local === primaryAddress6(h) && a.prefixlen === 64), h.ns);
  }
  // IPv6 works at once (nodad), node to node and through the fabric's gateway address.
  const [, n2] = lab.nodes;
  const ping6 = await lab.exec('n1', ['ping', '-6', '-n', '-c1', '-W2', primaryAddress6(n2!)], { allowFailure: true });
  t.is(ping6.code, 0, ping6.stdout);
  t.is((await lab.exec('client', ['ping', '-6', '-n', '-c1', '-W2', 'fd00:198:18::1'], { allowFailure: true })).code, 0);
  const fwd6 = await lab.exec('n1', ['cat', '/proc/sys/net/ipv6/conf/all/forwarding']);
  t.is(fwd6.stdout.trim(), '1');
  const fwd = await lab.exec('n1', ['cat', '/proc/sys/net/ipv4/ip_forward']);
  t.is(fwd.stdout.trim(), '1');
  const state = JSON.parse(readFileSync(lab.paths.stateFile, 'utf8'));
  t.is(state.phase, 'up');
  t.deepEqual(state.hosts.find((h: { id: string }) => h.id === 'n2').addresses, ['198.18.0.12/24', 'fd00:198:18::12/64']);

  const check = await lab.checkReachability();
  t.is(check.results.length, 24, 'every ordered pair of hosts, IPv4 and IPv6');
  t.deepEqual(check.failures, []);

  const report = await lab.destroy();
  t.is(report.namespaces.length, 5);
  t.deepEqual(root.leaks(), []);
  t.false(existsSync(lab.paths.dir), 'state directory removed');
  const again = await lab.destroy();
  t.deepEqual(again.namespaces, [], 'down is idempotent');
});

test('cross-subnet: nodes in different subnets reach each other through the router', async (t) => {
  const name = uniqueLabName();
  const root = rootSnapshot(`${name}-`);
  const lab = await createLab({ name, nodes: 4, routing: 'cross-subnet', stateRoot: labStateRoot(t) });
  t.teardown(() => lab.destroy());
  const [n1, n2, n3] = lab.nodes;
  t.is(primaryAddress(n1!), '198.18.0.11');
  t.is(primaryAddress(n3!), '198.18.1.13');

  const check = await lab.checkReachability();
  t.deepEqual(check.failures, []);
  t.is(check.results.length, 40);
  // IPv6 crosses the router too: n1 (segment A) to n3 (segment B), hop limit 1 dies at the router's ::1.
  const across6 = await lab.exec('n1', ['ping', '-6', '-n', '-c1', '-W1', '-t1', primaryAddress6(n3!)], { allowFailure: true });
  t.not(across6.code, 0);
  t.regex(across6.stdout, /From fd00:198:18::1 .*Time exceeded/i);
  t.is((await lab.exec('n1', ['ping', '-6', '-n', '-c1', '-W2', primaryAddress6(n3!)], { allowFailure: true })).code, 0);
  // With TTL 1 a packet dies at the first router: across subnets that is the router (198.18.0.1)...
  const across = await lab.exec('n1', ['ping', '-n', '-c1', '-W1', '-t1', primaryAddress(n3!)], { allowFailure: true });
  t.not(across.code, 0);
  t.regex(across.stdout, /From 198\.18\.0\.1 .*Time to live exceeded/);
  // ...within a subnet there is no router in between.
  const within = await lab.exec('n1', ['ping', '-n', '-c1', '-W1', '-t1', primaryAddress(n2!)], { allowFailure: true });
  t.is(within.code, 0);
  const routes = ipJsonIn<Array<{ dst: string; gateway?: string }>>(n3!.ns, ['route', 'show']);
  t.true(routes.some((r) => r.dst === 'default' && r.gateway === '198.18.1.1'));
  const fwd = await lab.exec('router', ['cat', '/proc/sys/net/ipv4/ip_forward']);
  t.is(fwd.stdout.trim(), '1');

  await lab.destroy();
  t.deepEqual(root.leaks(), []);
});
