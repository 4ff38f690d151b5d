/**
 * Interop with the reference plugins from Debian's containernetworking-plugins (/usr/lib/cni, v1.1.1, which speaks
 * CNI up to 1.0.0): podnet chained with portmap, bandwidth and tuning; the reference bridge and ptp using
 * podnet-ipam; podnet using the reference host-local; host-local and podnet-ipam sharing one data directory.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { hostVethName } from '../../../src/cni/attachmentNames.ts';
import { inNetns, makeCluster, ping, type Cluster } from './helpers/cniFixture.ts';
import { waitForListener } from '../../helpers/waitFor.ts';
import { addList, checkList, delList, type Conflist } from './helpers/conflistRunner.ts';

const prefix = uniquePrefix('ci');
const snap = rootSnapshot(prefix);
test.after.always('the root namespace is left as it was', (t) => t.deepEqual(snap.leaks(), []));

const leases = (dir: string) => readdirSync(dir).filter((f) => /^[0-9a-f.:]+$/.test(f));

test('podnet + portmap + bandwidth + tuning in one conflist: ADD, CHECK, hostPort traffic, DEL', async (t) => {
  const c = await makeCluster(t, `${prefix}m`);
  const pod = c.makePod('p1');
  const podnet = c.conf();
  delete podnet.cniVersion;
  delete podnet.name;
  const list: Conflist = { cniVersion: '1.0.0', name: 'podnet-test', plugins: [
    { ...podnet, capabilities: { ips: true, mac: true } },
    { type: 'tuning', sysctl: { 'net.ipv4.conf.IFNAME.arp_notify': '1' }, capabilities: { mac: true } },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    { type: 'bandwidth', capabilities: { bandwidth: true } },
  ] };
  const caps = {
    portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
    bandwidth: { ingressRate: 8_000_000, ingressBurst: 80_000_000, egressRate: 8_000_000, egressBurst: 80_000_000 },
    mac: '02:aa:bb:cc:dd:01',
  };
  const att = { containerId: 'ctr1', netns: pod, ifname: 'eth0', args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=ctr1' };
  const added = await addList(c, list, att, caps);
  t.is(added.code, 0, added.stdout);
  const host = hostVethName('ctr1', 'eth0');
  const ifaces = added.json!.interfaces as Array<{ name: string; mac?: string }>;
  t.true(ifaces.some((i) => i.name === host), 'the host veth is in the final result');
  t.is(ifaces.find((i) => i.name === 'eth0')!.mac, '02:aa:bb:cc:dd:01', 'podnet honoured the mac capability');
  t.true(ifaces.some((i) => i.name.startsWith('bwp')), 'bandwidth found the host veth and added its ifb');
  const qdisc = await inNetns(c.node, ['tc', 'qdisc', 'show', 'dev', host]);
  t.regex(qdisc.stdout, /tbf/);
  t.regex((await inNetns(pod, ['sysctl', '-n', 'net.ipv4.conf.eth0.arp_notify'])).stdout, /1/, 'tuning set the pod sysctl');
  // hostPort: the client reaches the pod through the node's address.
  const server = inNetns(pod, ['timeout', '8', 'socat', '-T2', 'TCP-LISTEN:80,reuseaddr', 'SYSTEM:echo from-pod']);
  await waitForListener(pod, 80);
  const reply = await inNetns(c.client, ['socat', '-T2', '-', 'TCP:198.18.0.11:18080'], 8000);
  await server;
  t.is(reply.stdout.trim(), 'from-pod');
  const checks = await checkList(c, { ...list, plugins: [list.plugins[0]!] }, att, added.json, caps);
  t.deepEqual(checks.map((x) => x.code), [0], checks.map((x) => x.stdout).join());
  const dels = await delList(c, list, att, added.json, caps);
  t.deepEqual(dels.map((d) => d.code), [0, 0, 0, 0], dels.map((d) => d.stdout).join());
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(c.node, ['link', 'show']).map((l) => l.ifname).sort(), ['lo', 'up0']);
  t.deepEqual(leases(join(c.dataDir, 'podnet-test')), []);
});

async function referenceMain(t: import('ava').ExecutionContext, c: Cluster, type: 'bridge' | 'ptp') {
  const pod1 = c.makePod('p1');
  const pod2 = c.makePod('p2');
  const conf = { cniVersion: '1.0.0', name: `ref-${type}`, type, bridge: 'cni-t0', isGateway: true, ipMasq: false,
    ipam: { type: 'podnet-ipam', dataDir: c.dataDir, ranges: [[{ subnet: '10.77.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } };
  const r1 = await c.exec({ command: 'ADD', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: conf }, `/usr/lib/cni/${type}`);
  t.is(r1.code, 0, r1.stdout);
  const r2 = await c.exec({ command: 'ADD', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf }, `/usr/lib/cni/${type}`);
  t.is(r2.code, 0, r2.stdout);
  t.deepEqual((r1.json!.ips as Array<{ address: string }>).map((i) => i.address), ['10.77.0.2/24']);
  t.deepEqual(leases(join(c.dataDir, `ref-${type}`)).sort(), ['10.77.0.2', '10.77.0.3']);
  t.true(await ping(pod1, '10.77.0.3'), 'pods of the reference plugin reach each other');
  t.is((await c.exec({ command: 'CHECK', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: { ...conf, prevResult: r1.json } }, `/usr/lib/cni/${type}`)).code, 0);
  for (const [id, pod] of [['ctr1', pod1], ['ctr2', pod2]] as const) {
    const d = await c.exec({ command: 'DEL', containerId: id, netns: pod, ifname: 'eth0', config: conf }, `/usr/lib/cni/${type}`);
    t.is(d.code, 0, d.stdout);
  }
  t.deepEqual(leases(join(c.dataDir, `ref-${type}`)), []);
}

test('the reference bridge uses podnet-ipam', async (t) => referenceMain(t, await makeCluster(t, `${prefix}b`), 'bridge'));
test('the reference ptp uses podnet-ipam', async (t) => referenceMain(t, await makeCluster(t, `${prefix}p`), 'ptp'));

test('podnet delegates to the reference host-local by exec', async (t) => {
  const c = await makeCluster(t, `${prefix}h`);
  const pod = c.makePod('p1');
  const conf = { ...c.conf({ cniVersion: '1.0.0' }), ipam: { type: 'host-local', dataDir: c.dataDir, ranges: [[{ subnet: '10.78.0.0/24' }]] } };
  const r = await c.exec({ command: 'ADD', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: conf });
  t.is(r.code, 0, r.stdout);
  t.deepEqual((r.json!.ips as Array<{ address: string }>).map((i) => i.address), ['10.78.0.2/32']);
  t.true(await ping(pod, '198.18.0.11'));
  t.is((await c.exec({ command: 'CHECK', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: { ...conf, prevResult: r.json } })).code, 0);
  t.is((await c.exec({ command: 'DEL', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: conf })).code, 0);
  t.deepEqual(leases(join(c.dataDir, 'podnet-test')), []);
  // host-local's own error comes back unchanged (1: it speaks CNI up to 1.0.0 only).
  const v11 = await c.exec({ command: 'ADD', containerId: 'ctr2', netns: pod, ifname: 'eth0', config: { ...conf, cniVersion: '1.1.0' } });
  t.is(v11.json!.code, 1);
});

test('host-local and podnet-ipam read each other\'s leases in one data directory', async (t) => {
  const c = await makeCluster(t, `${prefix}d`);
  const conf = { cniVersion: '1.0.0', name: 'shared', type: 'x', ipam: { type: 'x', dataDir: c.dataDir, ranges: [[{ subnet: '10.79.0.0/24' }]] } };
  const call = (id: string, command = 'ADD') => ({ command, containerId: id, netns: '/nonexistent', ifname: 'eth0', config: conf });
  const a = await c.exec(call('by-podnet'), 'podnet-ipam');
  const b = await c.exec(call('by-hostlocal'), '/usr/lib/cni/host-local');
  t.deepEqual([a, b].map((r) => (r.json!.ips as Array<{ address: string }>)[0]!.address), ['10.79.0.2/24', '10.79.0.3/24'],
    'host-local continued from podnet-ipam\'s cursor and skipped its lease');
  const c2 = await c.exec(call('by-podnet-2'), 'podnet-ipam');
  t.is((c2.json!.ips as Array<{ address: string }>)[0]!.address, '10.79.0.4/24', 'and podnet-ipam from host-local\'s');
  const dup = await c.exec(call('by-hostlocal'), 'podnet-ipam');
  t.is(dup.json!.msg, '10.79.0.3 has been allocated to by-hostlocal, duplicate allocation is not allowed');
  t.is((await c.exec(call('by-podnet', 'CHECK'), '/usr/lib/cni/host-local')).code, 0, 'host-local finds podnet-ipam\'s lease');
  t.is((await c.exec(call('by-hostlocal', 'DEL'), 'podnet-ipam')).code, 0);
  t.is((await c.exec(call('by-podnet', 'DEL'), '/usr/lib/cni/host-local')).code, 0);
  t.deepEqual(leases(join(c.dataDir, 'shared')), ['10.79.0.4']);
});
