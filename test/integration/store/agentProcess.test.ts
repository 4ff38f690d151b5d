/** `podnetd agent --config FILE` as a process on a file store: registers the node, writes node.json, leads the
 * endpoints controller, and exits 0 on SIGTERM. Two agents on one store: one leader, distinct pod CIDRs. */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../../src/store/backends/fileStore.ts';
import { waitFor } from './storeTestKit.ts';

function startAgent(t: { teardown(fn: () => unknown): void }, dir: string, node: string): ChildProcess {
  const config = join(dir, `${node}.yaml`);
  writeFileSync(config, `nodeName: ${node}\nnodeIP: 198.18.0.${node === 'n1' ? 11 : 12}\nnodeStateFile: ${join(dir, node, 'node.json')}\ncontroller: {leaseTTLSeconds: 2}\n`);
  const p = spawn(process.execPath, ['--import', 'tsx', 'cmd/podnetd/main.ts', 'agent', '--config', config, '--store', `file:${join(dir, 'store')}`, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
  return p;
}

test('two agents on one file store: distinct pod CIDRs, one controller, clean exit on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const storeDir = join(dir, 'store');
  const store = await FileStore.open(storeDir);
  t.teardown(() => store.close());
  writeFileSync(join(storeDir, 'app.yaml'), `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.9.9, conditions: [{type: Ready, status: "True"}]}
`);
  const a = startAgent(t, dir, 'n1');
  const b = startAgent(t, dir, 'n2');
  await waitFor('both node.json', () => existsSync(join(dir, 'n1', 'node.json')) && existsSync(join(dir, 'n2', 'node.json')), 60_000);
  const s1 = JSON.parse(readFileSync(join(dir, 'n1', 'node.json'), 'utf8')) as { podCIDR: string };
  const s2 = JSON.parse(readFileSync(join(dir, 'n2', 'node.json'), 'utf8')) as { podCIDR: string };
  t.not(s1.podCIDR, s2.podCIDR);
  await waitFor('the slice', async () => (await store.list('EndpointSlice')).items.length === 1, 30_000);
  t.regex((await store.get('Service', 'web'))?.spec.clusterIP ?? '', /^10\.96\./);
  const leader = await store.getLease('podnet-endpoints-controller');
  t.regex(leader?.holder ?? '', /^n[12]\/\d+$/);
  t.deepEqual((await store.list('Node')).items.map((n) => n.spec?.podCIDR).sort(), [s1.podCIDR, s2.podCIDR].sort());
  const codes = await Promise.all([a, b].map((p) => new Promise<number | null>((resolve) => { p.once('exit', resolve); p.kill('SIGTERM'); })));
  t.deepEqual(codes, [0, 0]);
  t.is(await store.getLease('podnet-endpoints-controller'), undefined, 'the leader released its lease on exit');
});
