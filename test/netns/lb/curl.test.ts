/**
 * The LB IP carries traffic: three node namespaces each run `podnetd lb` and `podnetd proxy` (nftables) on a
 * shared file store; one node also runs an HTTP backend; the client curls the Service by its LB IP, the announcing
 * node's proxy forwards it. Then the announcer's `podnetd lb` is killed with -9 and the client's curl loop
 * recovers through the new announcer.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTool } from '../../../src/common/systemTools.ts';
import { rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { buildTopology, ipCmd } from './lbTopology.ts';
import { spawnLb, stopAll, type LbProcess } from './lbProcesses.ts';
import { resolveMac } from '../../../bench/lbBenchFailover.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const prefix = uniquePrefix('lc');
const snapshot = rootSnapshot(prefix);
test.after.always('root namespace untouched', (t) => t.deepEqual(snapshot.leaks(), []));

function manifests(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.yaml'), `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab, namespace: metallb-system}
spec: {addresses: [198.18.0.200-198.18.0.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lab, namespace: metallb-system}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.50
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [198.18.0.31]
  conditions: {ready: true}
ports: [{name: http, port: 8080, protocol: TCP}]
`);
}

async function curl(clientNs: string, url: string): Promise<string> {
  const r = await run(findTool('ip')!, ['netns', 'exec', clientNs, findTool('curl') ?? '/usr/bin/curl', '-s', '-m', '2', url], { encoding: 'utf8' }).catch(() => ({ stdout: '' }));
  return r.stdout;
}

test.serial('curl by the LB IP reaches the backend, also after kill -9 of the announcer', async (t) => {
  if (!findTool('curl')) return t.fail('curl is not installed');
  const topo = buildTopology(prefix, 3, 1);
  t.teardown(() => topo.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'podnet-lbcurl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = join(dir, 'store');
  manifests(store);
  const children: Array<ReturnType<typeof spawn>> = [];
  t.teardown(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });
  const inNs = (ns: string, argv: string[]) => {
    const c = spawn(findTool('ip')!, ['netns', 'exec', ns, ...argv], { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(c);
    return c;
  };
  inNs(topo.hosts[0]!.ns, [process.execPath, '-e', "require('http').createServer((q,s)=>s.end('backend-ok\\n')).listen(8080,'198.18.0.31')"]);
  const proxies = new Map<string, ReturnType<typeof spawn>>();
  for (const n of topo.nodes) {
    ipCmd(['netns', 'exec', n.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    proxies.set(n.mac, inNs(n.ns, [process.execPath, '--import=tsx', join(ROOT, 'cmd/podnetd/main.ts'), 'proxy', '--store', `file:${store}`, '--node', n.name, '--masquerade-all']));
  }
  const lbs = new Map<string, LbProcess>(topo.nodes.map((n) => [n.mac, spawnLb(store, n.name, n.ns, join(dir, 'logs'))]));
  t.teardown(() => stopAll(lbs.values()));
  let body = '';
  for (let i = 0; i < 100 && !body.includes('backend-ok'); i++) {
    body = await curl(topo.client, 'http://198.18.0.200/');
    if (!body) await new Promise((r) => setTimeout(r, 300));
  }
  t.is(body.trim(), 'backend-ok');
  const owner = (await resolveMac(topo.client, '198.18.0.200'))!;
  // The announcing node dies: its lb and proxy are killed and its link goes down, so only a takeover (and the
  // client believing the gratuitous ARP) brings the traffic back.
  lbs.get(owner)!.child.kill('SIGKILL');
  proxies.get(owner)!.kill('SIGKILL');
  ipCmd(['-n', topo.nodes.find((n) => n.mac === owner)!.ns, 'link', 'set', 'eth0', 'down']);
  let recovered = '';
  for (let i = 0; i < 50 && !recovered.includes('backend-ok'); i++) recovered = await curl(topo.client, 'http://198.18.0.200/');
  t.is(recovered.trim(), 'backend-ok');
  t.not(await resolveMac(topo.client, '198.18.0.200'), owner);
});
