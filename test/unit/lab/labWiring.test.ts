import test from 'ava';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { batchLines } from '../../../src/lab/iprouteWiring.ts';
import { guardNamespace } from '../../../src/lab/labNames.ts';
import { wiringFor } from '../../../src/lab/labWiring.ts';

const plan = planLab({ name: 'lab', nodes: 2, routing: 'none', store: 'file' });

test('the fabric plugs every host into the bridge, creating the host end inside the host namespace', (t) => {
  const [fabric] = wiringFor(plan);
  t.is(fabric!.ns, 'lab-fabric');
  t.deepEqual(batchLines(fabric!), [
    'link add br0 type bridge',
    'link add n1 type veth peer name eth0 netns lab-n1',
    'link set n1 master br0',
    'link add n2 type veth peer name eth0 netns lab-n2',
    'link set n2 master br0',
    'link add client type veth peer name eth0 netns lab-client',
    'link set client master br0',
    'address add 198.18.0.1/24 dev br0',
    'address add fd00:198:18::1/64 dev br0 nodad',
    'link set lo up',
    'link set br0 up',
    'link set n1 up',
    'link set n2 up',
    'link set client up',
  ]);
});

test('a node gets both addresses, lo and eth0 up, default routes and forwarding for both families', (t) => {
  const n1 = wiringFor(plan).find((w) => w.ns === 'lab-n1')!;
  t.deepEqual(batchLines(n1), [
    'address add 198.18.0.11/24 dev eth0',
    'address add fd00:198:18::11/64 dev eth0 nodad',
    'link set lo up',
    'link set eth0 up',
    'route add default via 198.18.0.1',
    'route add ::/0 via fd00:198:18::1',
  ]);
  t.is(n1.sysctls['net.ipv4.ip_forward'], '1');
  t.is(n1.sysctls['net.ipv6.conf.all.forwarding'], '1');
  const client = wiringFor(plan).find((w) => w.ns === 'lab-client')!;
  t.false('net.ipv4.ip_forward' in client.sysctls, 'the client is a plain host');
  t.is(client.sysctls['net.ipv6.conf.eth0.accept_dad'], '0', 'no DAD: IPv6 usable at once');
});

test('cross-subnet: two bridges, the router on both, no address on the fabric', (t) => {
  const p = planLab({ name: 'lab', nodes: 2, routing: 'cross-subnet', store: 'file' });
  const [fabric, ...hosts] = wiringFor(p);
  t.deepEqual(fabric!.bridges, [{ name: 'br0' }, { name: 'br1' }]);
  t.deepEqual(fabric!.addresses, []);
  t.true(batchLines(fabric!).includes('link add router1 type veth peer name eth1 netns lab-router'));
  const router = hosts.find((w) => w.ns === 'lab-router')!;
  t.deepEqual(router.addresses, [{ dev: 'eth0', cidr: '198.18.0.1/24' }, { dev: 'eth0', cidr: 'fd00:198:18::1/64', nodad: true },
    { dev: 'eth1', cidr: '198.18.1.1/24' }, { dev: 'eth1', cidr: 'fd00:198:18:1::1/64', nodad: true }]);
  t.deepEqual(router.routes, []);
  t.is(router.sysctls['net.ipv6.conf.all.forwarding'], '1');
  t.deepEqual(hosts.find((w) => w.ns === 'lab-n2')!.routes, [{ dst: 'default', via: '198.18.1.1' }, { dst: '::/0', via: 'fd00:198:18:1::1' }]);
});

test('every namespace a wiring names passes the guard', (t) => {
  const p = planLab({ name: 'lab', nodes: 4, routing: 'cross-subnet', store: 'file' });
  for (const w of wiringFor(p)) {
    t.notThrows(() => guardNamespace('lab', w.ns));
    for (const v of w.veths) t.notThrows(() => guardNamespace('lab', v.peer.ns));
  }
});
