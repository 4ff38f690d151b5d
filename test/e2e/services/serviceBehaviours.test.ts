/**
 * Every Service behaviour of issue #5 end to end in one 3-node vxlan lab (pods p1..p3 on n1..n3, the client
 * namespace outside the cluster), first with every node's proxy in nftables mode, then switched to iptables
 * mode (which must remove the nftables tables), then back (which must remove the PODNET-* chains and ipsets).
 * Modelled on kubernetes test/e2e/network/service.go, conntrack.go and networking.go; each test names what it
 * checks. SCTP is not here: this kernel has no SCTP sockets (CONFIG_IP_SCTP is not set), so SCTP DNAT is checked
 * at the packet level in test/netns/services/iptSctp.test.ts. Dual stack: serviceDualStack.test.ts.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { agentProcess } from '../../../src/lab/labControlPlane.ts';
import type { Lab } from '../../../src/lab/lab.ts';
import type { LabProxyMode } from '../../../src/lab/addressPlan.ts';
import { primaryAddress } from '../../../src/lab/addressPlan.ts';
import type { Pod } from '../../../src/store/types.ts';
import {
  createServiceLab, destroyServiceLab, assertRefused, curl, curlMany, distinct, socatOnce, restartAgent, tool, waitFor, type ServiceLab,
} from './_serviceLab.ts';
import {
  EXTERNAL_IP, HEALTH_CHECK_NODE_PORT, IP, NODE_PORT, PODS, REFUSED_CLIENT_IP, TERMINATING_SERVING, initialSlices, pods,
  putSlice, services, sliceFor, type PodName,
} from './_serviceManifests.ts';
import { registerDisruptionTests } from './_serviceDisruption.ts';

/** n3's NodePorts answer only on this extra address (agent config proxy.nodePortAddresses). */
const N3_NODEPORT_IP = '198.18.0.99';
const POD_NAME = /^p[123]$/;

let s: ServiceLab | undefined;
const podIPs = new Map<PodName, string>();
let lbIP = '';

const lab = (): Lab => s!.lab;
const nodeIP = (id: string) => primaryAddress(lab().host(id));
const isReady = (p: Pod | undefined) => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

test.before(async () => {
  s = await createServiceLab('nftables');
  const { lab: l, store } = s;
  const clientDev = l.client.interfaces[0]!.dev;
  await l.exec('client', ['ip', 'addr', 'add', `${REFUSED_CLIENT_IP}/24`, 'dev', clientDev]);
  // externalIPs are routed to a node by the cluster's operator (here: the client's route to n1).
  await l.exec('client', ['ip', 'route', 'add', `${EXTERNAL_IP}/32`, 'via', nodeIP('n1')]);
  await l.exec('n3', ['ip', 'addr', 'add', `${N3_NODEPORT_IP}/24`, 'dev', l.host('n3').interfaces[0]!.dev]);
  for (const p of pods()) await store.create(p);
  for (const name of PODS) {
    const p = await waitFor(`pod ${name} Ready`, async () => { const x = await store.get('Pod', name, 'default'); return isReady(x) ? x : undefined; }, 90_000);
    podIPs.set(name, p.status!.podIP!);
  }
  for (const svc of services()) await store.create(svc);
  for (const slice of initialSlices(podIPs)) await putSlice(store, slice);
  await restartAgent(l, 'n3', (proxy) => { proxy.nodePortAddresses = [`${N3_NODEPORT_IP}/32`]; });
  const lb = await waitFor('an LB IP for Service lb', async () => (await store.get('Service', 'lb', 'default'))?.status?.loadBalancer?.ingress?.[0]?.ip);
  lbIP = lb;
});

test.after.always(async () => {
  await destroyServiceLab(s);
});

/** Where each node's podnetd log stood when its current mode started (to read what it said since). */
const logOffsets = new Map<string, number>();

async function switchMode(mode: LabProxyMode): Promise<void> {
  for (const n of lab().nodes) {
    await restartAgent(lab(), n.id, (proxy) => { proxy.mode = mode; });
    logOffsets.set(n.id, readFileSync(agentLog(n.id)).length);
  }
}

function agentLog(node: string): string {
  const rec = lab().processes().find((p) => p.name === agentProcess(node));
  if (!rec) throw new Error(`no podnetd recorded for ${node}`);
  return rec.log;
}

