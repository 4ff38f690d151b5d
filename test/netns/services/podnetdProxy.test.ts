/**
 * `podnetd proxy` as a process inside the node namespace, reading a file store: a Service written to the store
 * is served by ClusterIP and NodePort, an EndpointSlice change reaches the kernel, /healthz on 10256 answers 200,
 * a healthCheckNodePort answers 200 with a ready local endpoint and 503 with only a terminating one,
 * /metrics carries kube-proxy's metric names, and --mode ipvs is refused with a clear message on this kernel.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { buildTopology, answers, NODE_IP } from './_proxyTopology.ts';
import { runTool, findTool } from '../../../src/common/systemTools.ts';

const PREFIX = uniquePrefix('pxd');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));
const PODNETD = new URL('../../../cmd/podnetd/main.ts', import.meta.url).pathname;

const manifest = (eps: string[], lbEndpointTerminating = false) => `
apiVersion: v1
kind: Node
metadata: { name: node }
status: { addresses: [{ type: InternalIP, address: ${NODE_IP} }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  ports: [{ name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, protocol: TCP, port: 8080 }]
endpoints: [${eps.map((ip) => `{ addresses: [${ip}], nodeName: node }`).join(', ')}]
---
apiVersion: v1
kind: Service
metadata: { name: lb, namespace: default }
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.11
  externalTrafficPolicy: Local
  healthCheckNodePort: 32000
  ports: [{ name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30081 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: lb-1, namespace: default, labels: { kubernetes.io/service-name: lb } }
addressType: IPv4
ports: [{ name: http, protocol: TCP, port: 8080 }]
endpoints: [{ addresses: [${eps[0]}], nodeName: node, conditions: { ready: ${!lbEndpointTerminating}, serving: true, terminating: ${lbEndpointTerminating} } }]
`;

async function http(ns: string, url: string): Promise<{ code: number; body: string }> {
  const r = await runTool('ip', ['netns', 'exec', ns, findTool('curl')!, '-s', '-m', '3', '-w', '\n%{http_code}', url], { allowFailure: true });
  const lines = r.stdout.trimEnd().split('\n');
  return { code: Number(lines.pop()), body: lines.join('\n') };
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, tries = 60): Promise<T> {
  let v = await what();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 250));
    v = await what();
  }
  return v;
}

test.serial('podnetd proxy: store → rules → traffic, endpoint change, healthz and metrics', async (t) => {
  const topo = await buildTopology(t, PREFIX);
  const dir = mkdtempSync(join(tmpdir(), 'pxd-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [b1, b2] = topo.backends;
  writeFileSync(join(dir, 'app.yaml'), manifest([b1!.ip, b2!.ip]));
  const proc = spawn('ip', ['netns', 'exec', topo.node, process.execPath, '--import=tsx', PODNETD, 'proxy', '--store', `file:${dir}`, '--node', 'node',
    '--cluster-cidr', '10.244.0.0/16', '--min-sync-period', '100ms', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += String(d); });
  t.teardown(() => { proc.kill('SIGKILL'); });

  const health = await until(() => http(topo.node, 'http://127.0.0.1:10256/healthz'), (r) => r.code === 200);
  t.is(health.code, 200, stderr);
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 40), ['b1', 'b2']);
  t.deepEqual(await answers(topo.client, NODE_IP, 30080, 40), ['b1', 'b2']);

  const hc = await http(topo.client, `http://${NODE_IP}:32000/`);
  t.is(hc.code, 200, 'healthCheckNodePort: a ready local endpoint');
  t.deepEqual(JSON.parse(hc.body), { service: { namespace: 'default', name: 'lb' }, localEndpoints: 1, serviceProxyHealthy: true });

  writeFileSync(join(dir, 'app.yaml'), manifest([b1!.ip], true));
  const draining = await until(() => http(topo.client, `http://${NODE_IP}:32000/`), (r) => r.code === 503);
  t.is(draining.code, 503, 'only a terminating local endpoint left: 503 so the load balancer drains the node');
  t.deepEqual(await answers(topo.client, NODE_IP, 30081, 4), ['b1'], '...while the NodePort still serves it');

  writeFileSync(join(dir, 'app.yaml'), manifest([b2!.ip]));
  const after = await until(() => answers(topo.client, '10.96.0.10', 80, 6), (a) => a.length === 1 && a[0] === 'b2');
  t.deepEqual(after, ['b2'], 'the endpoint change reached the kernel');

  const metrics = await http(topo.node, 'http://127.0.0.1:10249/metrics');
  t.regex(metrics.body, /podnet_sync_proxy_rules_last_timestamp_seconds \d/);
  t.regex(metrics.body, /podnet_sync_partial_proxy_rules_duration_seconds_count [1-9]/);
  proc.kill('SIGTERM');
});

test('--mode ipvs on a kernel without ip_vs: exit 1 and say which modes to use', async (t) => {
  const r = await runTool(process.execPath, ['--import=tsx', PODNETD, 'proxy', '--mode', 'ipvs', '--store', 'file:/nonexistent'], { allowFailure: true });
  t.is(r.code, 1);
  t.regex(r.stderr, /no ip_vs module; use --mode nftables \(the default\) or --mode iptables/);
  t.notRegex(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
});
