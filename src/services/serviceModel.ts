/**
 * @module services/serviceModel — the pure compiler from Services + EndpointSlices + this node to the per-port
 * view every proxy backend (nftables, iptables, ipvs), the health-check server and conntrack cleanup consume.
 *
 * One entry per (service port, IP family): dual-stack Services give two entries, each backend table handles one
 * family. Backends never look at Kubernetes objects; every Kubernetes rule (policies, fallback, topology, labels
 * that opt a Service out) is decided here, once, and unit-tested table-style like kube-proxy's own tests.
 */
import type { IPFamily, Protocol, Service, EndpointSlice } from '../store/types.ts';
import { categorizeEndpoints, type EndpointInfo, type TopologyMode } from './endpointSelection.ts';
import { collectEndpoints } from './sliceEndpoints.ts';
import { ipFamilyOf, type IpFamily } from '../common/ipAddress.ts';
import { formatPrefix, tryParsePrefix } from '../common/ipPrefix.ts';

export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
/** kube-proxy's default ClientIP affinity timeout: 3 hours (core/v1 DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

export interface EndpointTarget {
  ip: string;
  port: number;
  isLocal: boolean;
}

export interface ServicePortView {
  /** `namespace/name:portName/protocol` — unique per family; backends hash it into chain names. */
  id: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  family: IPFamily;
  port: number;
  clusterIP: string;
  externalIPs: string[];
  /** status.loadBalancer.ingress IPs of this family (ipMode Proxy excluded, as kube-proxy does). */
  loadBalancerIPs: string[];
  /** loadBalancerSourceRanges of this family; empty = no firewall. */
  sourceRanges: string[];
  nodePort: number;
  healthCheckNodePort: number;
  internalLocal: boolean;
  externalLocal: boolean;
  /** ClientIP affinity timeout in seconds; 0 = no affinity. */
  affinitySeconds: number;
  /** Endpoints for traffic to the ClusterIP (internalTrafficPolicy applied). */
  internalEndpoints: EndpointTarget[];
  /** Endpoints for NodePort / LB / externalIP traffic (externalTrafficPolicy applied). */
  externalEndpoints: EndpointTarget[];
  /** Some usable endpoint exists in the cluster: no endpoints at all → reject; only none local → drop. */
  hasAnyEndpoints: boolean;
  /** Ready, non-terminating endpoints on this node: the healthCheckNodePort answers 200 only when > 0. */
  localReadyCount: number;
  topologyMode: TopologyMode;
}

export type SkipReason = 'externalName' | 'headless' | 'headlessLabel' | 'otherProxy' | 'noClusterIP';

export interface ProxyNodeInfo {
  name: string;
  zone?: string;
  /** Addresses NodePorts answer on (already chosen: primary IPs or those matching nodePortAddresses). */
  nodePortIPs: string[];
}

export interface ModelOptions {
  /** Our service-proxy-name: Services labelled with another name are left to that proxy. */
  proxyName?: string;
}

export interface ServiceModel {
  ports: ServicePortView[];
  skipped: Array<{ service: string; reason: SkipReason }>;
  nodePortIPs: Record<IPFamily, string[]>;
}

export function familyName(f: IpFamily): IPFamily {
  return f === 4 ? 'IPv4' : 'IPv6';
}

export function familyOf(ip: string): IPFamily | null {
  const v = ipFamilyOf(ip);
  return v === undefined ? null : familyName(v);
}

/** Why a Service is not proxied at all, or null. */
export function skipReason(svc: Service, opts: ModelOptions): SkipReason | null {
  const labels = svc.metadata.labels ?? {};
  const proxyName = labels[LABEL_SERVICE_PROXY_NAME];
  if (proxyName !== undefined && proxyName !== opts.proxyName) return 'otherProxy';
  if (labels[LABEL_HEADLESS] !== undefined) return 'headlessLabel';
  if (svc.spec.type === 'ExternalName') return 'externalName';
  if (svc.spec.clusterIP === 'None') return 'headless';
  if (clusterIPs(svc).length === 0) return 'noClusterIP';
  return null;
}

function clusterIPs(svc: Service): string[] {
  const ips = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => familyOf(ip) !== null);
}

function ofFamily(ips: readonly string[] | undefined, family: IPFamily): string[] {
  return (ips ?? []).filter((ip) => familyOf(ip) === family);
}

function rangesOfFamily(ranges: readonly string[] | undefined, family: IPFamily): string[] {
  const out: string[] = [];
  for (const r of ranges ?? []) {
    // Canonical text (host bits cleared, RFC 5952) is what goes into the nft set, whatever the Service spelled.
    const c = tryParsePrefix(r.trim(), { hostBits: 'clear', bareAddress: true });
    if (c && familyName(c.addr.family) === family) out.push(formatPrefix(c));
  }
  return out;
}

