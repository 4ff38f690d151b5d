/**
 * @module lb/serviceRequest — what a LoadBalancer Service asks of the allocator, read from its spec and MetalLB's
 * annotations (both the current `metallb.io/` and the pre-0.13 `metallb.universe.tf/` prefixes). Pure.
 */
import type { Protocol, Service } from '../store/types.ts';
import { objectKey } from '../store/types.ts';
import { canonicalIp, parseIp, tryParseIp, type IpFamily } from '../common/ipAddress.ts';

/** The class this allocator serves besides "unset" (MetalLB has none of its own; Kubernetes leaves unset to us). */
export const LB_CLASS = 'podnet.io/lb';

const PREFIXES = ['metallb.io/', 'metallb.universe.tf/'];

export interface PortKey {
  port: number;
  protocol: Protocol;
}

export interface AllocationRequest {
  key: string;
  namespace: string;
  labels: Record<string, string>;
  /** Specific addresses asked for (spec.loadBalancerIP or the loadBalancerIPs annotation), canonical text. */
  requestedIps: string[];
  /** A requested address that does not parse, reported instead of allocated around. */
  invalidRequest: string | undefined;
  poolName: string | undefined;
  sharingKey: string | undefined;
  ports: PortKey[];
  /** ETP=Local services may share an IP only with services that select the same pods (MetalLB's backend key). */
  backendKey: string | undefined;
  families: IpFamily[];
}

function annotation(svc: Service, name: string): string | undefined {
  for (const p of PREFIXES) {
    const v = svc.metadata.annotations?.[p + name];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** Whether the allocator should act on this service: type LoadBalancer and a class that is unset or ours. */
export function wantsLoadBalancer(svc: Service): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return cls === undefined || cls === '' || cls === LB_CLASS;
}

function familiesOf(svc: Service, requested: string[]): IpFamily[] {
  if (requested.length) return [...new Set(requested.map((r) => parseIp(r).family))];
  const spec = svc.spec;
  const declared = (spec.ipFamilies ?? []).map((f): IpFamily => (f === 'IPv6' ? 6 : 4));
  const fromClusterIp = spec.clusterIP && tryParseIp(spec.clusterIP) ? [parseIp(spec.clusterIP).family] : [];
  const primary = declared[0] ?? fromClusterIp[0] ?? 4;
  const dual = spec.ipFamilyPolicy === 'RequireDualStack' || spec.ipFamilyPolicy === 'PreferDualStack';
  return dual ? [primary, primary === 4 ? 6 : 4] : [primary];
}

export function allocationRequestOf(svc: Service): AllocationRequest {
  const raw = annotation(svc, 'loadBalancerIPs')?.split(',').map((s) => s.trim()).filter(Boolean)
    ?? (svc.spec.loadBalancerIP ? [svc.spec.loadBalancerIP] : []);
  const invalidRequest = raw.find((r) => !tryParseIp(r));
  const requestedIps = invalidRequest ? [] : raw.map((r) => canonicalIp(r)!);
  const local = svc.spec.externalTrafficPolicy === 'Local';
  return {
    key: objectKey(svc),
    namespace: svc.metadata.namespace ?? 'default',
    labels: svc.metadata.labels ?? {},
    requestedIps,
    invalidRequest,
    poolName: annotation(svc, 'address-pool'),
    sharingKey: annotation(svc, 'allow-shared-ip'),
    ports: (svc.spec.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
    backendKey: local ? JSON.stringify(Object.entries(svc.spec.selector ?? {}).sort()) : undefined,
    families: invalidRequest ? [] : familiesOf(svc, requestedIps),
  };
}
