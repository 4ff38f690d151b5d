import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ip, ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { hostVethName } from '../../../src/cni/attachmentNames.ts';
import { makeCluster, ping, inNetns } from './helpers/cniFixture.ts';
import { waitForListener } from '../../helpers/waitFor.ts';
import type { AddStep } from '../../../src/cni/podnetDeps.ts';

const prefix = uniquePrefix('cr');
const snap = rootSnapshot(prefix);
test.after.always('the root namespace is left as it was', (t) => t.deepEqual(snap.leaks(), []));

const leases = (dataDir: string) => readdirSync(join(dataDir, 'podnet-test')).filter((f) => /^[0-9a-f.:]+$/.test(f) && f !== 'lock');

test('routed ADD wires a dual-stack pod that reaches the node, another pod and (masqueraded) the client', async (t) => {
  const c = await makeCluster(t, `${prefix}a`);
  const pod1 = c.makePod('p1');
  const pod2 = c.makePod('p2');
  const conf = c.conf({ ipMasq: true });
  const r1 = await c.call({ command: 'ADD', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: conf });
  t.is(r1.code, 0, r1.stdout);
  const host1 = hostVethName('ctr1', 'eth0');
  t.like(r1.json, {
    cniVersion: '1.1.0',
    interfaces: [{ name: host1, mac: 'ee:ee:ee:ee:ee:ee', mtu: 1450 }, { name: 'eth0', mtu: 1450, sandbox: pod1 }],
    ips: [{ address: '10.244.1.2/32', gateway: '169.254.1.1', interface: 1 }, { address: 'fd00:10:244:1::2/128', gateway: 'fe80::1', interface: 1 }],
  });
  t.false('sandbox' in (r1.json!.interfaces as object[])[0]!, 'the host veth is listed without a sandbox');
  const r2 = await c.call({ command: 'ADD', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf });
  t.is(r2.code, 0, r2.stdout);
  t.true(await ping(pod1, '10.244.1.3'), 'pod to pod (IPv4)');
  t.true(await ping(pod1, 'fd00:10:244:1::3'), 'pod to pod (IPv6)');
  t.true(await ping(pod1, '198.18.0.11'), 'pod to node');
  t.true(await ping(`/run/netns/${c.node}`, '10.244.1.2'), 'node to pod');
  // The client knows no route to pods: only masquerading lets the reply come back, with the node's address as source.
  const listener = inNetns(c.client, ['timeout', '8', 'socat', '-T2', 'TCP-LISTEN:7002,reuseaddr', 'SYSTEM:echo $SOCAT_PEERADDR']);
  await waitForListener(c.client, 7002);
  const seen = await inNetns(pod1, ['socat', '-T2', '-', 'TCP:198.18.0.2:7002'], 8000);
  await listener;
  t.is(seen.stdout.trim(), '198.18.0.11');
  t.is(ipJsonIn<Array<{ mtu: number }>>(pod1.split('/').pop()!, ['link', 'show', 'eth0'])[0]!.mtu, 1450, 'MTU from node.json');
});

test('CHECK passes after ADD and reports drift; DEL is idempotent, also with the netns gone', async (t) => {
  const c = await makeCluster(t, `${prefix}b`);
  const pod = c.makePod('p1');
  const conf = c.conf();
  const added = await c.call({ command: 'ADD', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: conf });
  const withPrev = { ...conf, prevResult: added.json };
  t.is((await c.call({ command: 'CHECK', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: withPrev })).code, 0);
  ip(['-n', pod.split('/').pop()!, 'route', 'del', 'default', 'via', '169.254.1.1']);
  const drift = await c.call({ command: 'CHECK', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: withPrev });
  t.is(drift.code, 1);
  t.deepEqual(drift.json, { cniVersion: '1.1.0', code: 102,
    msg: 'attachment ctr1/eth0 drifted: route 0.0.0.0/0 via 169.254.1.1 is missing in the pod' });
  ip(['-n', c.node, 'link', 'del', hostVethName('ctr1', 'eth0')]);
  const gone = await c.call({ command: 'CHECK', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: withPrev });
  t.regex(String(gone.json?.msg), /interface eth0 is missing.*host interface pn[0-9a-f]{11} is missing/);
  for (let i = 0; i < 2; i++) {
    t.is((await c.call({ command: 'DEL', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: withPrev })).code, 0);
  }
  t.deepEqual(leases(c.dataDir), []);
  // DEL of an attachment whose netns no longer exists, and DEL with no CNI_NETNS at all.
  const pod2 = c.makePod('p2');
  t.is((await c.call({ command: 'ADD', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf })).code, 0);
  ip(['netns', 'del', pod2.split('/').pop()!]);
  t.is((await c.call({ command: 'DEL', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf })).code, 0);
  t.is((await c.call({ command: 'DEL', containerId: 'ctr2', ifname: 'eth0', config: conf })).code, 0);
  t.deepEqual(leases(c.dataDir), []);
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(c.node, ['link', 'show']).map((l) => l.ifname).filter((n) => n.startsWith('pn')), []);
});

