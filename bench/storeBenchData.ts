/** Synthetic cluster state for bench/store: N Services with M endpoints each (slices of at most 100 endpoints). */
import type { EndpointSlice, Service } from '../src/store/types.ts';

export function benchServices(n: number): Service[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 100}`, labels: { app: `app-${i}` } },
    spec: {
      type: 'ClusterIP', clusterIP: `10.96.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`, selector: { app: `app-${i}` },
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
    },
  }));
}

export function benchSlices(services: Service[], endpointsPerService: number): EndpointSlice[] {
  return services.map((s, i) => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${s.metadata.name}-podnet-v4-0`, namespace: s.metadata.namespace!,
      labels: { 'kubernetes.io/service-name': s.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'podnet.io/endpoints-controller' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: endpointsPerService }, (_, j) => {
      const n = i * endpointsPerService + j;
      return {
        addresses: [`10.244.${Math.floor(n / 250) % 256}.${(n % 250) + 2}`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: `n${n % 3}`,
        targetRef: { kind: 'Pod', namespace: s.metadata.namespace!, name: `${s.metadata.name}-${j}` },
      };
    }),
  }));
}
