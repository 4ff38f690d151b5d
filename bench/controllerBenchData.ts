/**
 * Synthetic cluster for bench/controllerBench: N Services over 10 namespaces. Even ones have no selector and a
 * hand-written EndpointSlice of 10 endpoints (someone else's: never touched by podnet); odd ones select 1-10
 * pods each. Every fifth has no clusterIP, so the allocator works; the rest have explicit ones.
 */
import type { EndpointSlice, Pod, Service } from '../src/store/types.ts';

export interface BenchCluster {
  services: Service[];
  pods: Pod[];
  slices: EndpointSlice[];
  /** `ns/name` of each selector Service → how many pods it selects. */
  expected: Map<string, number>;
  unallocated: number;
}

const nsOf = (i: number): string => `bench-${i % 10}`;

export function benchPod(svc: number, j: number, n: number): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `svc-${svc}-${j}`, namespace: nsOf(svc), labels: { app: `svc-${svc}`, tier: 'backend' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":"' + 'x'.repeat(200) + '"}' } },
    spec: { nodeName: `n${n % 3}`, containers: [{ name: 'app', image: 'registry.example/app:1', command: ['/app', '--serve'], ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: `10.${244 + Math.floor(n / 65_000)}.${Math.floor(n / 250) % 256}.${(n % 250) + 2}`, conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] },
  };
}

export function benchService(i: number, withClusterIP: boolean): Service {
  const selector = i % 2 === 1;
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: nsOf(i), labels: { app: `svc-${i}` }, creationTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString() },
    spec: {
      type: 'ClusterIP', ...(selector ? { selector: { app: `svc-${i}`, tier: 'backend' } } : {}),
      ...(withClusterIP ? { clusterIP: `10.96.${Math.floor(i / 250) + 1}.${(i % 250) + 1}` } : {}),
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }],
    },
  };
}

export function benchCluster(n: number): BenchCluster {
  const out: BenchCluster = { services: [], pods: [], slices: [], expected: new Map(), unallocated: 0 };
  let podN = 0;
  for (let i = 0; i < n; i++) {
    const withIp = i % 5 !== 0;
    if (!withIp) out.unallocated += 1;
    const s = benchService(i, withIp);
    out.services.push(s);
    if (i % 2 === 1) {
      const count = (i % 10 === 9 ? 10 : ((i * 7) % 10) + 1);
      for (let j = 0; j < count; j++) out.pods.push(benchPod(i, j, podN++));
      out.expected.set(`${nsOf(i)}/svc-${i}`, count);
    } else {
      out.slices.push({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `svc-${i}-manual`, namespace: nsOf(i), labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'user' } },
        addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: Array.from({ length: 10 }, (_, j) => ({ addresses: [`10.250.${Math.floor(i / 25) % 256}.${(i % 25) * 10 + j + 1}`], conditions: { ready: true } })),
      });
    }
  }
  return out;
}
