/**
 * Every record rule of the Kubernetes DNS specification (issue 6, item 1) asked by real clients in the lab:
 * `dig` and `kdig` inside pod namespaces made by the lab kubelet (real CNI), at the cluster DNS address 10.96.0.10,
 * which the proxy DNATs to the podnetd DNS servers of both nodes (`--routing vxlan`, so either node's server
 * answers; their query logs show that both did). The lab's agent config is the default one (pods `disabled`,
 * TTL 5, no upstreams) plus the query log.
 * Objects go through the store: real pods web-0/web-1 behind the headless Service `nginx` (hostname + subdomain,
 * so the endpoints controller writes the hostnames) and the dual-stack ClusterIP Service `api`; selector-less
 * Services with hand-written EndpointSlices for what the lab kubelet cannot make (not-ready endpoints, IPv6
 * endpoints, 60 endpoints). Each rule is checked with both tools, and the expectations are the spec's.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashedIp } from '../../../src/dns/dnsNames.ts';
import { agentProcess } from '../../../src/lab/labControlPlane.ts';
import type { Lab } from '../../../src/lab/lab.ts';
import type { Store } from '../../../src/store/store.ts';
import type { EndpointSlice, Pod, Service } from '../../../src/store/types.ts';
import { startCluster } from '../../helpers/labFixture.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, slice } from '../../unit/dns/helpers/dnsObjects.ts';
import { dataOf, dnsAsker, expectReply, waitForEveryServer, type DnsAsker } from './helpers/dnsLabClients.ts';

const DNS = '10.96.0.10';
const NS = 'shop';
const Z = 'cluster.local';
const svcName = (name: string) => `${name}.${NS}.svc.${Z}`;
const fqdn = (name: string) => `${svcName(name)}.`;

function webPod(name: string, nodeName: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: 'nginx' } },
    spec: { nodeName, hostname: name, subdomain: 'nginx', containers: [{ name: 'web' }] },
  } as Pod;
}

const dbV4 = (second: string) => slice(NS, 'db', 'db-v4', [
  endpoint('10.244.200.1', { hostname: 'db-0' }), endpoint(second), endpoint('10.244.200.3', { hostname: 'db-2', ready: false }),
], [{ name: 'pg', port: 5432 }]);

function objects(): Array<Service | EndpointSlice> {
  return [
    headlessService(NS, 'nginx', [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' }], { selector: { app: 'nginx' } }),
    clusterIpService(NS, 'api', ['10.96.0.100', 'fd00:96::100'], [
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'stats', port: 8081, targetPort: 8081, protocol: 'UDP' },
    ], { selector: { app: 'nginx' }, ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }),
    clusterIpService(NS, 'plain', ['10.96.0.101'], [{ port: 8080, protocol: 'TCP' }]),
    headlessService(NS, 'db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
    dbV4('10.244.200.2'),
    slice(NS, 'db', 'db-v6', [endpoint('fd00:244::1', { hostname: 'db-0' })], [{ name: 'pg', port: 5432 }], 'IPv6'),
    headlessService(NS, 'pnra', [], { publishNotReadyAddresses: true }),
    slice(NS, 'pnra', 'pnra-a', [endpoint('10.244.201.1', { hostname: 'p-0', ready: false })]),
    headlessService(NS, 'multi'),
    slice(NS, 'multi', 'multi-a', [endpoint(['10.244.203.1', '10.244.203.2'], { hostname: 'm-0' })]),
    slice(NS, 'multi', 'multi-b', [endpoint('10.244.203.3', { hostname: 'm-0' })]),
    headlessService(NS, 'lonely'),
    slice(NS, 'lonely', 'lonely-a', [endpoint('10.244.201.2', { ready: false })]),
    headlessService(NS, 'big'),
    slice(NS, 'big', 'big-a', Array.from({ length: 60 }, (_, i) => endpoint(`10.244.202.${i + 1}`))),
    externalNameService(NS, 'alias', svcName('api')),
    externalNameService(NS, 'ext', 'example.org'),
  ];
}

const isReady = (p: Pod | undefined) => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function setUp(t: ExecutionContext, lab: Lab, store: Store): Promise<{ q: DnsAsker; ip0: string; ip1: string }> {
  for (const o of objects()) await store.create(o);
  await store.create(webPod('web-0', lab.nodes[0]!.id));
  await store.create(webPod('web-1', lab.nodes[1]!.id));
  const ips: string[] = [];
  for (const name of ['web-0', 'web-1']) {
    const pod = await waitFor(`pod ${NS}/${name} Ready`, async () => { const p = await store.get('Pod', name, NS); return isReady(p) ? p : undefined; }, 120_000, 250);
    ips.push(pod.status!.podIP!);
  }
  const q = dnsAsker(lab, DNS, `${NS}/web-0`);
  // The endpoints controller, then every server's index: wait for the last objects' answers on each node.
  await waitForEveryServer(lab, `${NS}/web-0`, [svcName('nginx'), 'A'], (r) => dataOf(r.answer, 'A').join() === [...ips].sort().join(), 60_000);
  await waitForEveryServer(lab, `${NS}/web-0`, [svcName('ext'), 'CNAME'], (r) => r.answer.length === 1);
  t.pass('pods Ready and DNS answering through 10.96.0.10');
  return { q, ip0: ips[0]!, ip1: ips[1]! };
}

async function clusterIpRules(t: ExecutionContext, q: DnsAsker): Promise<void> {
  expectReply(t, await q.both([svcName('api'), 'A']), { status: 'NOERROR', type: 'A', data: ['10.96.0.100'], ttl: 5 }, 'ClusterIP A (2.3.1)');
  expectReply(t, await q.both(['+tcp', svcName('api'), 'AAAA'], 'shop/web-1'), { status: 'NOERROR', type: 'AAAA', data: ['fd00:96::100'], ttl: 5 }, 'ClusterIP AAAA over TCP (2.3.1)');
  expectReply(t, await q.both([svcName('plain'), 'AAAA']), { status: 'NOERROR', data: [] }, 'single-stack Service: the other family is NODATA');
  // kdig lower-cases the name before sending it, so only dig puts mixed case on the wire.
  const mixed = await q.ask('dig', ['API.Shop.SVC.cluster.LOCAL', 'A']);
  t.deepEqual(mixed.answer.map((a) => `${a.name} ${a.data}`), ['API.Shop.SVC.cluster.LOCAL. 10.96.0.100'], 'dig: case-insensitive match, case kept (2.1)');
  const srv = await q.both([`_http._tcp.${svcName('api')}`, 'SRV']);
  expectReply(t, srv, { status: 'NOERROR', type: 'SRV', data: [`0 100 80 ${fqdn('api')}`], ttl: 5 }, 'ClusterIP SRV → Service name, Service port (2.3.2)');
  for (const r of srv) {
    t.deepEqual([...dataOf(r.additional, 'A'), ...dataOf(r.additional, 'AAAA')], ['10.96.0.100', 'fd00:96::100'], `${r.tool}: SRV additional = the Service's A/AAAA`);
  }
  expectReply(t, await q.both([`_stats._udp.${svcName('api')}`, 'SRV']), { status: 'NOERROR', type: 'SRV', data: [`0 100 8081 ${fqdn('api')}`] }, 'SRV for a UDP port');
  expectReply(t, await q.both([`_http._udp.${svcName('api')}`, 'SRV']), { status: 'NXDOMAIN' }, 'SRV with the wrong protocol');
  expectReply(t, await q.both([svcName('plain'), 'SRV']), { status: 'NOERROR', type: 'SRV', data: [`0 100 8080 ${fqdn('plain')}`] }, 'bare-name SRV lists the unnamed port (CoreDNS extension)');
  expectReply(t, await q.both([`_tcp.${svcName('plain')}`, 'SRV']), { status: 'NXDOMAIN' }, 'unnamed ports have no SRV (2.3.2)');
  expectReply(t, await q.both(['-x', '10.96.0.100']), { status: 'NOERROR', type: 'PTR', data: [fqdn('api')], ttl: 5 }, 'PTR of an IPv4 ClusterIP (2.3.3)');
  expectReply(t, await q.both(['-x', 'fd00:96::100']), { status: 'NOERROR', type: 'PTR', data: [fqdn('api')] }, 'PTR of an IPv6 ClusterIP, 32 nibbles (2.3.3)');
}

async function headlessRules(t: ExecutionContext, q: DnsAsker, ip0: string, ip1: string): Promise<void> {
  const web = (h: string) => `${h}.${fqdn('nginx')}`;
  expectReply(t, await q.both([svcName('nginx'), 'A']), { status: 'NOERROR', type: 'A', data: [ip0, ip1], ttl: 5 }, 'headless A: one per ready pod (2.4.1)');
  expectReply(t, await q.both([`web-0.${svcName('nginx')}`, 'A']), { status: 'NOERROR', type: 'A', data: [ip0] }, 'endpoint hostname web-0.nginx (2.4.1)');
  expectReply(t, await q.both([`web-1.${svcName('nginx')}`, 'A']), { status: 'NOERROR', type: 'A', data: [ip1] }, 'endpoint hostname web-1.nginx (2.4.1)');
  const srv = await q.both(['+tcp', `_web._tcp.${svcName('nginx')}`, 'SRV']);
  expectReply(t, srv, { status: 'NOERROR', type: 'SRV', data: [`0 50 8080 ${web('web-0')}`, `0 50 8080 ${web('web-1')}`] }, 'headless SRV: per endpoint, endpoint port, hostname targets (2.4.2)');
  for (const r of srv) t.deepEqual(dataOf(r.additional, 'A'), [ip0, ip1].sort(), `${r.tool}: headless SRV additional = the endpoints' A`);
  expectReply(t, await q.both(['-x', ip0]), { status: 'NOERROR', type: 'PTR', data: [web('web-0')] }, 'PTR of a headless endpoint IPv4 → hostname name (2.4.3)');
  expectReply(t, await q.both([`_web._tcp.web-0.${svcName('nginx')}`, 'SRV']), { status: 'NXDOMAIN' }, 'no SRV below an endpoint name (kubernetes/dns#184)');

  expectReply(t, await q.both([svcName('db'), 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.200.1', '10.244.200.2'] }, 'headless A: the not-ready endpoint left out');
  expectReply(t, await q.both([svcName('db'), 'AAAA']), { status: 'NOERROR', type: 'AAAA', data: ['fd00:244::1'] }, 'headless AAAA (2.4.1)');
  expectReply(t, await q.both([`db-0.${svcName('db')}`, 'AAAA']), { status: 'NOERROR', type: 'AAAA', data: ['fd00:244::1'] }, 'hostname AAAA (2.4.1)');
  expectReply(t, await q.both([`db-0.${svcName('db')}`, 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.200.1'] }, 'hostname A, same hostname in both families');
  expectReply(t, await q.both([`10-244-200-2.${svcName('db')}`, 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.200.2'] }, 'endpoint without hostname: dashed-IP name');
  expectReply(t, await q.both([`db-2.${svcName('db')}`, 'A']), { status: 'NXDOMAIN' }, 'a not-ready endpoint has no name');
  expectReply(t, await q.both([`_pg._tcp.${svcName('db')}`, 'SRV']), { status: 'NOERROR', type: 'SRV',
    data: [`0 50 5432 10-244-200-2.${fqdn('db')}`, `0 50 5432 db-0.${fqdn('db')}`] }, 'headless SRV: one per (target, port), dual-stack endpoint once');
  expectReply(t, await q.both(['-x', 'fd00:244::1']), { status: 'NOERROR', type: 'PTR', data: [`db-0.${fqdn('db')}`] }, 'PTR of a headless endpoint IPv6 (2.4.3)');
  expectReply(t, await q.both(['-x', '10.244.200.2']), { status: 'NOERROR', type: 'PTR', data: [`10-244-200-2.${fqdn('db')}`] }, 'PTR of an endpoint without hostname');
  expectReply(t, await q.both([svcName('pnra'), 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.201.1'] }, 'publishNotReadyAddresses admits a not-ready endpoint');
  expectReply(t, await q.both([`p-0.${svcName('pnra')}`, 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.201.1'] }, 'publishNotReadyAddresses: its hostname too');
  expectReply(t, await q.both([`m-0.${svcName('multi')}`, 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.203.1', '10.244.203.2', '10.244.203.3'] },
    'a hostname with several IPv4 addresses (one endpoint with two, another slice with one): one A each (2.4.1)');
  expectReply(t, await q.both([svcName('lonely'), 'A']), { status: 'NXDOMAIN' }, 'headless without ready endpoints: NXDOMAIN (2.4.1)');
  expectReply(t, await q.both([svcName('lonely'), 'AAAA']), { status: 'NXDOMAIN' }, 'headless without ready endpoints: NXDOMAIN for AAAA too');
}

async function otherRules(t: ExecutionContext, q: DnsAsker, ip0: string): Promise<void> {
  for (const r of await q.both([svcName('alias'), 'A'])) {
    t.deepEqual(r.answer.map((a) => `${a.type} ${a.data}`), [`CNAME ${fqdn('api')}`, 'A 10.96.0.100'], `${r.tool}: ExternalName in zone: CNAME, then the target's A (2.5)`);
  }
  for (const r of await q.both([svcName('alias'), 'AAAA'])) {
    t.deepEqual(r.answer.map((a) => `${a.type} ${a.data}`), [`CNAME ${fqdn('api')}`, 'AAAA fd00:96::100'], `${r.tool}: ExternalName in zone, AAAA (2.5)`);
  }
  expectReply(t, await q.both([svcName('ext'), 'CNAME']), { status: 'NOERROR', type: 'CNAME', data: ['example.org.'], ttl: 5 }, 'ExternalName CNAME (2.5)');
  expectReply(t, await q.both([`x.${svcName('ext')}`, 'A']), { status: 'NXDOMAIN' }, 'nothing below an ExternalName');

  expectReply(t, await q.both([`${dashedIp(ip0)}.${NS}.pod.${Z}`, 'A']), { status: 'NXDOMAIN' }, 'pod record with the lab\'s `pods: disabled`');
  expectReply(t, await q.both([`${NS}.pod.${Z}`, 'A']), { status: 'NOERROR', data: [] }, '<ns>.pod.<zone> of an existing namespace: NODATA');

  for (const r of await q.both([Z, 'SOA'])) {
    t.regex(dataOf(r.answer, 'SOA')[0] ?? '', /^ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/, `${r.tool}: apex SOA, minimum = TTL`);
  }
  for (const r of await q.both([Z, 'NS'])) {
    t.deepEqual(dataOf(r.answer, 'NS'), ['ns.dns.cluster.local.'], `${r.tool}: apex NS`);
    t.deepEqual(dataOf(r.additional, 'A'), [DNS], `${r.tool}: NS glue = the kube-dns Service address`);
  }
  expectReply(t, await q.both([`dns-version.${Z}`, 'TXT']), { status: 'NOERROR', type: 'TXT', data: ['"1.1.0"'], ttl: 28800 }, 'dns-version TXT (2.2)');

  const nodata = [[Z, 'A'], [`svc.${Z}`, 'A'], [`${NS}.svc.${Z}`, 'A'], [`dns-version.${Z}`, 'A'], [svcName('api'), 'TXT'], [`_tcp.${svcName('api')}`, 'SRV']];
  for (const [name, type] of nodata) expectReply(t, await q.both([name!, type!]), { status: 'NOERROR', data: [] }, `NODATA: ${name} ${type}`);
  const nx = [`nope.${NS}.svc.${Z}`, `nosuchns.svc.${Z}`, `api.${NS}.bogus.${Z}`, `x.y.${svcName('api')}`, `_x._y.${svcName('nginx')}`];
  for (const name of nx) expectReply(t, await q.both([name, 'A']), { status: 'NXDOMAIN' }, `NXDOMAIN: ${name}`);
  // Wildcards are not supported (src/dns/README.md, as CoreDNS since 1.9): `*` and `any` are plain unknown labels.
  for (const name of [`*.${NS}.svc.${Z}`, `any.${NS}.svc.${Z}`, `*.${svcName('nginx')}`, `_web._tcp.*.${NS}.svc.${Z}`]) {
    expectReply(t, await q.both([name, name.startsWith('_') ? 'SRV' : 'A']), { status: 'NXDOMAIN' }, `wildcard ${name}`);
  }
}

async function truncation(t: ExecutionContext, q: DnsAsker): Promise<void> {
  for (const r of await q.both(['+bufsize=512', '+notcp', '+ignore', svcName('big'), 'A'])) {
    t.true(r.flags.includes('tc'), `${r.tool}: 60 A records do not fit 512 bytes: TC (flags ${r.flags.join(' ')})`);
    t.true(r.answer.length < 60 && r.transport === 'UDP', `${r.tool}: a cut UDP answer (${r.answer.length} records over ${r.transport})`);
  }
  // UDP first (both tools' default); kdig's +notcp would also forbid the fallback.
  for (const r of await q.both(['+bufsize=512', svcName('big'), 'A'])) {
    t.is(r.transport, 'TCP', `${r.tool}: falls back to TCP on TC`);
    t.is(dataOf(r.answer, 'A').length, 60, `${r.tool}: the whole answer over TCP`);
  }
  for (const r of await q.both(['+bufsize=4096', svcName('big'), 'A'])) {
    t.true(!r.flags.includes('tc') && r.transport === 'UDP' && r.answer.length === 60, `${r.tool}: EDNS 4096 fits all 60 over UDP`);
  }
}

/**
 * A store change shows in the answers of the servers behind 10.96.0.10 once their watches deliver the event
 * (waited for on each node's own address, then asked through the proxy).
 */
