/**
 * @module controller/endpointSlicePlanner — the EndpointSlices a Service should have, from its Pods (pure), as
 * Kubernetes' EndpointSlice controller computes them:
 * - pods: same namespace, labels match the selector, not Succeeded/Failed, with an IP; terminating pods are kept;
 * - conditions: serving = publishNotReadyAddresses || pod Ready; terminating = deletionTimestamp set;
 *   ready = publishNotReadyAddresses || (serving && !terminating);
 * - ports: a named targetPort is resolved per pod (container port name + protocol); pods whose ports resolve
 *   differently go to different slices, a port that does not resolve is left out for that pod;
 * - hostname when pod.spec.hostname is set and pod.spec.subdomain equals the Service's name;
 * - at most 100 endpoints per slice (the controller's default maxEndpointsPerSlice), one address family each,
 *   and only the families the Service has (spec.ipFamilies, else its clusterIPs' families; a Service with neither,
 *   e.g. headless on a single-stack cluster, takes every family its pods have): a dual-stack Service gets an IPv4
 *   and an IPv6 slice, a single-stack one in a dual-stack cluster only its own family.
 * Slice names are deterministic (`<service>-podnet-<family>-<n>`) so the controller can diff by name.
 */
import { isIP } from 'node:net';
import type { Endpoint, EndpointPort, EndpointSlice, Pod, Service } from '../store/types.ts';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'podnet.io/endpoints-controller';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** Whether the controller manages slices for this Service at all (no selector or ExternalName: someone else). */
export function managesService(svc: Service): boolean {
  return svc.spec.type !== 'ExternalName' && !!svc.spec.selector && Object.keys(svc.spec.selector).length > 0;
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function podIps(pod: Pod): string[] {
  const list = pod.status?.podIPs?.map((p) => p.ip) ?? [];
  if (list.length === 0 && pod.status?.podIP) list.push(pod.status.podIP);
  return list;
}

function shouldInclude(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && podIps(pod).length > 0;
}

/** The service's ports as this pod serves them; a named targetPort the pod does not have is left out. */
export function resolvePorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const protocol = sp.protocol ?? 'TCP';
    const target = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else {
      for (const c of pod.spec.containers) {
        const found = c.ports?.find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
        if (found) { port = found.containerPort; break; }
      }
    }
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', port, protocol, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

export function endpointFor(svc: Service, pod: Pod, addresses: string[]): Endpoint {
  const publish = svc.spec.publishNotReadyAddresses === true;
  const serving = publish || isReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ep: Endpoint = {
    addresses,
    conditions: { ready: publish || (serving && !terminating), serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
  };
  if (pod.spec.hostname && pod.spec.subdomain === svc.metadata.name) ep.hostname = pod.spec.hostname;
  if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
  return ep;
}

/** The address families `svc`'s slices carry, primary first; undefined when the Service does not say (any). */
export function serviceFamilies(svc: Service): Array<'IPv4' | 'IPv6'> | undefined {
  if (svc.spec.ipFamilies?.length) return svc.spec.ipFamilies;
  const ips = (svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : [])
    .map((ip) => isIP(ip)).filter((f) => f !== 0);
  return ips.length ? ips.map((f) => (f === 4 ? 'IPv4' : 'IPv6')) : undefined;
}

/** The desired slices for `svc` given every pod of its namespace. Empty for services the controller does not manage. */
export function planEndpointSlices(svc: Service, pods: readonly Pod[]): EndpointSlice[] {
  if (!managesService(svc)) return [];
  const groups = new Map<string, { family: 'IPv4' | 'IPv6'; ports: EndpointPort[]; endpoints: Endpoint[] }>();
  const sorted = pods.filter((p) => selectorMatches(svc.spec.selector!, p.metadata.labels) && shouldInclude(p))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const families = serviceFamilies(svc);
  for (const pod of sorted) {
    const ports = resolvePorts(svc, pod);
    for (const family of families ?? ['IPv4', 'IPv6'] as const) {
      const addrs = podIps(pod).filter((ip) => isIP(ip) === (family === 'IPv4' ? 4 : 6));
      if (addrs.length === 0) continue;
      const key = `${family}|${JSON.stringify(ports)}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { family, ports, endpoints: [] }));
      g.endpoints.push(endpointFor(svc, pod, addrs.slice(0, 1)));
    }
  }
  // A service with a selector but no pods still gets one empty slice per family it serves (as Kubernetes does:
  // its reconciler runs per address type and leaves a placeholder where a family has no endpoints).
  const served = families ?? (groups.size === 0 ? ['IPv4' as const] : []);
  for (const family of served) {
    if (![...groups.values()].some((g) => g.family === family)) groups.set(`${family}|`, { family, ports: [], endpoints: [] });
  }
  const slices: EndpointSlice[] = [];
  const counters = { IPv4: 0, IPv6: 0 };
  for (const g of [...groups.values()].sort((a, b) => (a.family + JSON.stringify(a.ports)).localeCompare(b.family + JSON.stringify(b.ports)))) {
    for (let i = 0; i < Math.max(1, g.endpoints.length); i += MAX_ENDPOINTS_PER_SLICE) {
      slices.push(sliceObject(svc, g.family, counters[g.family]++, g.ports, g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE)));
    }
  }
  return slices;
}

function sliceObject(svc: Service, family: 'IPv4' | 'IPv6', n: number, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  const headless = svc.spec.clusterIP === 'None';
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${svc.metadata.name}-podnet-${family === 'IPv4' ? 'v4' : 'v6'}-${n}`,
      namespace: svc.metadata.namespace ?? 'default',
      labels: {
        [SERVICE_NAME_LABEL]: svc.metadata.name,
        [MANAGED_BY_LABEL]: MANAGED_BY,
        ...(headless ? { 'service.kubernetes.io/headless': '' } : {}),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid ?? '', controller: true }],
    },
    addressType: family,
    endpoints,
    ports,
  };
}

/** Whether a stored slice already says what `desired` says (labels, endpoints, ports). */
export function sameSlice(stored: EndpointSlice, desired: EndpointSlice): boolean {
  return JSON.stringify([stored.metadata.labels, stored.metadata.ownerReferences, stored.addressType, stored.endpoints, stored.ports ?? []])
    === JSON.stringify([desired.metadata.labels, desired.metadata.ownerReferences, desired.addressType, desired.endpoints, desired.ports ?? []]);
}

/** A slice this controller owns (never touch the others). */
export function isManagedSlice(s: EndpointSlice): boolean {
  return s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}
