/**
 * bench/proxy --datapath — connection setup time to ONE service while 100 or 10,000 services are programmed, in
 * nftables mode (one vmap lookup: should be flat) and iptables mode (a linear rule list: should grow).
 * Topology in fresh namespaces: client → node (rules) → backend; the measured service sorts last (iptables'
 * worst case). Other services have one (unreachable) endpoint each: dispatch cost depends on the number of
 * services, not on their endpoints. Sequential connects from a Node script inside the client namespace.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Service, EndpointSlice } from '../src/store/types.ts';
import { compileServiceModel } from '../src/services/serviceModel.ts';
import { createBackend } from '../src/services/backendTable.ts';
import type { ProxyMode } from '../src/services/backend.ts';
import { findTool } from '../src/common/systemTools.ts';

const IP = findTool('ip')!;
const ip = (args: string[]) => execFileSync(IP, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const CONNECTS = 300;

function services(n: number): { services: Service[]; slices: EndpointSlice[] } {
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  const add = (name: string, clusterIP: string, ep: string) => {
    svcs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' }, spec: { clusterIP, ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: 8080 }] } });
    slices.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', endpoints: [{ addresses: [ep] }], ports: [{ name: 'tcp', protocol: 'TCP', port: 8080 }] });
  };
  for (let s = 0; s < n - 1; s++) add(`s${String(s).padStart(5, '0')}`, `10.96.${1 + (s >> 8)}.${s & 255}`, `10.250.${s >> 8}.${s & 255}`);
  add('zzz-target', '10.96.0.1', '10.244.1.2');
  return { services: svcs, slices };
}

const CLIENT_SCRIPT = `
const net = require('net'); const n = ${CONNECTS}; const times = [];
(async () => { for (let i = 0; i < n; i++) { await new Promise((res, rej) => { const t = process.hrtime.bigint();
  const s = net.connect(80, '10.96.0.1', () => { times.push(Number(process.hrtime.bigint() - t) / 1000); s.destroy(); res(); });
  s.on('error', rej); s.setTimeout(3000, () => rej(new Error('timeout'))); }); }
  times.sort((a, b) => a - b); console.log(JSON.stringify({ median: times[n >> 1], p90: times[Math.floor(n * 0.9)] })); })().catch((e) => { console.error(String(e)); process.exit(1); });`;

async function measure(mode: ProxyMode, n: number, prefix: string): Promise<{ median: number; p90: number; loadS: number }> {
  const [node, client, backend] = ['node', 'cli', 'be'].map((x) => `${prefix}-${x}`) as [string, string, string];
  const made: string[] = [];
  const server = () => spawn(IP, ['netns', 'exec', backend, process.execPath, '-e', "require('net').createServer((s) => s.destroy()).listen(8080)"], { stdio: 'ignore' });
  let srv: ReturnType<typeof server> | undefined;
  try {
    for (const ns of [node, client, backend]) { ip(['netns', 'add', ns]); made.push(ns); ip(['-n', ns, 'link', 'set', 'lo', 'up']); }
    ip(['link', 'add', 'tocli', 'netns', node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
    ip(['link', 'add', 'tobe', 'netns', node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', backend]);
    for (const [ns, dev, addr] of [[node, 'tocli', '172.30.0.1/24'], [client, 'eth0', '172.30.0.2/24'], [node, 'tobe', '10.244.1.1/24'], [backend, 'eth0', '10.244.1.2/24']] as const) {
      ip(['-n', ns, 'addr', 'add', addr, 'dev', dev]);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
    ip(['-n', client, 'route', 'add', 'default', 'via', '172.30.0.1']);
    ip(['-n', backend, 'route', 'add', 'default', 'via', '10.244.1.1']);
    ip(['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    srv = server();
    const be = createBackend(mode, { netns: node, clusterCIDRs: [], masqueradeAll: false });
    const t0 = performance.now();
    await be.sync(compileServiceModel({ ...services(n), node: { name: 'node', nodePortIPs: [] } }));
    const loadS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 300));
    const out = execFileSync(IP, ['netns', 'exec', client, process.execPath, '-e', CLIENT_SCRIPT], { encoding: 'utf8', timeout: 120_000 });
    return { ...(JSON.parse(out) as { median: number; p90: number }), loadS };
  } finally {
    srv?.kill('SIGKILL');
    for (const ns of made) ip(['netns', 'del', ns]);
  }
}

export async function datapathBench(sizes: number[]): Promise<void> {
  const prefix = `pxd${randomBytes(2).toString('hex')}`;
  for (const mode of ['nftables', 'iptables'] as const) {
    const rows: string[] = [];
    for (const n of sizes) {
      const r = await measure(mode, n, prefix);
      rows.push(`${n}: median=${r.median.toFixed(0)}us p90=${r.p90.toFixed(0)}us (rules loaded in ${r.loadS.toFixed(1)}s)`);
    }
    console.log(`datapath mode=${mode} connects=${CONNECTS} ${rows.join('  ')}`);
  }
}