async function followsTheStore(t: ExecutionContext, lab: Lab, q: DnsAsker, store: Store): Promise<void> {
  const current = (await store.get('EndpointSlice', 'db-v4', NS))!;
  await store.update({ ...dbV4('10.244.200.9'), metadata: { ...dbV4('10.244.200.9').metadata, resourceVersion: current.metadata.resourceVersion } });
  const want = ['10.244.200.1', '10.244.200.9'].join();
  await waitForEveryServer(lab, `${NS}/web-0`, [svcName('db'), 'A'], (r) => dataOf(r.answer, 'A').join() === want);
  expectReply(t, await q.both([svcName('db'), 'A']), { status: 'NOERROR', type: 'A', data: want.split(',') }, 'endpoint update: new address, old one gone');
  expectReply(t, await q.both(['-x', '10.244.200.9']), { status: 'NOERROR', type: 'PTR', data: [`10-244-200-9.${fqdn('db')}`] }, 'endpoint update: PTR of the new address');
  expectReply(t, await q.both([`10-244-200-2.${svcName('db')}`, 'A']), { status: 'NXDOMAIN' }, 'endpoint update: the old endpoint name is gone');
  await store.delete('Service', 'plain', NS);
  await waitForEveryServer(lab, `${NS}/web-0`, [svcName('plain'), 'A'], (r) => r.status === 'NXDOMAIN');
  expectReply(t, await q.both([svcName('plain'), 'A']), { status: 'NXDOMAIN' }, 'a deleted Service is NXDOMAIN');
}