/** Drift repairs a node's podnetd logged since its mode started. */
const driftRepairsSince = (node: string) =>
  readFileSync(agentLog(node)).subarray(logOffsets.get(node) ?? 0).toString().split('\n').filter((l) => l.includes('"event":"rulesChanged"')).length;

/** The warnings and errors in a node's podnetd log (for failure messages). */
function agentWarnings(node: string): string {
  const log = agentLog(node);
  if (!existsSync(log)) return '(no log)';
  return readFileSync(log, 'utf8').split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-5).join('\n') || '(nothing)';
}

const nftTable = async (node: string) => (await lab().exec(node, [tool('nft'), 'list', 'table', 'ip', 'podnet-proxy'], { allowFailure: true })).code === 0;
const iptChains = async (node: string) => {
  const v4 = (await lab().exec(node, [tool('iptables-save')], { allowFailure: true })).stdout;
  const v6 = (await lab().exec(node, [tool('ip6tables-save')], { allowFailure: true })).stdout;
  const sets = (await lab().exec(node, [tool('ipset'), 'list', '-n'], { allowFailure: true })).stdout;
  return /PODNET-/.test(v4) || /PODNET-/.test(v6) || /PODNET-/.test(sets);
};

/** The first answer that satisfies `ok`, awaited (a fresh mode or Service may still be programming). */
async function eventually(what: string, from: string, url: string, ok: (r: { code: number; body: string }) => boolean, extra: string[] = []) {
  return waitFor(what, async () => { const r = await curl(lab(), from, url, extra); return ok(r) ? r : undefined; });
}

