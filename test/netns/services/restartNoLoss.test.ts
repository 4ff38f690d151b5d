/**
 * Restart without loss (issue 5, "Done when"): a TCP stream through a ClusterIP keeps flowing while podnetd proxy
 * is killed with SIGKILL and started again. The new process adopts the table (names only, flush-and-refill in one
 * transaction) instead of flushing it, and conntrack keeps the established flow's NAT.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { buildTopology } from './_proxyTopology.ts';
import { runTool, findTool } from '../../../src/common/systemTools.ts';

const PREFIX = uniquePrefix('pxr');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));
const PODNETD = new URL('../../../cmd/podnetd/main.ts', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const manifest = (ep: string) => `apiVersion: v1
kind: Service
metadata: { name: stream, namespace: default }
spec: { clusterIP: 10.96.0.60, ports: [{ name: echo, protocol: TCP, port: 80, targetPort: 9000 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: stream-1, namespace: default, labels: { kubernetes.io/service-name: stream } }
addressType: IPv4
ports: [{ name: echo, protocol: TCP, port: 9000 }]
endpoints: [{ addresses: [${ep}] }]
`;

async function healthy(ns: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const r = await runTool('ip', ['netns', 'exec', ns, findTool('curl')!, '-sf', '-m', '1', 'http://127.0.0.1:10256/healthz'], { allowFailure: true });
    if (r.code === 0) return true;
    await sleep(100);
  }
  return false;
}

test.serial('kill -9 and restart of podnetd proxy: a running TCP stream through a ClusterIP loses nothing', async (t) => {
  const topo = await buildTopology(t, PREFIX, 1);
  const b1 = topo.backends[0]!;
  const echo = spawn('ip', ['netns', 'exec', b1.ns, findTool('socat')!, 'TCP-LISTEN:9000,reuseaddr,fork', 'EXEC:cat'], { stdio: 'ignore' });
  t.teardown(() => { echo.kill('SIGKILL'); });
  const dir = mkdtempSync(join(tmpdir(), 'pxr-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.yaml'), manifest(b1.ip));
  const procs: ChildProcess[] = [];
  t.teardown(() => { for (const p of procs) p.kill('SIGKILL'); });
  const startProxy = () => {
    const p = spawn('ip', ['netns', 'exec', topo.node, process.execPath, '--import=tsx', PODNETD, 'proxy', '--store', `file:${dir}`, '--node', 'node', '--log-level', 'warn'], { stdio: 'ignore' });
    procs.push(p);
    return p;
  };
  const first = startProxy();
  t.true(await healthy(topo.node));
  await sleep(300); // let the echo server listen

  const client = spawn('ip', ['netns', 'exec', topo.client, findTool('socat')!, '-', 'TCP:10.96.0.60:80'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => { client.kill('SIGKILL'); });
  let echoed = '';
  let clientErr = '';
  client.stdout.on('data', (d) => { echoed += String(d); });
  client.stderr.on('data', (d) => { clientErr += String(d); });
  let sent = 0;
  const sender = setInterval(() => { client.stdin.write(`line-${++sent}\n`); }, 20);

  await sleep(500);
  first.kill('SIGKILL');
  await sleep(300);
  startProxy();
  t.true(await healthy(topo.node), 'the restarted proxy becomes healthy');
  await sleep(500);
  clearInterval(sender);
  await sleep(300);
  client.stdin.end();
  await new Promise((r) => client.once('exit', r));

  const lines = echoed.trim().split('\n');
  t.is(clientErr, '', 'no connection error on the client');
  t.true(sent > 50, `sent ${sent} lines`);
  t.is(lines.length, sent, 'every line came back: the stream was never interrupted');
  t.is(lines.at(-1), `line-${sent}`);
});
