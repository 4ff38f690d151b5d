import test from 'ava';
import { CniError } from '../../../src/cni/cniError.ts';
import { FakeLeaseStore } from '../../../src/ipam/fakeLeaseStore.ts';
import { formatIp, parseIp } from '../../../src/common/ipAddress.ts';
import { allocateAll } from '../../../src/ipam/ipAllocator.ts';
import { ipamAdd, ipamDel, ipamGc, ipamStatus } from '../../../src/ipam/ipamPlugin.ts';
import { compileRange, type RangeSet } from '../../../src/ipam/rangeSet.ts';

const set = (subnet: string, extra = {}): RangeSet => [compileRange({ subnet, ...extra }, 'r', [])!];
const owner = (id: string, ifname = 'eth0') => ({ containerId: id, ifname });
const conf = (ranges: unknown, extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.1.0', name: 'net1', type: 'podnet-ipam', ipam: { type: 'podnet-ipam', ranges }, ...extra,
});

test('allocates round robin: a released address is not handed out again at once', async (t) => {
  const store = new FakeLeaseStore();
  const s = set('10.0.0.0/29');
  const a = await allocateAll(store, [s], owner('a'), []);
  const b = await allocateAll(store, [s], owner('b'), []);
  t.deepEqual([a, b].map((x) => formatIp(x[0]!.ip)), ['10.0.0.2', '10.0.0.3']);
  await store.releaseByOwner(owner('a'));
  const c = await allocateAll(store, [s], owner('c'), []);
  t.is(formatIp(c[0]!.ip), '10.0.0.4');
});

test('duplicate allocation for the same container and ifname is refused; another ifname is fine', async (t) => {
  const store = new FakeLeaseStore();
  const s = set('10.0.0.0/24');
  await allocateAll(store, [s], owner('a'), []);
  const err = await t.throwsAsync(allocateAll(store, [s], owner('a'), []), { instanceOf: CniError });
  t.is(err!.message, '10.0.0.2 has been allocated to a, duplicate allocation is not allowed');
  t.is((err as CniError).cniCode, 104);
  await t.notThrowsAsync(allocateAll(store, [s], owner('a', 'net1'), []));
});

test('exhaustion is code 11 with host-local\'s message; STATUS reports 50', async (t) => {
  const store = new FakeLeaseStore();
  const deps = { storeFor: () => store };
  const c = conf([[{ subnet: '10.9.0.0/29', rangeStart: '10.9.0.2', rangeEnd: '10.9.0.3' }]]);
  const args = { ignoreUnknown: true };
  await ipamAdd({ config: c, containerId: 'a', ifname: 'eth0', cniArgs: args }, deps);
  await t.notThrowsAsync(ipamStatus({ config: c, containerId: '', ifname: '', cniArgs: args }, deps));
  await ipamAdd({ config: c, containerId: 'a2', ifname: 'eth0', cniArgs: args }, deps);
  const err = await t.throwsAsync(ipamAdd({ config: c, containerId: 'b', ifname: 'eth0', cniArgs: args }, deps));
  t.is((err as CniError).cniCode, 11);
  t.is(err!.message, 'failed to allocate for range 0: no IP addresses available in range set: 10.9.0.2-10.9.0.3');
  const st = await t.throwsAsync(ipamStatus({ config: c, containerId: '', ifname: '', cniArgs: args }, deps));
  t.is((st as CniError).cniCode, 50);
});

test('dual stack gives one address per range set; a failure in the second set releases the first', async (t) => {
  const store = new FakeLeaseStore();
  const v4 = set('10.0.0.0/24');
  const v6 = set('fd00::/126'); // fd00::1 gateway, ::2 ::3 usable
  const got = await allocateAll(store, [v4, v6], owner('a'), []);
  t.deepEqual(got.map((g) => formatIp(g.ip)), ['10.0.0.2', 'fd00::2']);
  await allocateAll(store, [v4, v6], owner('b'), []);
  await t.throwsAsync(allocateAll(store, [v4, v6], owner('c'), []), { message: /range 1/ });
  t.deepEqual((await store.list()).map((l) => l.containerId).sort(), ['a', 'a', 'b', 'b']);
});