/** A real pod going away: kubelet, endpoints controller, both DNS indexes; the headless records follow. */
async function podDeleted(t: ExecutionContext, lab: Lab, q: DnsAsker, store: Store, ip0: string): Promise<void> {
  await store.delete('Pod', 'web-1', NS);
  await waitForEveryServer(lab, `${NS}/web-0`, [svcName('nginx'), 'A'], (r) => dataOf(r.answer, 'A').join() === ip0, 60_000);
  expectReply(t, await q.both([svcName('nginx'), 'A']), { status: 'NOERROR', type: 'A', data: [ip0] }, 'headless A after a pod is deleted');
  expectReply(t, await q.both([`_web._tcp.${svcName('nginx')}`, 'SRV']), { status: 'NOERROR', type: 'SRV', data: [`0 100 8080 web-0.${fqdn('nginx')}`] }, 'headless SRV after a pod is deleted');
  expectReply(t, await q.both([`web-1.${svcName('nginx')}`, 'A']), { status: 'NXDOMAIN' }, 'the deleted pod\'s hostname record is gone');
}

/**
 * The names in the namespace each node's server was asked (its query log: one JSON line per query), less those
 * waitForEveryServer asks each node directly: what is left reached it through 10.96.0.10.
 */
function namesAskedThroughProxy(lab: Lab, nodeId: string): Set<string> {
  const direct = new Set(['nginx', 'ext', 'db', 'plain'].map(svcName));
  const log = readFileSync(join(lab.paths.logDir, `${agentProcess(nodeId)}.log`), 'utf8');
  const names = new Set<string>();
  for (const line of log.split('\n')) {
    const m = /"op":"query".*"qname":"([^"]+)"/.exec(line);
    if (m && m[1]!.endsWith(`.${NS}.svc.${Z}`) && !direct.has(m[1]!)) names.add(m[1]!);
  }
  return names;
}

test('every record rule with dig and kdig from pods, at 10.96.0.10 through the proxy', async (t) => {
  t.timeout(900_000, 'a two-node lab on a loaded machine');
  const { lab, store } = await startCluster(t, { nodes: 2, routing: 'vxlan' }, { dns: { logQueries: true } });
  const { q, ip0, ip1 } = await setUp(t, lab, store);
  await clusterIpRules(t, q);
  await headlessRules(t, q, ip0, ip1);
  await otherRules(t, q, ip0);
  await truncation(t, q);
  await followsTheStore(t, lab, q, store);
  await podDeleted(t, lab, q, store, ip0);
  for (const node of lab.nodes) {
    t.true(namesAskedThroughProxy(lab, node.id).size > 0, `${node.id}'s DNS server answered pods through 10.96.0.10`);
  }
});
