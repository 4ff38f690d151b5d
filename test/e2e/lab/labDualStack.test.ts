/**
 * Dual-stack end to end (`lab up --ip-family dual`): pods get an IPv4 and an IPv6 address from their node's two pod
 * CIDRs and reach each other across nodes in both families; a RequireDualStack Service gets a ClusterIP of each
 * family, an IPv4 and an IPv6 EndpointSlice, and answers curl on both ClusterIPs from a pod on another node, and
 * on its NodePort at a node's IPv6 address from the client namespace.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { canonicalIp } from '../../../src/common/ipAddress.ts';
import type { LabProxyMode, LabRouting } from '../../../src/lab/addressPlan.ts';
import { nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import type { Lab } from '../../../src/lab/lab.ts';
import type { Store } from '../../../src/store/store.ts';
import type { Pod, Service } from '../../../src/store/types.ts';
import { startCluster } from '../../helpers/labFixture.ts';
import { waitFor as waitForState } from '../../helpers/waitFor.ts';

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>) => waitForState(what, probe, 60_000, 200);

function pod(name: string, nodeName: string, app: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } },
    spec: { nodeName, containers: [{ name: 'c' }] } };
}

async function runningPod(store: Store, name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running with two IPs`, async () => {
    const p = await store.get('Pod', name, 'default');
    return p?.status?.phase === 'Running' && (p.status.podIPs?.length ?? 0) >= 2 ? p : undefined;
  });
}

const url = (ip: string, port: number, path: string) => `http://${isIP(ip) === 6 ? `[${ip}]` : ip}:${port}${path}`;

async function curl(lab: Lab, from: string, target: string): Promise<string> {
  const r = await lab.exec(from, ['curl', '-sS', '--max-time', '2', target], { allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : `curl:${r.code} ${r.stderr.trim()}`;
}

async function dualStackCluster(t: ExecutionContext, routing: LabRouting, proxyMode?: LabProxyMode, nodes = 2) {
  const { lab, store } = await startCluster(t, { nodes, routing, ipFamily: 'dual', ...(proxyMode ? { proxyMode } : {}) });
  await store.create(pod('web-1', 'n2', 'web'));
  await store.create(pod('probe', 'n1', 'probe'));
  const web = await runningPod(store, 'web-1');
  await runningPod(store, 'probe');
  return { lab, store, web };
}

/** Pods on n1 and n2 have one address per family, from their node's pod CIDRs, and reach each other in both. */
async function assertPodNetwork(t: ExecutionContext, lab: Lab, web: Pod): Promise<void> {
  const n2 = JSON.parse(readFileSync(nodeFiles(lab.paths, 'n2').nodeState, 'utf8')) as { podCIDRs: string[] };
  t.is(n2.podCIDRs.length, 2);
  t.regex(n2.podCIDRs[1]!, /^fd00:10:244:[0-9a-f:]*\/64$/);
  const [v4, v6] = web.status!.podIPs!.map((p) => p.ip);
  t.is(isIP(v4!), 4);
  t.is(isIP(v6!), 6);
  t.true(v6!.startsWith(n2.podCIDRs[1]!.split('::/')[0]!), `${v6} in ${n2.podCIDRs[1]}`);
  t.is(await curlUntil(lab, 'probe', url(v6!, 8080, '/hostname'), 'web-1'), 'web-1', 'pod to pod across nodes over IPv6');
  t.is(await curlUntil(lab, 'probe', url(v4!, 8080, '/hostname'), 'web-1'), 'web-1', 'and over IPv4');
}

/**
 * The peers' routes to a pod CIDR are programmed by another node's agent, which may trail the pod's Ready by a
 * few seconds on a loaded machine: wait (bounded) for the answer, and return the last one when it never comes.
 */
async function curlUntil(lab: Lab, from: string, target: string, want: string): Promise<string> {
  let last = '';
  await waitForState(`${want} from ${target}`, async () => (last = await curl(lab, from, target)) === want, 30_000, 500).catch(() => undefined);
  return last;
}

/** The source address a UDP server in the client namespace (outside the cluster) sees from the probe pod. */
async function seenByClient(lab: Lab, address: string): Promise<string> {
  const server = lab.exec('client', ['timeout', '8', 'socat', '-T2', `UDP6-RECVFROM:9200,bind=[${address}]`, 'SYSTEM:echo $SOCAT_PEERADDR'], { allowFailure: true });
  await waitFor('UDP server in the client namespace', async () => (await lab.exec('client', ['ss', '-Hlun', 'sport', '=', ':9200'])).stdout.includes('9200'));
  const r = await lab.exec('probe', ['sh', '-c', `echo hi | timeout 3 socat -T2 - UDP6:[${address}]:9200`], { allowFailure: true });
  await server;
  // socat writes the full form in brackets: [fd00:0198:...:0011].
  return canonicalIp(r.stdout.trim().replace(/^\[|\]$/g, '')) ?? r.stdout.trim();
}