test('requested addresses: honoured, taken, gateway, outside every set', async (t) => {
  const store = new FakeLeaseStore();
  const s = set('10.0.0.0/24');
  const got = await allocateAll(store, [s], owner('a'), [parseIp('10.0.0.77')!]);
  t.is(formatIp(got[0]!.ip), '10.0.0.77');
  await t.throwsAsync(allocateAll(store, [s], owner('b'), [parseIp('10.0.0.77')!]),
    { message: 'requested IP address 10.0.0.77 is not available in range set 10.0.0.1-10.0.0.254' });
  await t.throwsAsync(allocateAll(store, [s], owner('b'), [parseIp('10.0.0.1')!]), { message: /is the gateway/ });
  await t.throwsAsync(allocateAll(store, [s], owner('b'), [parseIp('10.0.0.3')!, parseIp('10.5.0.3')!]),
    { message: /failed to allocate all requested IPs: 10\.5\.0\.3/ });
  t.false((await store.list()).some((l) => l.containerId === 'b'));
});

test('requested IPs come from runtimeConfig.ips (capability) and CNI_ARGS IP=', async (t) => {
  const store = new FakeLeaseStore();
  const deps = { storeFor: () => store };
  const r1 = await ipamAdd({ config: conf([[{ subnet: '10.0.0.0/24' }]], { runtimeConfig: { ips: ['10.0.0.50/24'] } }),
    containerId: 'a', ifname: 'eth0', cniArgs: { ignoreUnknown: true } }, deps);
  t.is(r1.ips![0]!.address, '10.0.0.50/24');
  const r2 = await ipamAdd({ config: conf([[{ subnet: '10.0.0.0/24' }]]), containerId: 'b', ifname: 'eth0',
    cniArgs: { ignoreUnknown: true, ips: ['10.0.0.60'] } }, deps);
  t.deepEqual(r2.ips, [{ address: '10.0.0.60/24', gateway: '10.0.0.1' }]);
});

test('usePodCidr reads the node state; a missing pod CIDR is a config error naming the file', async (t) => {
  const store = new FakeLeaseStore();
  const c = conf(undefined, { ipam: { type: 'podnet-ipam', nodeStateFile: '/x/node.json',
    ranges: [[{ subnet: 'usePodCidr' }], [{ subnet: 'usePodCidrIPv6' }]] } });
  const r = await ipamAdd({ config: c, containerId: 'a', ifname: 'eth0', cniArgs: { ignoreUnknown: true } }, {
    storeFor: () => store,
    readNodeState: () => ({ podCIDRs: ['10.244.3.0/24', 'fd00:244:3::/64'], clusterCIDRs: [] }),
  });
  t.deepEqual(r.ips!.map((i) => i.address), ['10.244.3.2/24', 'fd00:244:3::2/64']);
  const err = await t.throwsAsync(ipamAdd({ config: c, containerId: 'b', ifname: 'eth0', cniArgs: { ignoreUnknown: true } },
    { storeFor: () => store, readNodeState: () => null }));
  t.is((err as CniError).cniCode, 7);
  t.regex(err!.message, /ipam\.ranges\[0\]\[0\]\.subnet: usePodCidr: no IPv4 pod CIDR in \/x\/node\.json/);
});

test('GC releases leases whose attachment is not valid, accepting both key names', async (t) => {
  const store = new FakeLeaseStore();
  const deps = { storeFor: () => store };
  const c = conf([[{ subnet: '10.0.0.0/24' }]]);
  for (const id of ['a', 'b', 'c']) await ipamAdd({ config: c, containerId: id, ifname: 'eth0', cniArgs: { ignoreUnknown: true } }, deps);
  const gone = await ipamGc({ ...c, 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] }, deps);
  t.deepEqual(gone.map((l) => l.containerId).sort(), ['a', 'c']);
  await ipamGc({ ...c, 'cni.dev/attachments': [{ containerID: 'b', ifname: 'eth0' }] }, deps);
  t.deepEqual((await store.list()).map((l) => l.containerId), ['b']);
  await ipamDel({ config: c, containerId: 'b', ifname: 'eth0', cniArgs: { ignoreUnknown: true } }, deps);
  await ipamDel({ config: c, containerId: 'b', ifname: 'eth0', cniArgs: { ignoreUnknown: true } }, deps);
  t.is(store.leases.size, 0);
});

test('100 concurrent allocations against one store give 100 distinct addresses', async (t) => {
  const store = new FakeLeaseStore();
  const deps = { storeFor: () => store };
  const c = conf([[{ subnet: '10.7.0.0/24' }]]);
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    ipamAdd({ config: c, containerId: `c${i}`, ifname: 'eth0', cniArgs: { ignoreUnknown: true } }, deps)));
  t.is(new Set(results.map((r) => r.ips![0]!.address)).size, 100);
});
