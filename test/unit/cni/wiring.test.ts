import test from 'ava';
import { planAttachment, resultOf } from '../../../src/cni/attachmentPlan.ts';
import { derivedMac, hostVethName, parseHostVethAlias } from '../../../src/cni/attachmentNames.ts';
import { compileNetConf } from '../../../src/cni/netConf.ts';
import { masqScript, unmasqScript } from '../../../src/cni/masqRules.ts';
import { snapshotOf, splitJsonArrays } from '../../../src/cni/iprouteDataplane.ts';
import { renderConflist } from '../../../src/cni/install/conflistTemplate.ts';
import { CniError } from '../../../src/cni/cniError.ts';

const ipam = { ips: [{ address: '10.244.1.7/24', gateway: '10.244.1.1' }, { address: 'fd00::7/120', gateway: 'fd00::1' }],
  routes: [{ dst: '10.96.0.0/12' }, { dst: '0.0.0.0/0' }] };
const base = { name: 'podnet', type: 'podnet', ipam: { type: 'podnet-ipam' } };

test('names and MACs are deterministic, short enough and locally administered', (t) => {
  const name = hostVethName('ctr-1', 'eth0');
  t.regex(name, /^pn[0-9a-f]{11}$/);
  t.is(name, hostVethName('ctr-1', 'eth0'));
  t.not(name, hostVethName('ctr-1', 'net1'));
  const mac = derivedMac('x');
  t.is(parseInt(mac.slice(0, 2), 16) & 0x03, 0x02, 'unicast, locally administered');
  t.deepEqual(parseHostVethAlias('podnet/net/ctr-1/eth0'), { network: 'net', containerId: 'ctr-1', ifname: 'eth0' });
});

test('routed plan: /32 and /128 in the pod, link-local gateways, host routes, proxy ARP, masquerade except the cluster', (t) => {
  const conf = compileNetConf({ ...base, ipMasq: true, sysctls: { 'net.ipv4.conf.IFNAME.arp_notify': '1' } });
  const plan = planAttachment({ conf, containerId: 'c1', ifname: 'eth0', netns: '/run/netns/p', mtu: 1450, ipam, clusterCIDRs: ['10.244.0.0/16'] });
  t.deepEqual(plan.podAddresses, ['10.244.1.7/32', 'fd00::7/128']);
  t.deepEqual(plan.podRoutes, [
    { dst: '169.254.1.1/32', scopeLink: true },
    { dst: '0.0.0.0/0', via: '169.254.1.1' },
    { dst: '::/0', via: 'fe80::1' },
    { dst: '10.96.0.0/12', via: '169.254.1.1' },
  ]);
  t.deepEqual(plan.hostRoutes, ['10.244.1.7/32', 'fd00::7/128']);
  t.deepEqual(plan.hostAddresses, ['fe80::1/64']);
  t.deepEqual(plan.podNeighbours, [{ ip: '169.254.1.1', mac: 'ee:ee:ee:ee:ee:ee' }]);
  t.is(plan.hostSysctls[`net.ipv4.conf.${plan.hostIfname}.proxy_arp`], '1');
  t.deepEqual(plan.podSysctls, { 'net.ipv4.conf.eth0.arp_notify': '1' });
  t.deepEqual(plan.masq, { podIps: ['10.244.1.7', 'fd00::7'], exceptCidrs: ['10.244.0.0/16'], comment: 'c1/eth0' });
  const result = resultOf(plan, ipam);
  t.deepEqual(result.ips, [{ address: '10.244.1.7/32', gateway: '169.254.1.1', interface: 1 }, { address: 'fd00::7/128', gateway: 'fe80::1', interface: 1 }]);
  t.deepEqual(result.interfaces!.map((i) => i.sandbox), [undefined, '/run/netns/p']);
});

test('bridge plan: subnet prefix in the pod, gateway on the bridge, IPAM routes via the gateway', (t) => {
  const conf = compileNetConf({ ...base, mode: 'bridge', bridge: 'cbr0', hairpinMode: true });
  const plan = planAttachment({ conf, containerId: 'c1', ifname: 'eth0', netns: '/p', mtu: 1500, ipam, clusterCIDRs: [] });
  t.deepEqual(plan.podAddresses, ['10.244.1.7/24', 'fd00::7/120']);
  t.deepEqual(plan.bridge, { name: 'cbr0', mac: derivedMac('bridge/cbr0'), hairpin: true, gatewayCidrs: ['10.244.1.1/24', 'fd00::1/120'] });
  t.deepEqual(plan.podRoutes, [{ dst: '0.0.0.0/0', via: '10.244.1.1' }, { dst: '::/0', via: 'fd00::1' }, { dst: '10.96.0.0/12', via: '10.244.1.1' }]);
  t.deepEqual(plan.hostRoutes, []);
  t.deepEqual(resultOf(plan, ipam).interfaces!.map((i) => i.name), ['cbr0', plan.hostIfname, 'eth0']);
});

