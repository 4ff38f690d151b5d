/**
 * The CNI protocol as a runtime sees it: the bundled executable exec'd in the node namespace with a clean
 * environment, CNI_* variables and stdin. Every error code the plugin can produce, with its exact JSON.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { makeCluster, type Cluster } from './helpers/cniFixture.ts';

const prefix = uniquePrefix('cp');
const snap = rootSnapshot(prefix);
test.after.always('the root namespace is left as it was', (t) => t.deepEqual(snap.leaks(), []));

const SUPPORTED = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

test('VERSION answers with the asked version and every supported one', async (t) => {
  const c = await makeCluster(t, `${prefix}v`);
  const r = await c.exec({ command: 'VERSION', config: { cniVersion: '0.4.0' } });
  t.is(r.code, 0);
  t.deepEqual(r.json, { cniVersion: '0.4.0', supportedVersions: SUPPORTED });
  t.deepEqual((await c.exec({ command: 'VERSION', config: '' }, 'podnet-ipam')).json, { cniVersion: '1.1.0', supportedVersions: SUPPORTED });
});

async function expectError(t: import('ava').ExecutionContext, c: Cluster, call: Parameters<Cluster['exec']>[0],
  want: Record<string, unknown>, plugin = 'podnet') {
  const r = await c.exec(call, plugin);
  t.not(r.code, 0, 'non-zero exit');
  t.deepEqual(r.json, want, r.stdout);
}

test('error results: codes 1, 2, 4, 6, 7 with the exact JSON', async (t) => {
  const c = await makeCluster(t, `${prefix}e`);
  const pod = c.makePod('p1');
  const base = { containerId: 'ctr1', netns: pod, ifname: 'eth0' };
  await expectError(t, c, { command: 'ADD', containerId: 'ctr1', ifname: 'eth0', config: c.conf() },
    { cniVersion: '1.1.0', code: 4, msg: 'required env variables [CNI_NETNS] missing' });
  await expectError(t, c, { command: 'ADD', config: c.conf() },
    { cniVersion: '1.1.0', code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing' });
  await expectError(t, c, { command: 'FROB', config: c.conf() },
    { cniVersion: '1.1.0', code: 4, msg: 'unknown CNI_COMMAND: FROB', details: 'supported: ADD, DEL, CHECK, VERSION, STATUS, GC' });
  await expectError(t, c, { ...base, command: 'ADD', ifname: 'a-very-long-ifname', config: c.conf() },
    { cniVersion: '1.1.0', code: 4, msg: 'CNI_IFNAME "a-very-long-ifname" is longer than 15 characters' });
  await expectError(t, c, { ...base, command: 'ADD', args: 'FOO=bar', config: c.conf() },
    { cniVersion: '1.1.0', code: 4, msg: 'CNI_ARGS: unknown argument "FOO"', details: 'add IgnoreUnknown=1 to CNI_ARGS to ignore arguments this plugin does not use' });
  await expectError(t, c, { ...base, command: 'ADD', config: '{"cniVersion": "1.1.0", ' },
    { cniVersion: '1.1.0', code: 6, msg: 'decoding network configuration from stdin: Expected double-quoted property name in JSON at position 24' });
  await expectError(t, c, { ...base, command: 'ADD', config: c.conf({ cniVersion: '9.9.9' }) },
    { cniVersion: '1.1.0', code: 1, msg: 'incompatible CNI versions', details: 'config is "9.9.9", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]' });
  await expectError(t, c, { ...base, command: 'CHECK', config: c.conf({ cniVersion: '0.3.1' }) },
    { cniVersion: '0.3.1', code: 1, msg: 'config version "0.3.1" does not allow command CHECK', details: 'CHECK needs cniVersion 0.4.0 or later' });
  await expectError(t, c, { ...base, command: 'ADD', config: c.conf({ mode: 'vxlan' }) },
    { cniVersion: '1.1.0', code: 2, msg: 'unsupported field mode="vxlan": podnet supports "routed" and "bridge"' });
  await expectError(t, c, { ...base, command: 'ADD', config: c.conf({ mtu: 10 }) },
    { cniVersion: '1.1.0', code: 7, msg: 'invalid network configuration: mtu: must be an integer between 576 and 65535, got 10' });
  await expectError(t, c, { ...base, command: 'ADD', config: c.conf({}, { ranges: [[{ subnet: '10.1.0.1/24' }]] }) },
    { cniVersion: '1.1.0', code: 7, msg: 'invalid IPAM configuration: ipam.ranges[0][0].subnet: network 10.1.0.1/24 has host bits set; for a mask of length 24 the network address is 10.1.0.0' });
  const badNetns = await c.exec({ ...base, command: 'ADD', netns: '/run/netns/does-not-exist', config: c.conf() });
  t.is(badNetns.json?.code, 4);
  t.regex(String(badNetns.json?.msg), /^CNI_NETNS \/run\/netns\/does-not-exist: cannot use the network namespace: .*(ENOENT|No such file or directory)/);
  t.deepEqual(readdirSync(join(c.dataDir, 'podnet-test')).filter((f) => /^[0-9a-f.:]+$/.test(f)), [], 'the lease was rolled back');
  await expectError(t, c, { ...base, command: 'ADD', config: c.conf({}, { type: 'no-such-ipam' }) },
    { cniVersion: '1.1.0', code: 103, msg: `failed to find plugin "no-such-ipam" in path [${c.binDir} /usr/lib/cni]` });
});

test('exhaustion is 11 on ADD and 50 on STATUS; STATUS and GC need 1.1.0', async (t) => {
  const c = await makeCluster(t, `${prefix}x`);
  const pod = c.makePod('p1');
  const pod2 = c.makePod('p2');
  const conf = c.conf({}, { ranges: [[{ subnet: '10.9.0.0/29', rangeStart: '10.9.0.2', rangeEnd: '10.9.0.2' }]] });
  t.is((await c.exec({ command: 'STATUS', config: conf })).code, 0);
  t.is((await c.exec({ command: 'ADD', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: conf })).code, 0);
  await expectError(t, c, { command: 'ADD', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf },
    { cniVersion: '1.1.0', code: 11, msg: 'failed to allocate for range 0: no IP addresses available in range set: 10.9.0.2-10.9.0.2' });
  await expectError(t, c, { command: 'STATUS', config: conf },
    { cniVersion: '1.1.0', code: 50, msg: 'range set 0 (10.9.0.2-10.9.0.2) is exhausted: 1 addresses leased' });
  await expectError(t, c, { command: 'STATUS', config: { ...conf, cniVersion: '1.0.0' } },
    { cniVersion: '1.0.0', code: 1, msg: 'config version "1.0.0" does not allow command STATUS', details: 'STATUS needs cniVersion 1.1.0 or later' });
  // A second ADD of the same attachment is refused before anything else, with host-local's message.
  await expectError(t, c, { command: 'ADD', containerId: 'ctr1', netns: pod2, ifname: 'eth0', config: conf },
    { cniVersion: '1.1.0', code: 104, msg: '10.9.0.2 has been allocated to ctr1, duplicate allocation is not allowed' });
  const noCidr = c.conf({ nodeStateFile: '/nonexistent/node.json' }, { nodeStateFile: '/nonexistent/node.json' });
  await expectError(t, c, { command: 'STATUS', config: noCidr }, { cniVersion: '1.1.0', code: 50,
    msg: 'invalid IPAM configuration: ipam.ranges[0][0].subnet: usePodCidr: no IPv4 pod CIDR in /nonexistent/node.json (is podnetd running?); ipam.ranges[1][0].subnet: usePodCidrIPv6: no IPv6 pod CIDR in /nonexistent/node.json (is podnetd running?)' });
});

test('results come in the requested version\'s shape', async (t) => {
  const c = await makeCluster(t, `${prefix}r`);
  for (const [i, version] of SUPPORTED.entries()) {
    const pod = c.makePod(`p${i}`);
    const r = await c.exec({ command: 'ADD', containerId: `ctr${i}`, netns: pod, ifname: 'eth0', config: c.conf({ cniVersion: version }) });
    t.is(r.code, 0, r.stdout);
    t.is(r.json!.cniVersion, version);
    const ips = r.json!.ips as Array<Record<string, unknown>>;
    const ifaces = r.json!.interfaces as Array<Record<string, unknown>>;
    if (version.startsWith('0.')) t.deepEqual(ips.map((x) => x.version), ['4', '6']);
    else t.false('version' in ips[0]!);
    t.is('mtu' in ifaces[0]!, version === '1.1.0', `interfaces[].mtu only in 1.1.0 (${version})`);
    if (version !== '0.3.0') {
      const check = await c.exec({ command: 'CHECK', containerId: `ctr${i}`, netns: pod, ifname: 'eth0',
        config: { ...c.conf({ cniVersion: version }), prevResult: r.json } });
      t.is(check.code, version === '0.3.1' ? 1 : 0, check.stdout);
    }
    t.is((await c.exec({ command: 'DEL', containerId: `ctr${i}`, netns: pod, ifname: 'eth0', config: c.conf({ cniVersion: version }) })).code, 0);
  }
});
