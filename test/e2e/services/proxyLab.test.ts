/**
 * The proxy in the lab: 3 nodes, each running `podnetd proxy` (nftables) against the lab's file store, and the
 * lab's test server on every node standing in for endpoints (the lab kubelet that makes pod namespaces is a later
 * issue, so endpoints are the nodes' own addresses, like hostNetwork pods). From the client namespace:
 * NodePort reaches endpoints on several nodes; externalTrafficPolicy Local only the node's own endpoint and the
 * client's source address is preserved; a ClusterIP answers from a node. kubernetes test/e2e/network/service.go:
 * "should be able to create a functioning NodePort service", "should preserve source IP ... ETP Local".
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { primaryAddress } from '../../../src/lab/addressPlan.ts';
import { podnetctlCommand, type Lab } from '../../../src/lab/lab.ts';
import { startLab } from '../../helpers/labFixture.ts';

const PODNETD = new URL('../../../cmd/podnetd/main.ts', import.meta.url).pathname;
const REPO = new URL('../../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function manifests(nodes: Array<{ id: string; ip: string }>): string {
  const nodeDocs = nodes.map((n) => `apiVersion: v1\nkind: Node\nmetadata: { name: ${n.id} }\nstatus: { addresses: [{ type: InternalIP, address: ${n.ip} }] }`);
  const eps = nodes.map((n) => `{ addresses: [${n.ip}], nodeName: ${n.id} }`).join(', ');
  const service = (name: string, ip: string, nodePort: number, etp: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: NodePort, clusterIP: ${ip}, externalTrafficPolicy: ${etp}, ports: [{ name: tcp, protocol: TCP, port: 80, targetPort: 8082, nodePort: ${nodePort} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: tcp, protocol: TCP, port: 8082 }]
endpoints: [${eps}]`;
  return [...nodeDocs, service('web', '10.96.0.50', 30080, 'Cluster'), service('web-local', '10.96.0.51', 30081, 'Local')].join('\n---\n');
}

async function ask(lab: Lab, from: string, addr: string, port: number): Promise<string[]> {
  const r = await lab.exec(from, ['socat', '-t2', '-T3', '-', `TCP:${addr}:${port},connect-timeout=3`], { input: 'hello\nclientip\n', allowFailure: true });
  return r.stdout.trim().split('\n');
}

async function waitHealthy(lab: Lab, node: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const r = await lab.exec(node, ['curl', '-sf', '--max-time', '1', 'http://127.0.0.1:10256/healthz'], { allowFailure: true });
    if (r.code === 0) return;
    await sleep(200);
  }
  throw new Error(`podnetd proxy in ${node} did not become healthy`);
}

test('3-node lab: NodePort spreads over nodes, ETP Local keeps the client address, ClusterIP from a node', async (t) => {
  const lab = await startLab(t, { nodes: 3 });
  const nodes = lab.nodes.map((n) => ({ id: n.id, ip: primaryAddress(n) }));
  writeFileSync(join(lab.storeDir, 'proxy-e2e.yaml'), manifests(nodes));
  const ctl = podnetctlCommand();
  for (const n of nodes) {
    await lab.spawn(n.id, `serve-${n.id}`, [...ctl.argv, 'lab', 'serve', '--name', `srv-${n.id}`], { cwd: ctl.cwd });
    await lab.spawn(n.id, `proxy-${n.id}`, [process.execPath, '--import=tsx', PODNETD, 'proxy', '--store', `file:${lab.storeDir}`, '--node', n.id,
      '--min-sync-period', '100ms', '--log-level', 'warn'], { cwd: REPO });
  }
  for (const n of nodes) await waitHealthy(lab, n.id);

  const seen = new Set<string>();
  for (let i = 0; i < 15; i++) seen.add((await ask(lab, 'client', nodes[0]!.ip, 30080))[0]!);
  t.true(seen.size >= 2 && [...seen].every((s) => /^srv-n\d$/.test(s)), `NodePort on n1 answered by ${[...seen].join(', ')}`);

  for (let i = 0; i < 5; i++) {
    const [name, clientip] = await ask(lab, 'client', nodes[1]!.ip, 30081);
    t.is(name, `srv-${nodes[1]!.id}`, 'ETP Local: only the local endpoint');
    t.regex(clientip ?? '', /^198\.18\.0\.2:\d+$/, 'ETP Local: client source address preserved');
  }
  const [fromNode] = await ask(lab, nodes[2]!.id, '10.96.0.50', 80);
  t.regex(fromNode ?? '', /^srv-n\d$/, 'ClusterIP answers from a node');
});
