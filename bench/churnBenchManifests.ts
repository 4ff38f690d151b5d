/**
 * What bench/churn applies, as plain objects (pure):
 *   - the lab pods: a client on the first node (sends DNS and pings, runs the probe's curl) and a test server on
 *     the second (the ping target and the probe Service's backend), both running `podnetctl lab serve`;
 *   - the big List: N selector-less Services (namespaces churn-0..9), each with one EndpointSlice of 10 endpoints
 *     that are fake addresses in the nodes' real pod CIDRs (.200-.249 of each node's range, above what the lab's
 *     IPAM hands out to the few real pods), so the proxies program real DNAT rules without N × 10 pods;
 *   - the resident Services: a few Services (namespace churn-dns) applied before any traffic, whose names dnsperf
 *     asks for in every window, so the idle and the churn windows ask exactly the same questions;
 *   - the probe: one more Service + EndpointSlice pointing at the real test server.
 * Every ClusterIP is set explicitly (resident 10.96.127.x, bench 10.96.128.1 upwards, clear of the allocator's
 * static band and of the lab's own Services), so the figures measure the data plane under the writes themselves,
 * not the allocator writing every Service back once more.
 */
import type { EndpointSlice, Pod, Service } from '../src/store/types.ts';

export const CHURN_NAMESPACES = 10;
export const ENDPOINTS_PER_SERVICE = 10;
export const CLIENT_POD = 'churn-client';
export const SERVER_POD = 'churn-server';
export const PROBE_SERVICE = 'churn-probe';
/** The first explicit ClusterIP: 10.96.128.1; 250 per /24 keeps .0 and .255 out. */
const FIRST_THIRD_OCTET = 128;
export const MAX_SERVICES = (255 - FIRST_THIRD_OCTET) * 250 - 1;
export const MANAGED_BY = 'bench.podnet.io/churn';

export const RESIDENT_NAMESPACE = 'churn-dns';
/** At most 250 (one /24: 10.96.127.1-250). */
export const RESIDENT_SERVICES = 100;

export function benchClusterIp(i: number): string {
  return `10.96.${FIRST_THIRD_OCTET + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function benchServiceRef(i: number): { name: string; namespace: string } {
  return { name: `churn-${i}`, namespace: `churn-${i % CHURN_NAMESPACES}` };
}

export function labPods(clientNode: string, serverNode: string): Pod[] {
  const pod = (name: string, node: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { nodeName: node, containers: [{ name: 'serve', ports: [{ containerPort: 8080, name: 'http' }] }] },
  });
  return [pod(CLIENT_POD, clientNode), pod(SERVER_POD, serverNode)];
}

/** An IPv4 address `offset` into `cidr` (a.b.c.d/len). */
export function addressIn(cidr: string, offset: number): string {
  const [base, len] = cidr.split('/') as [string, string];
  const n = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(len));
  const v = n + (offset % size);
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

export interface NodeRange { node: string; podCIDR: string }

function service(clusterIP: string, name: { name: string; namespace: string }): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { ...name, labels: { 'bench.podnet.io/churn': 'true' } },
    spec: { type: 'ClusterIP', clusterIP,
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  };
}

function slice(svc: Service, endpoints: Array<{ ip: string; node: string }>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svc.metadata.name}-1`, namespace: svc.metadata.namespace!,
      labels: { 'kubernetes.io/service-name': svc.metadata.name, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: e.node })),
  };
}

/** The big apply: one List, Services first then their slices (apply sorts by kind anyway). */
export type ServiceList = { apiVersion: 'v1'; kind: 'List'; items: Array<Service | EndpointSlice> };

/** Ten fake endpoints for Service `i`, spread over the nodes' pod CIDRs. */
function fakeEndpoints(i: number, ranges: NodeRange[]): Array<{ ip: string; node: string }> {
  return Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => {
    const r = ranges[(i + j) % ranges.length]!;
    return { ip: addressIn(r.podCIDR, 200 + ((i * ENDPOINTS_PER_SERVICE + j) % 50)), node: r.node };
  });
}

export function churnList(n: number, ranges: NodeRange[]): ServiceList {
  if (n > MAX_SERVICES) throw new Error(`--services: at most ${MAX_SERVICES} (explicit ClusterIPs from 10.96.128.1)`);
  const services = Array.from({ length: n }, (_, i) => service(benchClusterIp(i), benchServiceRef(i)));
  const slices = services.map((s, i) => slice(s, fakeEndpoints(i, ranges)));
  return { apiVersion: 'v1', kind: 'List', items: [...services, ...slices] };
}

export function residentRef(i: number): { name: string; namespace: string } {
  return { name: `dns-${i}`, namespace: RESIDENT_NAMESPACE };
}

export function residentList(ranges: NodeRange[]): ServiceList {
  const services = Array.from({ length: RESIDENT_SERVICES }, (_, i) => service(`10.96.127.${i + 1}`, residentRef(i)));
  return { apiVersion: 'v1', kind: 'List', items: [...services, ...services.map((s, i) => slice(s, fakeEndpoints(i, ranges)))] };
}

/** The Service created right after the big apply: index n (the next explicit address), backed by the real server. */
export function probeList(n: number, server: { ip: string; node: string }): ServiceList {
  const svc = service(benchClusterIp(n), { name: PROBE_SERVICE, namespace: 'default' });
  return { apiVersion: 'v1', kind: 'List', items: [svc, slice(svc, [server])] };
}

/** dnsperf's input: kube-dns and every resident Service, names that exist in every window. */
export function dnsQueries(): string {
  const lines = ['kube-dns.kube-system.svc.cluster.local A'];
  for (let i = 0; i < RESIDENT_SERVICES; i++) {
    const r = residentRef(i);
    lines.push(`${r.name}.${r.namespace}.svc.cluster.local A`);
  }
  return `${lines.join('\n')}\n`;
}
