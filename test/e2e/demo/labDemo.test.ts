/**
 * The README's lab demo as a test (scripts/demo.sh does the same with the built binaries): a 3-node vxlan lab
 * whose `podnetd agent` runs every part (routing, proxy, DNS, L2 LB, CNI hand-off: the pods are set up through each
 * node's shim and podnetd's socket), deploy/lab-demo.yaml applied
 * (web-1..3, one per node, Service `web` type LoadBalancer 80 → 8080). One lab, several behaviours:
 * ClusterIP from a pod (several backends), NodePort from the client, the Service's name from a pod through
 * 10.96.0.10 (dig over UDP and TCP, and glibc's resolver with the pod's search path), the LB IP from the client
 * (exactly one MAC answers ARP, curl), pods on different nodes, and a Service without endpoints refusing at once.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { startCluster } from '../../helpers/labFixture.ts';
import { arpReplyMacs, startCapture } from '../../netns/lb/lbTopology.ts';
import type { Lab } from '../../../src/lab/lab.ts';
import { primaryAddress } from '../../../src/lab/addressPlan.ts';
import type { AnyKube, Store } from '../../../src/store/store.ts';
import type { Pod, Service } from '../../../src/store/types.ts';
import { waitFor as waitForState } from '../../helpers/waitFor.ts';

const DEMO = new URL('../../../deploy/lab-demo.yaml', import.meta.url).pathname;
const DNS = '10.96.0.10';
/** Lab waits are long (pods start, stores sync) and poll slowly (each probe execs a command in a namespace). */
const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000) =>
  waitForState(what, probe, timeoutMs, 200);

/** Poll `get` every 200 ms until it returns a value, at most `tries` times; the error says what was awaited. */
const isReady = (p: Pod | undefined) => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function curl(lab: Lab, from: string, url: string): Promise<{ code: number; body: string }> {
  const r = await lab.exec(from, ['curl', '-sS', '--max-time', '3', url], { allowFailure: true });
  return { code: r.code, body: r.stdout.trim() };
}

/** The first successful answer of `url` from `from` within ~10 s (a fresh Service may race the proxy's sync). */
async function fetchOk(lab: Lab, from: string, url: string): Promise<string> {
  return waitFor(`${url} from ${from}`, async () => {
    const r = await curl(lab, from, url);
    return r.code === 0 && r.body ? r.body : undefined;
  }, 10_000);
}

async function applyDemo(store: Store): Promise<void> {
  for (const doc of parseAllDocuments(readFileSync(DEMO, 'utf8'))) {
    const obj = doc.toJS() as AnyKube | null;
    if (obj) await store.create(obj);
  }
}

