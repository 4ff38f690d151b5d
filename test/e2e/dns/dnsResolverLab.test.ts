/**
 * The glibc resolver of a lab pod, and what the DNS servers behind 10.96.0.10 forward: a two-node vxlan lab whose
 * agents forward non-cluster names to a stand-in upstream in the client namespace
 * (helpers/fakeUpstreamProcess.ts), with TTL 30, the query log on, and a different pod-record mode per node
 * (n1 `verified`, n2 `insecure`; the lab's default `disabled` is dnsRecordsLab.test.ts). Each mode is asked
 * through the proxy at a ClusterIP Service whose only endpoint is that node's server, so the mode is known.
 * - `getent hosts` / `getent ahosts` inside pod namespaces with the resolv.conf the lab kubelet writes
 *   (nameserver 10.96.0.10, search <ns>.svc.cluster.local svc.cluster.local cluster.local, ndots:5);
 * - an external name through the search path: the suffixed queries are answered NXDOMAIN from our own data and
 *   only `example.org` itself reaches the upstream; an ExternalName Service to it gets the upstream's address.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashedIp } from '../../../src/dns/dnsNames.ts';
import { primaryAddress } from '../../../src/lab/addressPlan.ts';
import type { Lab } from '../../../src/lab/lab.ts';
import { agentProcess, startControlPlane } from '../../../src/lab/labControlPlane.ts';
import { podResolvConf } from '../../../src/lab/kubeletPodNames.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { Store } from '../../../src/store/store.ts';
import type { Pod, Service } from '../../../src/store/types.ts';
import { startLab } from '../../helpers/labFixture.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, slice } from '../../unit/dns/helpers/dnsObjects.ts';
import { dataOf, dnsAsker, expectReply, getent, waitForEveryServer } from './helpers/dnsLabClients.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const UPSTREAM_SCRIPT = new URL('./helpers/fakeUpstreamProcess.ts', import.meta.url).pathname;
const DNS = '10.96.0.10';
const Z = 'cluster.local';
const TTL = 30;
/** What the stand-in upstream answers for example.org A (TEST-NET-1). */
const FAKE_UPSTREAM_ADDRESS = '192.0.2.53';
const MODE_SERVICES = { verified: '10.96.0.53', insecure: '10.96.0.54' } as const;

function pod(namespace: string, name: string, nodeName: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName, containers: [{ name: 'c' }] } } as Pod;
}

/** A ClusterIP Service in front of one node's DNS server (what kube-dns is for all of them). */
function oneServerDns(name: string, clusterIP: string, nodeIP: string): [Service, ReturnType<typeof slice>] {
  const ports = [{ name: 'dns', port: 53, protocol: 'UDP' as const }, { name: 'dns-tcp', port: 53, protocol: 'TCP' as const }];
  return [clusterIpService('kube-system', name, [clusterIP], ports), slice('kube-system', name, `${name}-a`, [endpoint(nodeIP)], ports)];
}

async function startUpstream(t: ExecutionContext, lab: Lab): Promise<() => string[]> {
  const addr = primaryAddress(lab.client);
  await lab.spawn('client', 'fake-upstream', [process.execPath, '--import=tsx', UPSTREAM_SCRIPT, addr, '53', FAKE_UPSTREAM_ADDRESS], { cwd: REPO });
  t.teardown(() => lab.stop('fake-upstream'));
  const log = join(lab.paths.logDir, 'fake-upstream.log');
  const read = () => { try { return readFileSync(log, 'utf8'); } catch { return ''; } };
  await waitFor('the fake upstream bound', () => read().includes('ready'), 30_000, 100);
  return () => read().split('\n').filter((l) => l.startsWith('asked ')).map((l) => l.slice(6));
}

/** Queries the nodes' servers logged (name and rcode), from their query logs. */
function serverLog(lab: Lab): Array<{ qname: string; qtype: string; rcode: string }> {
  const out: Array<{ qname: string; qtype: string; rcode: string }> = [];
  for (const node of lab.nodes) {
    for (const line of readFileSync(join(lab.paths.logDir, `${agentProcess(node.id)}.log`), 'utf8').split('\n')) {
      if (!line.includes('"op":"query"')) continue;
      try { out.push(JSON.parse(line) as { qname: string; qtype: string; rcode: string }); } catch { /* a partial line */ }
    }
  }
  return out;
}