function targets(eps: readonly EndpointInfo[]): EndpointTarget[] {
  return eps.map((e) => ({ ip: e.ip, port: e.port, isLocal: e.isLocal }));
}

function compilePort(svc: Service, portIndex: number, family: IPFamily, slices: readonly EndpointSlice[], node: ProxyNodeInfo): ServicePortView {
  const spec = svc.spec;
  const sp = spec.ports![portIndex]!;
  const protocol = sp.protocol ?? 'TCP';
  const portName = sp.name ?? '';
  const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip && i.ipMode !== 'Proxy').map((i) => i.ip!);
  const externalIPs = ofFamily(spec.externalIPs, family);
  const loadBalancerIPs = spec.type === 'LoadBalancer' ? ofFamily(lbIPs, family) : [];
  const nodePort = (spec.type === 'NodePort' || spec.type === 'LoadBalancer') && sp.nodePort ? sp.nodePort : 0;
  const external = nodePort > 0 || externalIPs.length > 0 || loadBalancerIPs.length > 0;
  const externalLocal = external && spec.externalTrafficPolicy === 'Local';
  const internalLocal = spec.internalTrafficPolicy === 'Local';
  const endpoints = collectEndpoints(svc, sp, family, slices, node);
  const cat = categorizeEndpoints(endpoints, { internalLocal, externalLocal, externallyAccessible: external }, { name: node.name, zone: node.zone });
  const affinity = spec.sessionAffinity === 'ClientIP'
    ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS : 0;
  return {
    id: `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}:${portName}/${protocol}`,
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name,
    portName,
    protocol,
    family,
    port: sp.port,
    clusterIP: clusterIPs(svc).find((ip) => familyOf(ip) === family)!,
    externalIPs,
    loadBalancerIPs,
    sourceRanges: loadBalancerIPs.length ? rangesOfFamily(spec.loadBalancerSourceRanges, family) : [],
    nodePort,
    healthCheckNodePort: externalLocal && spec.type === 'LoadBalancer' ? spec.healthCheckNodePort ?? 0 : 0,
    internalLocal,
    externalLocal,
    affinitySeconds: affinity,
    internalEndpoints: targets(internalLocal ? cat.local : cat.cluster),
    externalEndpoints: targets(externalLocal ? cat.local : cat.cluster),
    hasAnyEndpoints: cat.hasAnyEndpoints,
    localReadyCount: endpoints.filter((e) => e.isLocal && e.ready && !e.terminating).length,
    topologyMode: cat.topologyMode,
  };
}

/** Group slices by the Service they belong to (label kubernetes.io/service-name), keyed `namespace/name`. */
export function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svcName = s.metadata.labels?.['kubernetes.io/service-name'];
    if (!svcName) continue;
    const key = `${s.metadata.namespace ?? 'default'}/${svcName}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

/** Compile one Service (all its ports and families); returns the views or why it is skipped. */
export function compileService(svc: Service, slices: readonly EndpointSlice[], node: ProxyNodeInfo, opts: ModelOptions = {}): ServicePortView[] | SkipReason {
  const reason = skipReason(svc, opts);
  if (reason) return reason;
  const families = [...new Set(clusterIPs(svc).map((ip) => familyOf(ip)!))];
  const views: ServicePortView[] = [];
  for (const family of families) {
    for (let i = 0; i < (svc.spec.ports ?? []).length; i++) views.push(compilePort(svc, i, family, slices, node));
  }
  return views;
}

export function compileServiceModel(input: {
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  node: ProxyNodeInfo;
  options?: ModelOptions;
}): ServiceModel {
  const byService = slicesByService(input.slices);
  const ports: ServicePortView[] = [];
  const skipped: ServiceModel['skipped'] = [];
  for (const svc of input.services) {
    const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
    const res = compileService(svc, byService.get(key) ?? [], input.node, input.options);
    if (typeof res === 'string') skipped.push({ service: key, reason: res });
    else ports.push(...res);
  }
  ports.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.family < b.family ? -1 : 1));
  const ips = input.node.nodePortIPs.filter((ip) => !isLoopback(ip));
  return { ports, skipped, nodePortIPs: { IPv4: ofFamily(ips, 'IPv4'), IPv6: ofFamily(ips, 'IPv6') } };
}

/** NodePorts never answer on localhost (CVE-2020-8558; kube-proxy's nftables mode dropped it too). */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || (familyOf(ip) === 'IPv4' && ip.startsWith('127.'));
}
