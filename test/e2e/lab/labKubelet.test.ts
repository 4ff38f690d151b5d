import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeletProcess, startKubelet } from '../../../src/lab/labControlPlane.ts';
import { nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { isRunning } from '../../../src/lab/labProcesses.ts';
import { readPodRecords } from '../../../src/lab/kubeletSandbox.ts';
import type { Store } from '../../../src/store/store.ts';
import type { Pod } from '../../../src/store/types.ts';
import { listNetns, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { startCluster } from '../../helpers/labFixture.ts';
import { waitFor as waitForState } from '../../helpers/waitFor.ts';

/** Lab waits are long (pods start, stores sync) and poll slowly (each probe execs a command in a namespace). */
const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>) => waitForState(what, probe, 60_000, 200);

function pod(name: string, nodeName?: string, command?: string[]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', ...(command ? { command } : {}) }] } };
}

/** Poll (bounded) until `check` returns a value; the failure names what was awaited. */
async function runningPod(store: Store, name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running with an IP`, async () => {
    const p = await store.get('Pod', name, 'default');
    return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  });
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (n(ip) & mask) >>> 0 === (n(base) & mask) >>> 0;
}

test('a pod gets a namespace, an address from its node\'s pod CIDR and its status; delete and down remove it all', async (t) => {
  const { lab, store } = await startCluster(t, { nodes: 2 });
  const root = rootSnapshot(`${lab.name}-`);
  await store.create(pod('p1', 'n1'));
  await store.create(pod('p2', 'n1'));
  const p1 = await runningPod(store, 'p1');
  const p2 = await runningPod(store, 'p2');

  // podnetd registered its node dual-stack on the underlay: one InternalIP per family, as a kubelet with
  // --node-ip=IPv4,IPv6 publishes them.
  const node = await store.get('Node', 'n1');
  t.deepEqual(node?.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address), ['198.18.0.11', 'fd00:198:18::11']);
  const n1 = nodeFiles(lab.paths, 'n1');
  const podCidr = (JSON.parse(readFileSync(n1.nodeState, 'utf8')) as { podCIDR: string }).podCIDR;
  for (const p of [p1, p2]) {
    t.true(inCidr(p.status!.podIP!, podCidr), `${p.metadata.name} ${p.status!.podIP} in ${podCidr}`);
    t.deepEqual(p.status!.podIPs, [{ ip: p.status!.podIP! }]);
    t.is(p.status!.hostIP, '198.18.0.11');
    t.is(p.status!.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  }
  const ns1 = `${lab.name}-pod-default-p1`;
  t.true(listNetns().includes(ns1));
  // The address is on eth0 inside the pod's namespace, and the IPAM lease is on disk (host-local layout).
  const addr = await lab.exec('p1', ['ip', '-4', '-o', 'address', 'show', 'dev', 'eth0']);
  t.regex(addr.stdout, new RegExp(`inet ${p1.status!.podIP!.replace(/\./g, '\\.')}/`));
  const lease = join(n1.ipamDataDir, 'podnet', p1.status!.podIP!);
  t.true(existsSync(lease));

  // The default container is the lab's test server: another pod on the node asks it who it is.
  const hostname = await lab.exec('p2', ['curl', '-s', '-m', '5', `http://${p1.status!.podIP}:8080/hostname`]);
  t.is(hostname.stdout.trim(), 'p1');
  const resolv = await lab.exec('p1', ['cat', '/etc/resolv.conf']);
  t.regex(resolv.stdout, /^nameserver 10\.96\.0\.10$/m);
  t.regex(resolv.stdout, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  t.regex(resolv.stdout, /^options ndots:5$/m);

  const [rec1] = readPodRecords(n1.kubeletDir).filter((r) => r.key === 'default/p1');
  t.truthy(rec1);
  await store.delete('Pod', 'p1', 'default');
  await waitFor('p1 namespace removed', () => (listNetns().includes(ns1) ? undefined : true));
  await waitFor('p1 record removed', () => (readPodRecords(n1.kubeletDir).some((r) => r.key === 'default/p1') ? undefined : true));
  t.false(existsSync(lease), 'the IPAM lease is released');
  t.false(existsSync(join('/etc/netns', ns1)), 'resolv.conf directory removed');
  t.false(rec1!.processes.some(isRunning), 'the pod\'s process stopped');
  t.true(listNetns().includes(`${lab.name}-pod-default-p2`), 'the other pod is untouched');

  const processes = [...lab.processes(), ...readPodRecords(n1.kubeletDir).flatMap((r) => r.processes)];
  t.true(processes.length >= 5, 'etcd-less lab: 2 podnetd, 2 kubelets, 1 pod');
  await lab.destroy();
  t.deepEqual(processes.filter(isRunning).map((p) => p.name), [], 'down stops podnetd, kubelets and pods');
  t.deepEqual(root.leaks(), []);
  t.deepEqual(listNetns().filter((n) => n.startsWith(`${lab.name}-`)), []);
});

test('etcd store and vxlan: pods without a node are spread round robin and reach each other across nodes', async (t) => {
  const { lab, store } = await startCluster(t, { nodes: 2, store: 'etcd', routing: 'vxlan' });
  t.regex((await lab.exec('fabric', ['ss', '-ltn'])).stdout, /198\.18\.0\.1:2379/);
  await store.create(pod('a'));
  await store.create(pod('b'));
  const a = await runningPod(store, 'a');
  const b = await runningPod(store, 'b');
  t.deepEqual([a.spec.nodeName, b.spec.nodeName].sort(), ['n1', 'n2'], 'one pod per node');
  t.not(a.status!.hostIP, b.status!.hostIP);
  // Running says the pod's own network is up; the route to the other node's pod CIDR comes from that node's
  // registration, which the routing part may still be programming on a busy machine: bounded retries, timed.
  const since = Date.now();
  let last = '';
  await waitFor(`pod a reaches pod b (${b.status!.podIP}) on the other node`, async () => {
    const r = await lab.exec('a', ['curl', '-s', '-m', '5', `http://${b.status!.podIP}:8080/hostname`], { allowFailure: true });
    last = `exit ${r.code}: ${r.stdout.trim()}`;
    return r.code === 0 && r.stdout.trim() === 'b';
  }).catch((err: Error) => { throw new Error(`${err.message}; last curl ${last}`); });
  t.log(`a → b across nodes answered ${Date.now() - since} ms after both pods were Running`);
  const status = await lab.status();
  t.deepEqual(status.pods.map((p) => `${p.pod}@${p.node}:${p.alive}`).sort(),
    [`default/a@${a.spec.nodeName}:true`, `default/b@${b.spec.nodeName}:true`]);
  t.true(status.processes.some((p) => p.name === 'etcd' && p.alive));
});

test('a pod whose CNI ADD fails is reported in its status and leaves no namespace', async (t) => {
  const { lab, store } = await startCluster(t, { nodes: 1 });
  // Point the plugin at a node state file that does not exist (a node whose podnetd never ran).
  const n1 = nodeFiles(lab.paths, 'n1');
  const conf = readFileSync(n1.conflist, 'utf8');
  writeFileSync(n1.conflist, conf.replaceAll(n1.nodeState, join(n1.dir, 'missing-node.json')));
  await store.create(pod('bad', 'n1'));
  const failed = await waitFor('bad pod failure status', async () => {
    const p = await store.get('Pod', 'bad', 'default');
    return p?.status?.reason === 'SandboxCreateFailed' ? p : undefined;
  });
  t.is(failed.status!.phase, 'Pending');
  t.regex(failed.status!.message!, /CNI ADD with plugin podnet/);
  // Between retries nothing is left: no namespace, no record (a retry may be in flight at any given instant).
  await waitFor('a clean state between retries', () =>
    (!listNetns().includes(`${lab.name}-pod-default-bad`) && readPodRecords(n1.kubeletDir).length === 0 ? true : undefined));
  // Fixed conflist: the retry succeeds without anyone touching the pod.
  writeFileSync(n1.conflist, conf);
  const ok = await runningPod(store, 'bad');
  t.truthy(ok.status!.podIP);
});

test('a restarted kubelet adopts running pods and catches up with what changed while it was down', async (t) => {
  const { lab, store } = await startCluster(t, { nodes: 1 });
  const n1 = nodeFiles(lab.paths, 'n1');
  await store.create(pod('stay', 'n1'));
  await store.create(pod('go', 'n1'));
  await runningPod(store, 'stay');
  await runningPod(store, 'go');
  const stayBefore = readPodRecords(n1.kubeletDir).find((r) => r.key === 'default/stay')!;

  const kubelet = lab.processes().find((p) => p.name === kubeletProcess('n1'))!;
  process.kill(kubelet.pid, 'SIGKILL');
  await waitFor('kubelet gone', () => (isRunning(kubelet) ? undefined : true));
  await store.delete('Pod', 'go', 'default');
  await store.create(pod('new', 'n1'));
  await startKubelet(lab, 'n1');

  await runningPod(store, 'new');
  await waitFor('the pod deleted meanwhile is torn down', () => (listNetns().includes(`${lab.name}-pod-default-go`) ? undefined : true));
  const stayAfter = readPodRecords(n1.kubeletDir).find((r) => r.key === 'default/stay')!;
  t.deepEqual(stayAfter.processes.map((p) => p.pid), stayBefore.processes.map((p) => p.pid), 'not restarted');
  t.true(stayAfter.processes.every(isRunning));
  t.is(stayAfter.podIPs[0], stayBefore.podIPs[0]);
  t.deepEqual(readPodRecords(n1.kubeletDir).map((r) => r.key).sort(), ['default/new', 'default/stay']);
});

test('a hostNetwork pod runs in the node\'s namespace with the node\'s address; deleting it leaves the node alone', async (t) => {
  const { lab, store } = await startCluster(t, { nodes: 1 });
  const hn = pod('hn', 'n1', ['sleep', '600']);
  hn.spec.hostNetwork = true;
  await store.create(hn);
  const running = await runningPod(store, 'hn');
  t.is(running.status!.podIP, '198.18.0.11');
  t.false(listNetns().some((n) => n.startsWith(`${lab.name}-pod-`)), 'no pod namespace');
  const [rec] = readPodRecords(nodeFiles(lab.paths, 'n1').kubeletDir);
  t.is(rec!.netns, `${lab.name}-n1`);
  await store.delete('Pod', 'hn', 'default');
  await waitFor('hn record removed', () => (readPodRecords(nodeFiles(lab.paths, 'n1').kubeletDir).length ? undefined : true));
  t.false(rec!.processes.some(isRunning));
  t.true(listNetns().includes(`${lab.name}-n1`));
  t.true(lab.processes().every(isRunning), 'podnetd and the kubelet still run');
});