async function setUp(t: ExecutionContext): Promise<{ lab: Lab; store: Store; upstreamAsked: () => string[]; appIP: string }> {
  const lab = await startLab(t, { nodes: 2, routing: 'vxlan' });
  const upstreamAsked = await startUpstream(t, lab);
  const modes = ['verified', 'insecure'];
  const cp = await startControlPlane(lab, { dns: (nodeId) => ({
    upstreams: [`${primaryAddress(lab.client)}:53`], ttl: TTL, logQueries: true, pods: modes[lab.nodes.findIndex((n) => n.id === nodeId)] ?? 'disabled',
  }) });
  const store = await openStore(cp.hostStore);
  t.teardown(() => store.close());
  const [n1, n2] = lab.nodes;
  for (const o of [
    clusterIpService('shop', 'api', ['10.96.0.100', 'fd00:96::100'], [{ name: 'http', port: 80, protocol: 'TCP' }], { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }),
    clusterIpService('shop', 'web', ['10.96.0.102'], [{ name: 'http', port: 80, protocol: 'TCP' }]),
    headlessService('shop', 'db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
    slice('shop', 'db', 'db-a', [endpoint('10.244.200.1', { hostname: 'db-0' })], [{ name: 'pg', port: 5432 }]),
    externalNameService('shop', 'ext', 'example.org'),
    ...oneServerDns('dns-verified', MODE_SERVICES.verified, primaryAddress(n1!)),
    ...oneServerDns('dns-insecure', MODE_SERVICES.insecure, primaryAddress(n2!)),
    pod('shop', 'app', n1!.id), pod('other', 'peer', n2!.id),
  ]) await store.create(o);
  let appIP = '';
  for (const [ns, name] of [['shop', 'app'], ['other', 'peer']] as const) {
    const p = await waitFor(`pod ${ns}/${name} Ready`, async () => {
      const cur = await store.get('Pod', name, ns);
      return cur?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? cur : undefined;
    }, 120_000, 250);
    if (name === 'app') appIP = p.status!.podIP!;
  }
  // The last objects created, on every node's server (the modes' Services need the proxy too: asked below).
  await waitForEveryServer(lab, 'shop/app', ['dns-insecure.kube-system.svc.cluster.local', 'A'], (r) => r.answer.length === 1);
  await waitForEveryServer(lab, 'shop/app', ['ext.shop.svc.cluster.local', 'CNAME'], (r) => r.answer.length === 1);
  return { lab, store, upstreamAsked, appIP };
}

async function glibc(t: ExecutionContext, lab: Lab): Promise<void> {
  for (const [target, ns] of [['shop/app', 'shop'], ['other/peer', 'other']] as const) {
    const file = join('/etc/netns', await lab.resolve(target), 'resolv.conf');
    t.is(readFileSync(file, 'utf8'), podResolvConf(ns, DNS), `${target}: the kubelet's ClusterFirst resolv.conf`);
  }
  // The first lookup waits for the proxy to have the Service and both servers to have the name.
  const web = await waitFor('getent hosts web', async () => { const r = await getent(lab, 'shop/app', ['hosts', 'web']); return r.code === 0 && r; }, 30_000, 250);
  t.deepEqual(web.lines, [['10.96.0.102', 'web.shop.svc.cluster.local']], 'getent hosts <svc>: first search suffix');
  t.deepEqual((await getent(lab, 'other/peer', ['hosts', 'web.shop'])).lines, [['10.96.0.102', 'web.shop.svc.cluster.local']],
    'getent hosts <svc>.<ns> from another namespace: second search suffix');
  t.deepEqual((await getent(lab, 'shop/app', ['hosts', 'db-0.db'])).lines, [['10.244.200.1', 'db-0.db.shop.svc.cluster.local']], 'getent hosts <hostname>.<headless svc>');
  // getaddrinfo's AI_ADDRCONFIG asks AAAA only when the pod has an IPv6 address: give it one.
  await lab.exec('shop/app', ['ip', '-6', 'addr', 'add', 'fd00:99::2/64', 'dev', 'eth0', 'nodad']);
  const ahosts = await getent(lab, 'shop/app', ['ahosts', 'api']);
  t.is(ahosts.code, 0, 'getent ahosts api');
  t.deepEqual([...new Set(ahosts.lines.map((l) => l[0]))].sort(), ['10.96.0.100', 'fd00:96::100'], 'getent ahosts: both families of a dual-stack Service');
  t.true(ahosts.lines.some((l) => l[2] === 'api.shop.svc.cluster.local'), 'getent ahosts: canonical name');
  t.deepEqual((await getent(lab, 'shop/app', ['hosts', 'api'])).lines, [['fd00:96::100', 'api.shop.svc.cluster.local']], 'getent hosts (AF_INET6 first): AAAA of a dual-stack Service');
  t.is((await getent(lab, 'shop/app', ['hosts', 'nope'])).code, 2, 'getent hosts of a missing name: not found');
}

async function searchPathNeverForwarded(t: ExecutionContext, lab: Lab, upstreamAsked: () => string[]): Promise<void> {
  const ext = await getent(lab, 'shop/app', ['hosts', 'example.org']);
  t.deepEqual(ext.lines, [[FAKE_UPSTREAM_ADDRESS, 'example.org']], 'getent hosts example.org: the upstream\'s answer');
  const asked = upstreamAsked();
  t.true(asked.some((a) => a === 'example.org A'), `the upstream got the absolute query (asked: ${asked.join(', ')})`);
  t.deepEqual(asked.filter((a) => a.includes('cluster.local')), [], 'no search-suffix query reached the upstream');
  const suffixed = ['example.org.shop.svc.cluster.local', 'example.org.svc.cluster.local', 'example.org.cluster.local'];
  const logged = serverLog(lab);
  for (const name of suffixed) {
    const seen = logged.filter((l) => l.qname === name);
    t.true(seen.length > 0 && seen.every((l) => l.rcode === 'NXDOMAIN'), `${name}: asked by glibc, answered NXDOMAIN by our servers (${seen.map((l) => `${l.qtype} ${l.rcode}`).join(', ')})`);
  }
  const q = dnsAsker(lab, DNS, 'shop/app');
  expectReply(t, await q.both([suffixed[0]!, 'A']), { status: 'NXDOMAIN' }, 'a search suffix of an external name: authoritative NXDOMAIN');

  for (const r of await q.both(['ext.shop.svc.cluster.local', 'A'])) {
    t.deepEqual(r.answer.map((a) => `${a.name} ${a.type} ${a.data}`), ['ext.shop.svc.cluster.local. CNAME example.org.', `example.org. A ${FAKE_UPSTREAM_ADDRESS}`],
      `${r.tool}: ExternalName to an outside name: CNAME, then the upstream's A (2.5)`);
  }
  const viaGlibc = await getent(lab, 'shop/app', ['ahostsv4', 'ext']);
  t.deepEqual([...new Set(viaGlibc.lines.map((l) => l[0]))], [FAKE_UPSTREAM_ADDRESS], 'getent ahostsv4 ext: through the CNAME');
  t.deepEqual(upstreamAsked().filter((a) => a.includes('cluster.local')), [], 'still no cluster name forwarded');
  t.log(`the upstream was asked: ${[...new Set(upstreamAsked())].join(', ')}`);
}

async function ttlAndPodModes(t: ExecutionContext, lab: Lab, appIP: string): Promise<void> {
  const q = dnsAsker(lab, DNS, 'shop/app');
  expectReply(t, await q.both(['api.shop.svc.cluster.local', 'A']), { status: 'NOERROR', type: 'A', data: ['10.96.0.100'], ttl: TTL }, 'agent dns.ttl 30: record TTL');
  for (const r of await q.both([Z, 'SOA'])) t.regex(dataOf(r.answer, 'SOA')[0] ?? '', / 30$/, `${r.tool}: SOA minimum follows the TTL`);
  for (const r of await q.both(['nope.shop.svc.cluster.local', 'A'])) {
    t.deepEqual(r.authority.map((a) => a.ttl), [TTL], `${r.tool}: NXDOMAIN is negatively cached for the TTL too (SOA TTL = minimum = 30)`);
  }

  const verified = dnsAsker(lab, MODE_SERVICES.verified, 'other/peer');
  const podName = `${dashedIp(appIP)}.shop.pod.${Z}`;
  expectReply(t, await verified.both([podName, 'A']), { status: 'NOERROR', type: 'A', data: [appIP], ttl: TTL }, 'pods verified: a running pod\'s record');
  expectReply(t, await verified.both([`10-244-250-250.shop.pod.${Z}`, 'A']), { status: 'NXDOMAIN' }, 'pods verified: no pod with that address');
  expectReply(t, await verified.both([`${dashedIp(appIP)}.other.pod.${Z}`, 'A']), { status: 'NXDOMAIN' }, 'pods verified: the pod is in another namespace');
  const insecure = dnsAsker(lab, MODE_SERVICES.insecure, 'other/peer');
  expectReply(t, await insecure.both([`10-244-250-250.shop.pod.${Z}`, 'A']), { status: 'NOERROR', type: 'A', data: ['10.244.250.250'] }, 'pods insecure: any address in an existing namespace');
  expectReply(t, await insecure.both([`fd00-10--5.shop.pod.${Z}`, 'AAAA']), { status: 'NOERROR', type: 'AAAA', data: ['fd00:10::5'] }, 'pods insecure: IPv6 dashed label');
  expectReply(t, await insecure.both([`10-244-250-250.nosuchns.pod.${Z}`, 'A']), { status: 'NXDOMAIN' }, 'pods insecure: namespace must exist');
}

test('glibc in pods through 10.96.0.10: search path, dual-stack, external names never forwarded with a cluster suffix; TTL and pod modes', async (t) => {
  t.timeout(900_000, 'a two-node lab on a loaded machine');
  const { lab, upstreamAsked, appIP } = await setUp(t);
  await glibc(t, lab);
  await searchPathNeverForwarded(t, lab, upstreamAsked);
  await ttlAndPodModes(t, lab, appIP);
});