/**
 * The masquerade rules belong to the routing part, a process of its own that may start after the pod is Running:
 * until they are in, the reply to the pod's unmasqueraded address has no way back and nothing is seen. Ask again
 * (bounded) while nothing arrives; a wrong source address is returned at once.
 */
async function seenByClientUntil(lab: Lab, address: string): Promise<string> {
  let seen = '';
  for (let i = 0; i < 6 && seen === ''; i++) seen = await seenByClient(lab, address);
  return seen;
}

async function assertDualStackService(t: ExecutionContext, lab: Lab, store: Store): Promise<void> {
  const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } };
  await store.create(svc);
  const got = await waitFor('Service web with two clusterIPs', async () => {
    const s = await store.get('Service', 'web', 'default');
    return (s?.spec.clusterIPs?.length ?? 0) === 2 ? s : undefined;
  });
  const [ip4, ip6] = got.spec.clusterIPs!;
  t.deepEqual(got.spec.ipFamilies, ['IPv4', 'IPv6']);
  t.regex(ip4!, /^10\.96\./);
  t.regex(ip6!, /^fd00:10:96::/);
  const slices = await waitFor('an IPv6 EndpointSlice with web-1', async () => {
    const list = (await store.list('EndpointSlice', { namespace: 'default' })).items.filter((e) => e.metadata.labels?.['kubernetes.io/service-name'] === 'web');
    return list.some((e) => e.addressType === 'IPv6' && e.endpoints.length === 1) ? list : undefined;
  });
  t.deepEqual(slices.map((e) => e.addressType).sort(), ['IPv4', 'IPv6']);
  // From a pod on the other node, through the proxy's ip6 and ip tables.
  t.is(await waitFor(`curl ${ip6} from n1's pod`, async () => (await curl(lab, 'probe', url(ip6!, 80, '/hostname'))) === 'web-1' && 'web-1'), 'web-1');
  t.is(await curl(lab, 'probe', url(ip4!, 80, '/hostname')), 'web-1');
  const seen = await curl(lab, 'probe', url(ip6!, 80, '/clientip'));
  t.regex(seen, /^\[fd00:10:244:/, `the backend sees the client pod's own IPv6 address (no SNAT pod to pod): ${seen}`);
  // From outside the cluster: the NodePort on n1's IPv6 underlay address (the backend runs on n2).
  const nodePort = got.spec.ports![0]!.nodePort!;
  t.is(await curl(lab, 'client', url('fd00:198:18::11', nodePort, '/hostname')), 'web-1', `NodePort ${nodePort} over IPv6`);
}

// Serial: four 3-node labs at once (eight agent processes per node since issue 14) starved each other on 2 cores.
test.serial('vxlan, nftables proxy: dual-stack pods across nodes and a RequireDualStack Service on both ClusterIPs', async (t) => {
  const { lab, store, web } = await dualStackCluster(t, 'vxlan');
  await assertPodNetwork(t, lab, web);
  t.is(await seenByClientUntil(lab, 'fd00:198:18::2'), 'fd00:198:18::11', 'IPv6 leaving the cluster is masqueraded to the node\'s IPv6 address');
  await assertDualStackService(t, lab, store);
});

test.serial('cross-subnet: IPv6 pod CIDRs direct within a subnet, over vxlan across the router', async (t) => {
  const { lab, store, web } = await dualStackCluster(t, 'cross-subnet', undefined, 3);
  await assertPodNetwork(t, lab, web);
  await store.create(pod('far', 'n3', 'far'));
  const far = await runningPod(store, 'far');
  const far6 = far.status!.podIPs![1]!.ip;
  t.is(await curl(lab, 'probe', url(far6, 8080, '/hostname')), 'far', 'n1 (segment A) to n3 (segment B) over IPv6');
  const routes = (await lab.exec('n1', ['ip', '-6', 'route', 'show', 'proto', '157'])).stdout;
  t.regex(routes, /fd00:10:244:[0-9a-f:]*\/64 via fd00:198:18::12 dev eth0/, 'same segment: direct via n2\'s IPv6 address');
  t.regex(routes, /fd00:10:244:[0-9a-f:]*\/64 via fd00:10:244:[0-9a-f:]* dev podnet\.1/, 'across the router: vxlan');
});

test.serial('host-gw: IPv6 pod CIDRs are routed via the peers\' IPv6 node addresses', async (t) => {
  const { lab, web } = await dualStackCluster(t, 'host-gw');
  await assertPodNetwork(t, lab, web);
  const routes = await lab.exec('n1', ['ip', '-6', 'route', 'show', 'proto', '157']);
  t.regex(routes.stdout, /fd00:10:244:[0-9a-f:]*\/64 via fd00:198:18::12 dev eth0/);
});

test.serial('iptables proxy: the same RequireDualStack Service answers on both ClusterIPs (ip6tables)', async (t) => {
  const { lab, store } = await dualStackCluster(t, 'vxlan', 'iptables');
  await assertDualStackService(t, lab, store);
});
