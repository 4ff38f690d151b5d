/**
 * The objects bench/dns-churn writes: `services` ClusterIP Services in namespace `churn`, each with one
 * EndpointSlice of `endpoints` ready endpoints (the 10,000 × 10 = 20,000 objects), plus the query targets
 * that exist before the churn starts (`q-<i>.churn-q.svc.cluster.local`).
 */
import type { EndpointSlice, Namespace, Service } from '../src/store/types.ts';

export const QUERY_NAMESPACE = 'churn-q';
export const CHURN_NAMESPACE = 'churn';

export function namespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** 10.100.0.0/16 for the query targets, 10.200.0.0/14 for the churned Services, 10.64.0.0/11 for endpoints. */
export function service(ns: string, name: string, i: number, base: number): Service {
  const ip = `10.${base + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
}

export function slice(ns: string, svc: string, i: number, endpoints: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svc}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: endpoints }, (_, e) => {
      const n = i * endpoints + e;
      return { addresses: [`10.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true } };
    }),
  };
}

export function queryTargets(count: number): Service[] {
  return Array.from({ length: count }, (_, i) => service(QUERY_NAMESPACE, `q-${i}`, i, 100));
}

/** The churn: Services first, then their slices (the order `podnetctl apply` writes a List in). */
export function churnObjects(services: number, endpoints: number): Array<Service | EndpointSlice> {
  const out: Array<Service | EndpointSlice> = [];
  for (let i = 0; i < services; i++) out.push(service(CHURN_NAMESPACE, `s-${i}`, i, 200));
  for (let i = 0; i < services; i++) out.push(slice(CHURN_NAMESPACE, `s-${i}`, i, endpoints));
  return out;
}
