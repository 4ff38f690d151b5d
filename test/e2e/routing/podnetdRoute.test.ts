/**
 * `podnetd route` as real processes, one per lab node (started in the node's namespace by the lab), sharing the
 * lab's `file:` store: Node objects written as manifests, pods wired as namespaces behind each node (the lab
 * kubelet and the CNI wiring them is a later issue). Pods on different nodes reach each other; kill -9 of
 * podnetd on a node and a restart lose no packet of a ping flood between pods on different nodes.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost } from '../../../src/lab/lab.ts';
import { startLab } from '../../helpers/labFixture.ts';
import { addPod, nodeObject, podMatrixFailures, waitFor, type Pod } from '../../netns/routing/helpers/routingCluster.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function podnetdRoute(lab: Lab, host: LabHost, stateDir: string, name: string) {
  const argv = [process.execPath, '--import=tsx', join(REPO, 'cmd', 'podnetd', 'main.ts'), 'route',
    '--store', `file:${lab.storeDir}`, '--node', host.id, '--backend', 'vxlan', '--resync', '2',
    '--node-state', join(stateDir, host.id, 'node.json'), '--log-level', 'info'];
  return lab.spawn(host.id, name, argv, { cwd: REPO });
}

test.serial('podnetd route on three lab nodes: pods reach each other; kill -9 and restart lose no packet', async (t) => {
  const lab = await startLab(t, { nodes: 3, routing: 'vxlan' });
  const stateDir = mkdtempSync(join(tmpdir(), 'podnet-e2e-routing-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  lab.nodes.forEach((h, k) => writeFileSync(join(lab.storeDir, `node-${h.id}.json`), JSON.stringify(nodeObject(h, k + 1))));
  const pods = new Map<string, Pod>(lab.nodes.map((h, k) => [h.id, addPod(lab, h, k + 1)]));
  const cluster = { lab, pods };
  for (const h of lab.nodes) await podnetdRoute(lab, h, stateDir, `route-${h.id}`);

  const ready = await waitFor(async () => (await podMatrixFailures(cluster)).length === 0, 60_000, 250);
  t.log(`all pods reachable ${(ready / 1000).toFixed(1)} s after starting the three podnetd processes`);
  if (ready === -1) for (const p of lab.processes()) t.log(`${p.name}: ${readFileSync(p.log, 'utf8').slice(-1500)}`);
  t.not(ready, -1, `still failing: ${(await podMatrixFailures(cluster)).join(', ')}`);
  t.is(JSON.parse(readFileSync(join(stateDir, 'n1', 'node.json'), 'utf8')).mtu, 1450);

  const [p1, p2] = [pods.get('n1')!, pods.get('n2')!];
  const flood = lab.exec(p1.ns, ['ping', '-q', '-i', '0.002', '-c', '2000', '-W', '1', p2.ip], { allowFailure: true, timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 500));
  const victim = lab.processes().find((p) => p.name === 'route-n1')!;
  process.kill(victim.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  await podnetdRoute(lab, lab.host('n1'), stateDir, 'route-n1-restarted');
  const out = (await flood).stdout;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  t.truthy(m, out);
  t.log(`ping flood n1 pod → n2 pod across kill -9 + restart of podnetd on n1: ${m![1]} sent, ${m![2]} received`);
  t.is(m![2], m![1], 'not one packet lost');
  t.deepEqual(await podMatrixFailures(cluster), []);
  const log = readFileSync(lab.processes().find((p) => p.name === 'route-n1-restarted')!.log, 'utf8');
  t.regex(log, /backend running/);
  t.notRegex(log, /kernel changes failed/);
});
