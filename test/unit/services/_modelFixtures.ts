/** Builders for Service / EndpointSlice objects used by the services unit tests. */
import type { Service, EndpointSlice, Endpoint, ServiceSpec } from '../../../src/store/types.ts';

export function svc(name: string, spec: Partial<ServiceSpec>, extra: Partial<Service> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'ns', ...(extra.metadata ?? {}) },
    spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }], ...spec },
    ...(extra.status ? { status: extra.status } : {}),
  };
}

export function ep(ip: string, opts: Partial<Endpoint> & { ready?: boolean; serving?: boolean; terminating?: boolean } = {}): Endpoint {
  const { ready, serving, terminating, ...rest } = opts;
  const conditions: Endpoint['conditions'] = {};
  if (ready !== undefined) conditions.ready = ready;
  if (serving !== undefined) conditions.serving = serving;
  if (terminating !== undefined) conditions.terminating = terminating;
  return { addresses: [ip], conditions, ...rest };
}

export function slice(service: string, endpoints: Endpoint[], opts: { name?: string; family?: 'IPv4' | 'IPv6'; ports?: EndpointSlice['ports'] } = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: opts.name ?? `${service}-abc`, namespace: 'ns', labels: { 'kubernetes.io/service-name': service } },
    addressType: opts.family ?? 'IPv4',
    endpoints,
    ports: opts.ports ?? [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };
}

export const NODE = { name: 'node-a', zone: 'zone-a', nodePortIPs: ['198.18.0.11', '127.0.0.1', 'fd00::11'] };
