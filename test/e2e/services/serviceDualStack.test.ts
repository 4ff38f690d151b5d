/**
 * Dual-stack Services end to end (kubernetes test/e2e/network/dual_stack.go, the granular checks on the second
 * family) in one 3-node vxlan lab with `ipFamily: 'dual'` (pods p1..p3 with an IPv4 and an IPv6 address), first
 * in nftables mode, then switched to iptables mode (ip6tables-restore), then back. Per mode, over IPv6: ClusterIP
 * (TCP and UDP on one port number, several backends) beside the IPv4 one, NodePort on the node's IPv6 address,
 * ETP Local keeping the client's IPv6 source, ClientIP affinity, externalIPs, hairpin, no endpoints and an unused
 * port refused. Not covered: IPv6 LoadBalancer IPs (the lab's L2 pool is IPv4 only).
 */
import test from 'ava';
import { isIP } from 'node:net';
import type { Lab } from '../../../src/lab/lab.ts';
import { primaryAddress6, type LabProxyMode } from '../../../src/lab/addressPlan.ts';
import type { EndpointSlice, Pod, Service, ServiceSpec } from '../../../src/store/types.ts';
import { createServiceLab, destroyServiceLab, assertRefused, curl, curlMany, distinct, restartAgent, socatOnce, tool, waitFor, type ServiceLab } from './_serviceLab.ts';
import { PODS, pods, putSlice, type PodName } from './_serviceManifests.ts';

const POD_NAME = /^p[123]$/;
const V6 = { ds: 'fd00:10:96::a1', local: 'fd00:10:96::a2', sticky: 'fd00:10:96::a3', empty: 'fd00:10:96::a4', self: 'fd00:10:96::a5', ext: 'fd00:10:96::a6' };
const V4 = { ds: '10.96.101.1', local: '10.96.101.2', sticky: '10.96.101.3', self: '10.96.101.5', ext: '10.96.101.6' };
const NODE_PORT = { ds: 30300, local: 30301 };
const EXTERNAL_IP6 = 'fd00:203::250';

let s: ServiceLab | undefined;
const podIP6 = new Map<PodName, string>();
const lab = (): Lab => s!.lab;
const node6 = (id: string) => primaryAddress6(lab().host(id));
const url = (ip: string, port: number, path: string) => `http://${isIP(ip) === 6 ? `[${ip}]` : ip}:${port}${path}`;
const HTTP = { name: 'http', protocol: 'TCP' as const, port: 80, targetPort: 8080 };

function service(name: string, ips: string[], spec: ServiceSpec): Service {
  const families = ips.map((ip) => (isIP(ip) === 6 ? 'IPv6' : 'IPv4') as 'IPv4' | 'IPv6');
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
    spec: { clusterIP: ips[0], clusterIPs: ips, ipFamilies: families, ipFamilyPolicy: ips.length > 1 ? 'RequireDualStack' : 'SingleStack', ...spec } };
}

function services(): Service[] {
  const web = { selector: { app: 'web' } };
  return [
    service('ds', [V4.ds, V6.ds], { ...web, type: 'NodePort', ports: [{ ...HTTP, nodePort: NODE_PORT.ds }, { name: 'udp', protocol: 'UDP', port: 80, targetPort: 8081 }] }),
    service('ds-local', [V4.local, V6.local], { ...web, type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ ...HTTP, nodePort: NODE_PORT.local }] }),
    service('ds-sticky', [V4.sticky, V6.sticky], { ...web, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [HTTP] }),
    service('ds-empty', [V6.empty], { selector: { app: 'nothing' }, ports: [HTTP] }),
    service('ds-self', [V6.self], { ports: [HTTP] }),
    service('ds-ext', [V4.ext, V6.ext], { ...web, externalIPs: [EXTERNAL_IP6], ports: [HTTP] }),
  ];
}

/** ds-self's IPv6 slice: p1 only, so p1 reaching it is a hairpin. */
function selfSlice(): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'ds-self-manual', namespace: 'default', labels: { 'kubernetes.io/service-name': 'ds-self' } },
    addressType: 'IPv6', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: [{ addresses: [podIP6.get('p1')!], nodeName: 'n1', conditions: { ready: true } }] };
}

test.before(async () => {
  s = await createServiceLab('nftables', 'dual');
  const { lab: l, store } = s;
  await l.exec('client', ['ip', '-6', 'route', 'add', `${EXTERNAL_IP6}/128`, 'via', primaryAddress6(l.host('n1'))]);
  for (const p of pods()) await store.create(p);
  for (const name of PODS) {
    const p = await waitFor(`pod ${name} Running with two IPs`, async () => {
      const x: Pod | undefined = await store.get('Pod', name, 'default');
      return x?.status?.phase === 'Running' && (x.status.podIPs?.length ?? 0) >= 2 ? x : undefined;
    }, 90_000);
    podIP6.set(name, p.status!.podIPs!.map((i) => i.ip).find((ip) => isIP(ip) === 6)!);
  }
  for (const svc of services()) await store.create(svc);
  await putSlice(store, selfSlice());
});

