/**
 * Links made and changed by our netlink code, read back with `ip -j -d link show` (an independent reader).
 */
import test from 'ava';
import { Rtnetlink, LinkKindUnsupportedError, NetlinkKernelError, RtnetlinkEvents, type Link } from '../../../src/netlink/index.ts';
import { ip, ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';

const prefix = uniquePrefix('nll');
let snapshot: ReturnType<typeof rootSnapshot>;

test.before('snapshot the root namespace', () => {
  snapshot = rootSnapshot(prefix);
});

test.after.always('nothing left behind in the root namespace', (t) => {
  t.deepEqual(snapshot.leaks(), []);
});

interface IpLink {
  ifname: string;
  ifindex: number;
  mtu: number;
  address: string;
  flags: string[];
  master?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

async function open(t: import('ava').ExecutionContext, ns: string): Promise<Rtnetlink> {
  const nl = await Rtnetlink.open({ netns: ns });
  t.teardown(() => nl.close());
  return nl;
}

test('veth with chosen names, MAC and MTU, peer created in a second namespace', async (t) => {
  const a = makeNetns(t, prefix, 'va');
  const b = makeNetns(t, prefix, 'vb');
  const nl = await open(t, a);
  await nl.links.create({ kind: 'veth', name: 'hostside', mtu: 1450, mac: '02:00:00:00:00:01', peer: { name: 'eth0', netns: b, mac: '02:00:00:00:00:02', mtu: 1450 } });
  const [host] = ipJsonIn<IpLink[]>(a, ['-d', 'link', 'show', 'hostside']);
  const [peer] = ipJsonIn<IpLink[]>(b, ['-d', 'link', 'show', 'eth0']);
  t.is(host!.address, '02:00:00:00:00:01');
  t.is(host!.mtu, 1450);
  t.is(host!.linkinfo?.info_kind, 'veth');
  t.is(peer!.address, '02:00:00:00:00:02');
  t.is(peer!.mtu, 1450);
  t.is(typeof host!.link_netnsid, 'number', 'the peer lives in another namespace');
  t.deepEqual(ipJsonIn<IpLink[]>(a, ['link', 'show']).map((l) => l.ifname).sort(), ['hostside', 'lo']);

  const ours = await nl.links.get('hostside');
  t.is(ours.index, host!.ifindex);
  t.is(ours.kind, 'veth');
  t.is(ours.linkNetnsId, host!.link_netnsid);
});

test('bridge, set up/down, MTU, MAC, master and nomaster, rename, delete', async (t) => {
  const ns = makeNetns(t, prefix, 'br');
  const nl = await open(t, ns);
  await nl.links.create({ kind: 'bridge', name: 'br0', up: true });
  await nl.links.create({ kind: 'veth', name: 'p1', peer: { name: 'p1peer' } });
  await nl.links.setMaster('p1', 'br0');
  await nl.links.set('p1', { up: true, mtu: 1400, mac: '02:11:22:33:44:55' });
  let [p1] = ipJsonIn<IpLink[]>(ns, ['-d', 'link', 'show', 'p1']);
  t.is(p1!.master, 'br0');
  t.is(p1!.mtu, 1400);
  t.is(p1!.address, '02:11:22:33:44:55');
  t.true(p1!.flags.includes('UP'));
  t.is(ipJsonIn<IpLink[]>(ns, ['-d', 'link', 'show', 'br0'])[0]!.linkinfo?.info_kind, 'bridge');

  await nl.links.setMaster('p1', null);
  await nl.links.setDown('p1');
  [p1] = ipJsonIn<IpLink[]>(ns, ['link', 'show', 'p1']);
  t.is(p1!.master, undefined);
  t.false(p1!.flags.includes('UP'));

  const index = await nl.links.index('p1');
  await nl.links.set(index, { name: 'renamed' });
  t.is(ipJsonIn<IpLink[]>(ns, ['link', 'show', 'renamed'])[0]!.ifindex, index);

  await nl.links.delete('renamed');
  await nl.links.delete('br0');
  t.deepEqual(ipJsonIn<IpLink[]>(ns, ['link', 'show']).map((l) => l.ifname), ['lo']);
  const listed = await nl.links.list();
  t.deepEqual(listed.map((l: Link) => l.name), ['lo']);
});

test('vxlan attributes match ip -d link show', async (t) => {
  const ns = makeNetns(t, prefix, 'vx');
  ip(['-n', ns, 'link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1']);
  ip(['-n', ns, 'addr', 'add', '198.18.0.11/24', 'dev', 'under0']);
  const nl = await open(t, ns);
  await nl.links.create({
    kind: 'vxlan', name: 'podnet.1', vni: 1, port: 8472, local: '198.18.0.11', dev: 'under0', learning: false, ttl: 64,
    udpCsum: true, udpZeroCsum6Tx: true, udpZeroCsum6Rx: true, mtu: 1450,
  });
  const [vx] = ipJsonIn<IpLink[]>(ns, ['-d', 'link', 'show', 'podnet.1']);
  const data = vx!.linkinfo?.info_data ?? {};
  t.is(vx!.linkinfo?.info_kind, 'vxlan');
  t.is(data.id, 1);
  t.is(data.port, 8472);
  t.is(data.local, '198.18.0.11');
  t.is(data.link, 'under0');
  t.is(data.learning, false);
  t.is(data.ttl, 64);
  t.is(data.udp_csum, true);
  t.is(data.udp_zero_csum6_tx, true);
  t.is(data.udp_zero_csum6_rx, true);
  t.is(vx!.mtu, 1450);

  const ours = await nl.links.get('podnet.1');
  const info = ours.attrs.IFLA_LINKINFO?.IFLA_INFO_DATA as Record<string, unknown>;
  t.is(info.IFLA_VXLAN_ID, 1);
  t.is(info.IFLA_VXLAN_PORT, 8472);
  t.is(info.IFLA_VXLAN_LOCAL, '198.18.0.11');
  t.is(info.IFLA_VXLAN_LEARNING, 0);
});

test('vxlan with a unicast remote VTEP, and one with a multicast group on a device', async (t) => {
  const ns = makeNetns(t, prefix, 'vr');
  ip(['-n', ns, 'link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1']);
  const nl = await open(t, ns);
  await nl.links.create({ kind: 'vxlan', name: 'vx4', vni: 4242, remote: '198.18.0.12', local: '198.18.0.11', port: 4789 });
  const [vx] = ipJsonIn<IpLink[]>(ns, ['-d', 'link', 'show', 'vx4']);
  t.is(vx!.linkinfo?.info_data?.remote, '198.18.0.12');
  t.is(vx!.linkinfo?.info_data?.id, 4242);
  t.is(vx!.linkinfo?.info_data?.port, 4789);
  await nl.links.create({ kind: 'vxlan', name: 'vxg', vni: 7, group: '239.1.1.1', dev: 'under0', port: 8472 });
  const [g] = ipJsonIn<IpLink[]>(ns, ['-d', 'link', 'show', 'vxg']);
  t.is(g!.linkinfo?.info_data?.group, '239.1.1.1');
  t.is(g!.linkinfo?.info_data?.link, 'under0');
  await nl.links.create({ kind: 'vxlan', name: 'vx6', vni: 8, remote: 'fd00:18::12', local: 'fd00:18::11', port: 8472, udpZeroCsum6Tx: true });
  const [v6] = ipJsonIn<IpLink[]>(ns, ['-d', 'link', 'show', 'vx6']);
  t.is(v6!.linkinfo?.info_data?.remote6, 'fd00:18::12');
  t.is(v6!.linkinfo?.info_data?.local6, 'fd00:18::11');
});

test('ipip is rejected with a clear unsupported-kernel error', async (t) => {
  const ns = makeNetns(t, prefix, 'ip');
  const nl = await open(t, ns);
  const err = await t.throwsAsync(nl.links.create({ kind: 'ipip', name: 'tun0', local: '198.18.0.11', remote: '198.18.0.12', ttl: 64 }));
  t.true(err instanceof LinkKindUnsupportedError, String(err));
  t.is((err as LinkKindUnsupportedError).code, 'PODNET_KERNEL_UNSUPPORTED');
  t.regex(err!.message, /ipip/);
  t.deepEqual(ipJsonIn<IpLink[]>(ns, ['link', 'show']).map((l) => l.ifname), ['lo']);
});

test('kernel errors carry the errno name and the kernel message', async (t) => {
  const ns = makeNetns(t, prefix, 'er');
  const nl = await open(t, ns);
  await nl.links.create({ kind: 'bridge', name: 'dup0' });
  const dup = await t.throwsAsync(nl.links.create({ kind: 'bridge', name: 'dup0' }));
  t.true(dup instanceof NetlinkKernelError);
  t.is((dup as NetlinkKernelError).code, 'EEXIST');
  t.regex(dup!.message, /creating bridge dup0: EEXIST/);
  const missing = await t.throwsAsync(nl.links.delete('nosuch0'));
  t.is((missing as NetlinkKernelError).code, 'ENODEV');
  t.is(await nl.links.find('nosuch0'), undefined);
  // A bad VNI is refused before anything is sent.
  await t.throwsAsync(nl.links.create({ kind: 'vxlan', name: 'vxbad', vni: 1 << 24 }), { code: 'PODNET_NETLINK_BAD_REQUEST' });
});

test('move a link to another namespace', async (t) => {
  const a = makeNetns(t, prefix, 'ma');
  const b = makeNetns(t, prefix, 'mb');
  const nl = await open(t, a);
  await nl.links.create({ kind: 'veth', name: 'mv0', peer: { name: 'mv1' } });
  await nl.links.moveToNetns('mv1', b);
  t.deepEqual(ipJsonIn<IpLink[]>(b, ['link', 'show']).map((l) => l.ifname).sort(), ['lo', 'mv1']);
  t.deepEqual(ipJsonIn<IpLink[]>(a, ['link', 'show']).map((l) => l.ifname).sort(), ['lo', 'mv0']);
});

test('link events for a link created and deleted by ip', async (t) => {
  const ns = makeNetns(t, prefix, 'ev');
  const events = await RtnetlinkEvents.open({ netns: ns, topics: ['link'] });
  t.teardown(() => events.close());
  const seen: string[] = [];
  const gotDel = new Promise<void>((resolve) => {
    events.on('link', (action, link) => {
      if (link.name !== 'evt0') return;
      seen.push(`${action}:${link.kind ?? ''}`);
      if (action === 'del') resolve();
    });
  });
  ip(['-n', ns, 'link', 'add', 'evt0', 'type', 'bridge']);
  ip(['-n', ns, 'link', 'del', 'evt0']);
  await gotDel;
  t.is(seen[0], 'new:bridge');
  t.is(seen.at(-1), 'del:bridge');
});