test('lab demo: ClusterIP, NodePort, DNS at 10.96.0.10, LB IP, pods across nodes, no endpoints → refused', async (t) => {
  const { lab, store, controlPlane } = await startCluster(t, { nodes: 3, routing: 'vxlan' });
  t.deepEqual(controlPlane.handoff.nodes, ['n1', 'n2', 'n3'], `CNI hand-off shims: ${controlPlane.handoff.note ?? ''}`);
  await applyDemo(store);
  for (const name of ['web-1', 'web-2', 'web-3']) {
    await waitFor(`pod ${name} Ready`, async () => { const p = await store.get('Pod', name, 'default'); return isReady(p) ? p : undefined; });
  }
  const svc = await waitFor('Service web with its ClusterIP, NodePort and LB IP', async () => {
    const s = await store.get('Service', 'web', 'default');
    return s?.spec.clusterIP && s.spec.ports?.[0]?.nodePort && s.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
  });
  const clusterIP = svc.spec.clusterIP!;
  const nodePort = svc.spec.ports![0]!.nodePort!;
  const lbIP = svc.status!.loadBalancer!.ingress![0]!.ip!;
  const pods = new Map<string, Pod>();
  for (const name of ['web-1', 'web-2', 'web-3']) pods.set(name, (await store.get('Pod', name, 'default'))!);
  t.is(new Set([...pods.values()].map((p) => p.spec.nodeName)).size, 3, 'one web pod per node');

  // ClusterIP from a pod: several backends answer.
  t.regex(await fetchOk(lab, 'web-1', `http://${clusterIP}/hostname`), /^web-[123]$/);
  const loop = await lab.exec('web-1', ['sh', '-c', 'for i in $(seq 15); do curl -s --max-time 2 "http://$0/hostname"; echo; done', clusterIP]);
  const seen = new Set(loop.stdout.split('\n').filter(Boolean));
  t.true(seen.size >= 2 && [...seen].every((s) => /^web-[123]$/.test(s)), `ClusterIP answered by: ${[...seen].join(', ')}`);

  // NodePort from the client namespace, on every node's address.
  for (const node of lab.nodes) {
    t.regex(await fetchOk(lab, 'client', `http://${primaryAddress(node)}:${nodePort}/hostname`), /^web-[123]$/, `NodePort on ${node.id}`);
  }

  // DNS through the proxy at 10.96.0.10: dig over UDP and TCP, glibc with the pod's resolv.conf, curl by name.
  const dig = async (from: string, extra: string[]) => waitFor(`dig ${extra.join(' ')} from ${from}`, async () => {
    const r = await lab.exec(from, ['dig', '+short', '+time=2', '+tries=1', ...extra, `@${DNS}`, 'web.default.svc.cluster.local', 'A'], { allowFailure: true });
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  }, 10_000);
  t.is(await dig('web-1', []), clusterIP, 'dig over UDP');
  t.is(await dig('web-2', ['+tcp']), clusterIP, 'dig over TCP');
  const getent = await lab.exec('web-3', ['getent', 'hosts', 'web'], { allowFailure: true });
  t.is(getent.code, 0, `getent hosts web: ${getent.stderr}`);
  t.deepEqual(getent.stdout.trim().split(/\s+/), [clusterIP, 'web.default.svc.cluster.local']);
  const nx = await lab.exec('web-1', ['dig', '+time=2', '+tries=1', `@${DNS}`, 'nope.default.svc.cluster.local', 'A'], { allowFailure: true });
  t.regex(nx.stdout, /status: NXDOMAIN/, 'a missing Service is NXDOMAIN');
  t.regex(await fetchOk(lab, 'web-3', 'http://web/hostname'), /^web-[123]$/, 'curl by name');

  // The LB IP from the client: exactly one MAC answers ARP, and curl reaches the Service.
  t.regex(await fetchOk(lab, 'client', `http://${lbIP}/hostname`), /^web-[123]$/);
  const cap = await startCapture(lab.client.ns, 'arp', 20);
  await lab.exec('client', ['arping', '-c', '3', '-w', '5', '-i', lab.client.interfaces[0]!.dev, lbIP], { allowFailure: true });
  const macs = arpReplyMacs(await cap.stop(), lbIP);
  t.is(macs.length, 1, `MACs answering ARP for ${lbIP}: ${macs.join(', ') || 'none'}`);

  // Pods on different nodes reach each other directly.
  for (const [from, to] of [['web-1', 'web-2'], ['web-2', 'web-3'], ['web-3', 'web-1']] as const) {
    t.is(await fetchOk(lab, from, `http://${pods.get(to)!.status!.podIP}:8080/hostname`), to, `${from} → ${to}`);
  }

  // A Service with no endpoints: connection refused at once (curl 7), not a timeout (curl 28).
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'default' },
    spec: { selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } } as Service);
  const emptyIP = await waitFor('Service empty clusterIP', async () => (await store.get('Service', 'empty', 'default'))?.spec.clusterIP || undefined);
  const refused = await waitFor('a REJECT for Service empty', async () => {
    const r = await curl(lab, 'web-1', `http://${emptyIP}/`);
    return r.code === 7 ? r : undefined;
  }, 10_000);
  t.is(refused.code, 7, 'curl: connection refused');
});