function registerBehaviourTests(mode: LabProxyMode): void {
  test.serial(`${mode}: ClusterIP with several ports, TCP and UDP on one port number, unused port refused`, async (t) => {
    await eventually('ClusterIP multi answers from p1', 'p1', `http://${IP.multi}/hostname`, (r) => POD_NAME.test(r.body));
    const names = distinct(await curlMany(lab(), 'p1', `http://${IP.multi}/hostname`, 20));
    t.true(names.length >= 2 && names.every((n) => POD_NAME.test(n)), `TCP 80 answered by ${names.join(', ')}`);
    t.regex(await socatOnce(lab(), 'p2', `UDP:${IP.multi}:80`), POD_NAME, 'UDP 80 (same port number as TCP 80)');
    t.regex(await socatOnce(lab(), 'p3', `TCP:${IP.multi}:82`), POD_NAME, 'second TCP port 82');
    await assertRefused(t, lab(), 'p1', `http://${IP.multi}:81/`, 'unused port on a live ClusterIP: connection refused');
    // Service stream's only endpoint is p2 (another node): no hairpin masquerade in the way.
    const seen = await socatOnce(lab(), 'p1', `TCP:${IP.stream}:82`, 'clientip');
    t.is(seen.replace(/:\d+$/, ''), podIPs.get('p1')!, 'pod → ClusterIP: the pod\'s own source address (not masqueraded)');
  });

  test.serial(`${mode}: NodePort on the primary address only (spread over nodes), nodePortAddresses, no localhost NodePort`, async (t) => {
    await eventually('NodePort on n1', 'client', `http://${nodeIP('n1')}:${NODE_PORT.np}/hostname`, (r) => POD_NAME.test(r.body));
    const names = distinct(await curlMany(lab(), 'client', `http://${nodeIP('n1')}:${NODE_PORT.np}/hostname`, 20));
    t.true(names.length >= 2 && names.every((n) => POD_NAME.test(n)), `NodePort on n1 answered by ${names.join(', ')}`);
    t.regex((await curl(lab(), 'client', `http://${nodeIP('n2')}:${NODE_PORT.np}/hostname`)).body, POD_NAME, 'NodePort on n2');
    const src = (await curl(lab(), 'client', `http://${nodeIP('n2')}:${NODE_PORT.np}/clientip`)).body;
    t.true(/^\d+\.\d+\.\d+\.\d+:\d+$/.test(src) && !src.startsWith('198.18.0.2:'), `ETP Cluster NodePort: masqueraded (${src})`);
    t.regex((await curl(lab(), 'client', `http://${N3_NODEPORT_IP}:${NODE_PORT.np}/hostname`)).body, POD_NAME, 'n3: on its nodePortAddresses');
    t.not((await curl(lab(), 'client', `http://${nodeIP('n3')}:${NODE_PORT.np}/hostname`)).code, 0, 'n3: not on its primary address');
    await assertRefused(t, lab(), 'n1', `http://127.0.0.1:${NODE_PORT.np}/hostname`, 'no NodePort on localhost');
    // n1's other addresses (vxlan, pod gateway): reached from a pod on another node, the NodePort is not there.
    const addrs = (await lab().exec('n1', ['ip', '-4', '-o', 'addr', 'show'])).stdout.match(/inet (\S+)\//g)!.map((a) => a.slice(5, -1));
    const others = addrs.filter((x) => x !== nodeIP('n1') && !x.startsWith('127.'));
    t.log(`n1's other IPv4 addresses: ${others.join(', ') || 'none'}`);
    for (const a of others) {
      t.not((await curl(lab(), 'p2', `http://${a}:${NODE_PORT.np}/hostname`)).code, 0, `no NodePort on n1's ${a}`);
    }
  });

  test.serial(`${mode}: LoadBalancer IP with loadBalancerSourceRanges (allowed and refused client); externalIPs`, async (t) => {
    await eventually('LB IP from the client', 'client', `http://${lbIP}/hostname`, (r) => POD_NAME.test(r.body));
    t.true((await curlMany(lab(), 'client', `http://${lbIP}/hostname`, 5)).every((n) => POD_NAME.test(n)), 'allowed source 198.18.0.2/32');
    const refused = await curl(lab(), 'client', `http://${lbIP}/hostname`, ['--interface', REFUSED_CLIENT_IP]);
    t.is(refused.code, 28, `a source outside loadBalancerSourceRanges gets nothing (curl ${refused.code}: ${refused.body})`);
    t.regex((await curl(lab(), 'client', `http://${EXTERNAL_IP}/hostname`)).body, POD_NAME, 'externalIP through n1');
  });

  test.serial(`${mode}: sessionAffinity ClientIP on the ClusterIP and the NodePort`, async (t) => {
    await eventually('ClusterIP sticky', 'p1', `http://${IP.sticky}/hostname`, (r) => POD_NAME.test(r.body));
    const viaClusterIP = distinct(await curlMany(lab(), 'p1', `http://${IP.sticky}/hostname`, 15));
    t.is(viaClusterIP.length, 1, `15 requests from p1, one backend: ${viaClusterIP.join(', ')}`);
    const viaNodePort = distinct(await curlMany(lab(), 'client', `http://${nodeIP('n2')}:${NODE_PORT.sticky}/hostname`, 15));
    t.is(viaNodePort.length, 1, `15 requests from the client, one backend: ${viaNodePort.join(', ')}`);
    t.regex(viaNodePort[0]!, POD_NAME);
    // timeoutSeconds (600) reaches the kernel: the affinity sets' timeout, or `-m recent --seconds`.
    const rules = mode === 'nftables'
      ? (await lab().exec('n1', [tool('nft'), 'list', 'table', 'ip', 'podnet-proxy'])).stdout
      : (await lab().exec('n1', [tool('iptables-save'), '-t', 'nat'])).stdout;
    t.regex(rules, mode === 'nftables' ? /set aff-[0-9A-F]+ \{[^}]*timeout 10m/ : /--rcheck --seconds 600 --reap/, 'affinity timeout programmed');
  });

  test.serial(`${mode}: ETP Local keeps the client address; healthCheckNodePort 200/503, 503 with only terminating endpoints (still served)`, async (t) => {
    await putSlice(s!.store, sliceFor('local', podIPs, { p1: {}, p2: {} }));
    const hc = async (addr: string) => (await lab().exec('client', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2',
      `http://${addr}:${HEALTH_CHECK_NODE_PORT}/`], { allowFailure: true })).stdout.trim();
    await waitFor('healthCheckNodePort 200 on n1', async () => (await hc(nodeIP('n1'))) === '200');
    const url = (addr: string, path: string) => `http://${addr}:${NODE_PORT.local}/${path}`;
    t.deepEqual(distinct(await curlMany(lab(), 'client', url(nodeIP('n1'), 'hostname'), 8)), ['p1'], 'n1: only its own endpoint');
    t.regex((await curl(lab(), 'client', url(nodeIP('n2'), 'clientip'))).body, /^198\.18\.0\.2:\d+$/, 'client source address preserved');
    t.is(await hc(nodeIP('n3')), '503', 'n3 has no local endpoint: 503');
    t.is((await curl(lab(), 'client', url(N3_NODEPORT_IP, 'hostname'))).code, 28, 'n3 drops (no local endpoint, endpoints elsewhere)');
    await putSlice(s!.store, sliceFor('local', podIPs, { p1: TERMINATING_SERVING, p2: {} }));
    await waitFor('healthCheckNodePort 503 on n1 once p1 is terminating', async () => (await hc(nodeIP('n1'))) === '503');
    t.deepEqual(distinct(await curlMany(lab(), 'client', url(nodeIP('n1'), 'hostname'), 5)), ['p1'], 'still served by the terminating p1');
    await putSlice(s!.store, sliceFor('local', podIPs, { p1: {}, p2: {} }));
  });

  test.serial(`${mode}: ITP Local; fallback to serving terminating endpoints; publishNotReadyAddresses`, async (t) => {
    await eventually('ITP Local from p2', 'p2', `http://${IP.itp}/hostname`, (r) => POD_NAME.test(r.body));
    t.deepEqual(distinct(await curlMany(lab(), 'p1', `http://${IP.itp}/hostname`, 6)), ['p1'], 'ITP Local from p1: its node\'s endpoint');
    t.deepEqual(distinct(await curlMany(lab(), 'p2', `http://${IP.itp}/hostname`, 6)), ['p2'], 'ITP Local from p2: its node\'s endpoint');
    t.is((await curl(lab(), 'p1', `http://${IP.itpFar}/hostname`)).code, 28, 'ITP Local without a local endpoint: dropped');
    t.deepEqual(distinct(await curlMany(lab(), 'p1', `http://${IP.term}/hostname`, 6)), ['p3'], 'only a serving terminating endpoint: used');
    t.is((await curl(lab(), 'p1', `http://${IP.notReady}/hostname`)).body, 'p2', 'publishNotReadyAddresses: the not-ready endpoint serves');
    await assertRefused(t, lab(), 'p1', `http://${IP.notReadyOff}/hostname`, 'without it: no endpoints, refused');
  });

  test.serial(`${mode}: no endpoints refused at once; hairpin; service-proxy-name and headless labels ignored`, async (t) => {
    await assertRefused(t, lab(), 'p1', `http://${IP.empty}/`, 'ClusterIP without endpoints: connection refused');
    await assertRefused(t, lab(), 'client', `http://${nodeIP('n1')}:${NODE_PORT.empty}/`, 'NodePort without endpoints: refused');
    t.deepEqual(distinct(await curlMany(lab(), 'p1', `http://${IP.self}/hostname`, 3)), ['p1'], 'hairpin: p1 reaches itself through its Service');
    for (const ip of [IP.otherProxy, IP.headless]) {
      const r = await curl(lab(), 'p1', `http://${ip}/hostname`);
      t.true(r.code !== 0 && !POD_NAME.test(r.body), `${ip} is left alone (curl ${r.code})`);
    }
  });

  registerDisruptionTests(mode, () => ({ lab: lab(), store: s!.store, podIPs }));
}

registerBehaviourTests('nftables');

test.serial('switching every node from nftables to iptables removes the nftables tables', async (t) => {
  await switchMode('iptables');
  for (const n of lab().nodes) {
    t.false(await nftTable(n.id), `${n.id}: ip podnet-proxy is gone; its podnetd said: ${agentWarnings(n.id)}`);
    t.true(await iptChains(n.id), `${n.id}: PODNET-* chains are there`);
  }
});

registerBehaviourTests('iptables');

test.serial('switching back from iptables to nftables removes every PODNET-* chain and ipset (IPv4 and IPv6)', async (t) => {
  // Only n1's rules were flushed (and repaired): the other nodes never saw drift, so never resynced in full.
  t.deepEqual(['n2', 'n3'].map(driftRepairsSince), [0, 0], 'no spurious drift repairs in iptables mode');
  await switchMode('nftables');
  for (const n of lab().nodes) {
    t.false(await iptChains(n.id), `${n.id}: no PODNET-* chain left`);
    t.true(await nftTable(n.id), `${n.id}: ip podnet-proxy is back`);
  }
  await eventually('ClusterIP after switching back', 'p1', `http://${IP.multi}/hostname`, (r) => POD_NAME.test(r.body));
  t.pass();
});
