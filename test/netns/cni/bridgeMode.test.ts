import test from 'ava';
import { ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { hostVethName } from '../../../src/cni/attachmentNames.ts';
import { makeCluster, ping } from './helpers/cniFixture.ts';

const prefix = uniquePrefix('cb');
const snap = rootSnapshot(prefix);
test.after.always('the root namespace is left as it was', (t) => t.deepEqual(snap.leaks(), []));

interface LinkJson { ifname: string; master?: string; address: string; addr_info?: Array<{ local: string; prefixlen: number }> }

test('bridge mode: pods on the node bridge with the gateway address, hairpin on the port, CHECK and DEL', async (t) => {
  const c = await makeCluster(t, `${prefix}a`);
  const pod1 = c.makePod('p1');
  const pod2 = c.makePod('p2');
  const conf = c.conf({ mode: 'bridge', bridge: 'pnbr0', hairpinMode: true });
  const r1 = await c.call({ command: 'ADD', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: conf });
  t.is(r1.code, 0, r1.stdout);
  const r2 = await c.call({ command: 'ADD', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf });
  t.is(r2.code, 0, r2.stdout);
  const ifaces = r1.json!.interfaces as Array<{ name: string; mac: string; sandbox?: string }>;
  t.deepEqual(ifaces.map((i) => i.name), ['pnbr0', hostVethName('ctr1', 'eth0'), 'eth0']);
  t.like(r1.json, { ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 2 },
    { address: 'fd00:10:244:1::2/120', gateway: 'fd00:10:244:1::1', interface: 2 }] });
  const bridge = ipJsonIn<LinkJson[]>(c.node, ['addr', 'show', 'pnbr0'])[0]!;
  t.deepEqual(bridge.addr_info!.filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`),
    ['10.244.1.1/24', 'fd00:10:244:1::1/120']);
  t.is(bridge.address, ifaces[0]!.mac, 'the bridge MAC in the result is the real, pinned one');
  const port = ipJsonIn<Array<{ master?: string; linkinfo?: { info_slave_data?: { hairpin?: boolean } } }>>(c.node,
    ['-d', 'link', 'show', hostVethName('ctr1', 'eth0')])[0]!;
  t.is(port.master, 'pnbr0');
  t.true(port.linkinfo?.info_slave_data?.hairpin);
  t.true(await ping(pod1, '10.244.1.3'));
  t.true(await ping(pod1, 'fd00:10:244:1::3'));
  t.true(await ping(pod1, '198.18.0.11'));
  t.is((await c.call({ command: 'CHECK', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: { ...conf, prevResult: r1.json } })).code, 0);
  for (const [id, pod] of [['ctr1', pod1], ['ctr2', pod2]] as const) {
    t.is((await c.call({ command: 'DEL', containerId: id, netns: pod, ifname: 'eth0', config: conf })).code, 0);
  }
  t.deepEqual(ipJsonIn<LinkJson[]>(c.node, ['link', 'show']).map((l) => l.ifname).sort(), ['lo', 'pnbr0', 'up0'],
    'the node bridge stays (shared by pods), the veths are gone');
});
