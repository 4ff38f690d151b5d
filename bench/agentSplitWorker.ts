/**
 * One process of bench/agentSplit (bench/agentSplitBench.ts). argv: ROLE JSON. `latency`: a UDP responder and a
 * 50 ms timer, with the event loop's delay measured; `bulk`: the proxy's nftables syncs of the synthetic
 * cluster; `both`: the two in one process, as the agent was before it was split.
 */
import { createSocket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EndpointSlice, Service } from '../src/store/types.ts';
import { ServiceModelCache } from '../src/services/serviceModelCache.ts';
import { createBackend } from '../src/services/backendTable.ts';

const role = process.argv[2]!;
const args = JSON.parse(process.argv[3]!) as { ns: string; services: number; endpoints: number; rounds: number };
const send = (m: Record<string, unknown>) => process.send!(m);
process.once('disconnect', () => process.exit(0));
const NODE = { name: 'bench-node', nodePortIPs: ['198.18.0.11'] };

function cluster(n: number, eps: number, round: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let s = 0; s < n; s++) {
    const name = `svc-${s}`;
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' },
      spec: { type: 'ClusterIP', clusterIP: `10.96.${(s >> 8) & 255}.${s & 255}`, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] } } as Service);
    // Each round moves the endpoints of a different tenth of the services.
    const shift = s % 10 === round % 10 && round > 0 ? round : 0;
    const endpoints = [];
    for (let e = 0; e < eps; e++) endpoints.push({ addresses: [`10.${128 + ((s >> 8) & 63)}.${s & 255}.${(e + 1 + shift * eps) % 250 + 1}`], nodeName: `n${e % 3}` });
    slices.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', endpoints, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] } as EndpointSlice);
  }
  return { services, slices };
}

function latencyPart(): void {
  const sock = createSocket('udp4');
  sock.on('message', (b, rinfo) => sock.send(b, rinfo.port, rinfo.address));
  sock.bind(0, '127.0.0.1', () => send({ type: 'listening', port: sock.address().port }));
  const eld = monitorEventLoopDelay({ resolution: 10 });
  const late: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'measure') {
      eld.enable();
      let due = performance.now() + 50;
      timer = setInterval(() => { const now = performance.now(); late.push(Math.max(0, now - due)); due = now + 50; }, 50);
    }
    if (m.type === 'report') {
      eld.disable();
      clearInterval(timer);
      const sorted = [...late].sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? NaN;
      send({ type: 'report', eldP99: (eld.percentile(99) / 1e6).toFixed(1), eldMax: (eld.max / 1e6).toFixed(1), lateP99: p99.toFixed(1), lateMax: (sorted.at(-1) ?? NaN).toFixed(1) });
    }
  });
}

function bulkPart(): void {
  const inputs = Array.from({ length: args.rounds + 1 }, (_, r) => cluster(args.services, args.endpoints, r));
  send({ type: 'ready' });
  process.on('message', (m: { type: string }) => {
    if (m.type !== 'sync') return;
    void (async () => {
      const backend = createBackend('nftables', { netns: args.ns, clusterCIDRs: ['10.128.0.0/10'], masqueradeAll: false });
      const models = new ServiceModelCache();
      const t0 = performance.now();
      await backend.sync(models.compile({ ...inputs[0]!, node: NODE }));
      const fullS = ((performance.now() - t0) / 1000).toFixed(2);
      const roundsS: string[] = [];
      for (let r = 1; r <= args.rounds; r++) {
        const t = performance.now();
        await backend.sync(models.compile({ ...inputs[r]!, node: NODE }));
        roundsS.push(((performance.now() - t) / 1000).toFixed(2));
      }
      send({ type: 'synced', fullS, roundsS: roundsS.join(' ') });
    })();
  });
}

send({ type: 'booted' });
if (role === 'latency' || role === 'both') latencyPart();
if (role === 'bulk' || role === 'both') bulkPart();