test.after.always(async () => {
  await destroyServiceLab(s);
});

function registerDualStackTests(mode: LabProxyMode): void {
  test.serial(`${mode}: IPv6 ClusterIP (TCP and UDP on port 80) beside the IPv4 one; NodePort on the node's IPv6 address`, async (t) => {
    await waitFor('IPv6 ClusterIP answers', async () => POD_NAME.test((await curl(lab(), 'p1', url(V6.ds, 80, '/hostname'))).body), 30_000);
    const names = distinct(await curlMany(lab(), 'p1', url(V6.ds, 80, '/hostname'), 20));
    t.true(names.length >= 2 && names.every((n) => POD_NAME.test(n)), `IPv6 ClusterIP answered by ${names.join(', ')}`);
    t.regex((await curl(lab(), 'p1', url(V4.ds, 80, '/hostname'))).body, POD_NAME, 'the IPv4 ClusterIP of the same Service');
    t.regex(await socatOnce(lab(), 'p2', `UDP6:[${V6.ds}]:80`), POD_NAME, 'UDP over IPv6 on the same port number');
    const seen = (await curl(lab(), 'p2', url(V6.self, 80, '/clientip'))).body;
    t.is(seen.replace(/:\d+$/, ''), `[${podIP6.get('p2')}]`, 'pod → IPv6 ClusterIP (endpoint on another node): the pod\'s own source');
    const viaNode = distinct(await curlMany(lab(), 'client', url(node6('n1'), NODE_PORT.ds, '/hostname'), 15));
    t.true(viaNode.length >= 2 && viaNode.every((n) => POD_NAME.test(n)), `IPv6 NodePort on n1 answered by ${viaNode.join(', ')}`);
    await assertRefused(t, lab(), 'n1', url('::1', NODE_PORT.ds, '/hostname'), 'no NodePort on ::1');
  });

  test.serial(`${mode}: IPv6 ETP Local keeps the client's IPv6 address; ClientIP affinity; externalIPs; hairpin`, async (t) => {
    t.deepEqual(distinct(await curlMany(lab(), 'client', url(node6('n2'), NODE_PORT.local, '/hostname'), 6)), ['p2'], 'ETP Local: n2\'s own endpoint');
    const seen = (await curl(lab(), 'client', url(node6('n2'), NODE_PORT.local, '/clientip'))).body;
    t.is(seen.replace(/:\d+$/, ''), `[${primaryAddress6(lab().client)}]`, 'the client\'s IPv6 source address is preserved');
    const sticky = distinct(await curlMany(lab(), 'p3', url(V6.sticky, 80, '/hostname'), 15));
    t.is(sticky.length, 1, `IPv6 ClientIP affinity: one backend (${sticky.join(', ')})`);
    t.regex((await curl(lab(), 'client', url(EXTERNAL_IP6, 80, '/hostname'))).body, POD_NAME, 'IPv6 externalIP through n1');
    t.deepEqual(distinct(await curlMany(lab(), 'p1', url(V6.self, 80, '/hostname'), 3)), ['p1'], 'IPv6 hairpin');
  });

  test.serial(`${mode}: IPv6 Service without endpoints and unused IPv6 port: refused at once`, async (t) => {
    await assertRefused(t, lab(), 'p1', url(V6.empty, 80, '/'), 'no endpoints: connection refused');
    await assertRefused(t, lab(), 'p1', url(V6.ds, 81, '/'), 'unused port on a live IPv6 ClusterIP: refused');
  });
}

const ip6Table = async (node: string) => (await lab().exec(node, [tool('nft'), 'list', 'table', 'ip6', 'podnet-proxy'], { allowFailure: true })).code === 0;
const ip6Chains = async (node: string) => /PODNET-/.test((await lab().exec(node, [tool('ip6tables-save')], { allowFailure: true })).stdout);

async function switchMode(mode: LabProxyMode): Promise<void> {
  for (const n of lab().nodes) await restartAgent(lab(), n.id, (proxy) => { proxy.mode = mode; });
}

registerDualStackTests('nftables');

test.serial('switching to iptables removes the ip6 podnet-proxy table and installs ip6tables chains', async (t) => {
  await switchMode('iptables');
  for (const n of lab().nodes) {
    t.false(await ip6Table(n.id), `${n.id}: ip6 podnet-proxy gone`);
    t.true(await ip6Chains(n.id), `${n.id}: ip6tables PODNET-* chains`);
  }
});

registerDualStackTests('iptables');

test.serial('switching back to nftables removes the ip6tables chains', async (t) => {
  await switchMode('nftables');
  for (const n of lab().nodes) {
    t.false(await ip6Chains(n.id), `${n.id}: no ip6tables PODNET-* chain left`);
    t.true(await ip6Table(n.id), `${n.id}: ip6 podnet-proxy is back`);
  }
});