test('ADD fails with code 100 when the pod already has the interface, and leaves it and every lease alone', async (t) => {
  const c = await makeCluster(t, `${prefix}c`);
  const pod = c.makePod('p1');
  const podNs = pod.split('/').pop()!;
  ip(['-n', podNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
  const r = await c.call({ command: 'ADD', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: c.conf() });
  t.deepEqual(r.json, { cniVersion: '1.1.0', code: 100, msg: `interface eth0 already exists in ${pod}` });
  t.is(r.code, 1);
  t.deepEqual(leases(c.dataDir), []);
  t.truthy(ipJsonIn<unknown[]>(podNs, ['link', 'show', 'other0']).length, 'the existing interface is untouched');
});

for (const step of ['after-ipam', 'after-pod-side', 'after-host-side', 'after-masq'] as AddStep[]) {
  test(`a failure ${step} rolls everything back`, async (t) => {
    const c = await makeCluster(t, `${prefix}${step.slice(6, 9)}`);
    const pod = c.makePod('p1');
    const r = await c.call({ command: 'ADD', containerId: 'ctr1', netns: pod, ifname: 'eth0', config: c.conf({ ipMasq: true }) },
      { failureHook: (s) => { if (s === step) throw new Error(`injected failure ${s}`); } });
    t.deepEqual(r.json, { cniVersion: '1.1.0', code: 101, msg: `injected failure ${step}` });
    t.deepEqual(leases(c.dataDir), [], 'no lease left');
    t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(c.node, ['link', 'show']).map((l) => l.ifname).sort(), ['lo', 'up0']);
    t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(pod.split('/').pop()!, ['link', 'show']).map((l) => l.ifname), ['lo']);
    const masq = await inNetns(c.node, ['nft', '-j', 'list', 'set', 'inet', 'podnet-cni', 'masq4']);
    t.notRegex(masq.stdout, /10\.244\.1\./, 'no masquerade entry left');
  });
}

test('MTU falls back to the uplink minus 50 without node state; per-pod sysctls land in the pod only', async (t) => {
  const c = await makeCluster(t, `${prefix}m`);
  ip(['-n', c.node, 'link', 'set', 'up0', 'mtu', '1400']);
  writeFileSync(c.nodeStateFile, JSON.stringify({ podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/120'] }));
  const pod = c.makePod('p1');
  const r = await c.call({ command: 'ADD', containerId: 'ctr1', netns: pod, ifname: 'eth0',
    config: c.conf({ sysctls: { 'net.ipv4.conf.IFNAME.arp_notify': '1', 'net.ipv6.conf.IFNAME.accept_ra': '0' } }) });
  t.is(r.code, 0, r.stdout);
  t.is(ipJsonIn<Array<{ mtu: number }>>(pod.split('/').pop()!, ['link', 'show', 'eth0'])[0]!.mtu, 1350);
  t.is((await inNetns(pod, ['sysctl', '-n', 'net.ipv4.conf.eth0.arp_notify'])).stdout.trim(), '1');
  t.is((await inNetns(pod, ['sysctl', '-n', 'net.ipv6.conf.eth0.accept_ra'])).stdout.trim(), '0');
  t.is((await inNetns(c.node, ['sysctl', '-n', 'net.ipv4.conf.all.arp_notify'])).stdout.trim(), '0', 'the node is untouched');
});
