/**
 * Builders for the objects the DNS tests feed the record index or the MemoryStore with: valid Kubernetes
 * objects, only the fields DNS reads set.
 */
import type { Endpoint, EndpointSlice, Namespace, Pod, Service, ServicePort } from '../../../../src/store/types.ts';

export function clusterIpService(ns: string, name: string, ips: string[], ports: ServicePort[] = [], extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
    spec: { type: 'ClusterIP', clusterIP: ips[0], clusterIPs: ips, ports, ...extra },
  };
}

export function headlessService(ns: string, name: string, ports: ServicePort[] = [], extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
    spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports, ...extra },
  };
}

export function externalNameService(ns: string, name: string, target: string): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'ExternalName', externalName: target } };
}

export function endpoint(ip: string | string[], opts: { hostname?: string; ready?: boolean } = {}): Endpoint {
  return {
    addresses: Array.isArray(ip) ? ip : [ip],
    conditions: { ready: opts.ready ?? true },
    ...(opts.hostname ? { hostname: opts.hostname } : {}),
  };
}

export function slice(ns: string, service: string, name: string, endpoints: Endpoint[],
  ports: Array<{ name?: string; port: number; protocol?: 'TCP' | 'UDP' }> = [], addressType: 'IPv4' | 'IPv6' = 'IPv4'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType, endpoints, ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  };
}

export function namespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function pod(ns: string, name: string, ips: string[], extra: { deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  };
}