test('net config validation: code 2 for an unsupported mode, 7 listing every problem', (t) => {
  t.is((t.throws(() => compileNetConf({ ...base, mode: 'ipvlan' })) as CniError).cniCode, 2);
  const e = t.throws(() => compileNetConf({ name: 'n', mtu: 'big', ipMasq: 'yes', sysctls: { 'kernel.panic': '1' },
    runtimeConfig: { mac: 'zz' } })) as CniError;
  t.is(e.cniCode, 7);
  t.is(e.message, 'invalid network configuration: ipam.type: is required (e.g. "podnet-ipam"); ' +
    'sysctls: "kernel.panic" is not a per-namespace net.* sysctl; ' +
    'runtimeConfig.mac: must be a MAC address like 02:42:0a:00:00:05, got "zz"; ' +
    'ipMasq: must be true or false, got "yes"; mtu: must be an integer between 576 and 65535, got "big"');
  t.is(compileNetConf({ ...base, runtimeConfig: { mac: '02:AA:BB:CC:DD:EE' } }).mac, '02:aa:bb:cc:dd:ee');
});

test('masquerade scripts are idempotent: re-declare, flush the chain, add/delete elements in one transaction', (t) => {
  const add = masqScript({ podIps: ['10.244.1.7', 'fd00::7'], exceptCidrs: ['10.244.0.0/16'], comment: 'c' });
  t.regex(add, /flush chain inet podnet-cni postrouting\n/);
  t.regex(add, /add element inet podnet-cni keep4 \{ 10\.244\.0\.0\/16, 224\.0\.0\.0\/4 \}/);
  t.regex(add, /add element inet podnet-cni masq6 \{ fd00::7 \}/);
  const del = unmasqScript(['10.244.1.7']);
  t.regex(del, /add element inet podnet-cni masq4 \{ 10\.244\.1\.7 \}\ndelete element inet podnet-cni masq4 \{ 10\.244\.1\.7 \}/);
  t.notRegex(del, /masquerade/);
});

test('ip -j -batch output is split into its arrays and read into a snapshot', (t) => {
  const text = '[{"ifname":"eth0","address":"02:00:00:00:00:01","mtu":1450,"flags":["UP"],"linkinfo":{"info_kind":"veth"},' +
    '"addr_info":[{"family":"inet","local":"10.0.0.2","prefixlen":32,"scope":"global"},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]\n' +
    '[{"dst":"default","gateway":"169.254.1.1"},{"dst":"169.254.1.1","scope":"link"},{"type":"local","dst":"10.0.0.2"},{"dst":"default","gateway":"fe80::1"},{"dst":"a]b\\"[","gateway":"x"}]\n';
  const [links, routes] = splitJsonArrays(text);
  t.is(routes!.length, 5, 'brackets inside strings do not confuse the splitter');
  const snap = snapshotOf((links as never[])[0]!, (routes as never[]).slice(0, 4));
  t.deepEqual(snap, { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450, kind: 'veth', up: true, addresses: ['10.0.0.2/32'],
    routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }, { dst: '169.254.1.1/32' }, { dst: '::/0', gw: 'fe80::1' }] });
});

test('the installed conflist uses 1.0.0 when a reference plugin is chained', (t) => {
  const plain = JSON.parse(renderConflist({ name: 'podnet', mode: 'routed', ipMasq: true, ipv6: true, portmap: false }));
  t.is(plain.cniVersion, '1.1.0');
  t.deepEqual(plain.plugins[0].ipam.ranges, [[{ subnet: 'usePodCidr' }], [{ subnet: 'usePodCidrIPv6' }]]);
  const chained = JSON.parse(renderConflist({ name: 'podnet', mode: 'routed', ipMasq: false, ipv6: false, portmap: true }));
  t.is(chained.cniVersion, '1.0.0');
  t.is(chained.plugins[1].type, 'portmap');
});
