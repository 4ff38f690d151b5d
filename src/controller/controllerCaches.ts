/**
 * @module controller/controllerCaches — what the endpoints controller keeps of each object and how it finds
 * them. Transforms keep only the fields the planners read (a kubectl-applied object carries its whole manifest
 * again in an annotation; a foreign EndpointSlice's endpoints are never read), and indexes answer "which pods can
 * this Service select" and "which Services can select this pod" without scanning every object (issue 14).
 */
import type { EndpointSlice, ObjectMeta, Pod, Service } from '../store/types.ts';
import { isManagedSlice, managesService, SERVICE_NAME_LABEL } from './endpointSlicePlanner.ts';

/** `namespace, key, value` as one index value ('\0' cannot occur in any of them). */
export const labelPairKey = (ns: string, k: string, v: string): string => `${ns}\0${k}\0${v}`;

const nsOf = (m: ObjectMeta): string => m.namespace ?? 'default';

function trimMeta(m: ObjectMeta, extra: Partial<ObjectMeta> = {}): ObjectMeta {
  const out: ObjectMeta = { name: m.name, namespace: nsOf(m) };
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.labels !== undefined) out.labels = m.labels;
  return Object.assign(out, extra);
}

export function trimPod(p: Pod): Pod {
  const meta = trimMeta(p.metadata, p.metadata.deletionTimestamp ? { deletionTimestamp: p.metadata.deletionTimestamp } : {});
  const { nodeName, hostname, subdomain } = p.spec;
  const status = p.status ?? {};
  return {
    apiVersion: p.apiVersion, kind: 'Pod', metadata: meta,
    spec: {
      ...(nodeName !== undefined ? { nodeName } : {}), ...(hostname !== undefined ? { hostname } : {}), ...(subdomain !== undefined ? { subdomain } : {}),
      containers: p.spec.containers.map((c) => (c.ports ? { name: c.name, ports: c.ports } : { name: c.name })),
    },
    status: {
      ...(status.phase !== undefined ? { phase: status.phase } : {}),
      ...(status.podIP !== undefined ? { podIP: status.podIP } : {}),
      ...(status.podIPs !== undefined ? { podIPs: status.podIPs } : {}),
      ...(status.conditions ? { conditions: status.conditions.filter((c) => c.type === 'Ready').map((c) => ({ type: c.type, status: c.status })) } : {}),
    },
  };
}

export function trimService(s: Service): Service {
  const created = s.metadata.creationTimestamp;
  return { apiVersion: s.apiVersion, kind: 'Service', metadata: trimMeta(s.metadata, created ? { creationTimestamp: created } : {}), spec: s.spec };
}

export function trimSlice(e: EndpointSlice): EndpointSlice {
  if (!isManagedSlice(e)) return { apiVersion: e.apiVersion, kind: 'EndpointSlice', metadata: trimMeta(e.metadata), addressType: e.addressType, endpoints: [] };
  const meta = trimMeta(e.metadata, e.metadata.ownerReferences ? { ownerReferences: e.metadata.ownerReferences } : {});
  return { apiVersion: e.apiVersion, kind: 'EndpointSlice', metadata: meta, addressType: e.addressType, endpoints: e.endpoints, ...(e.ports ? { ports: e.ports } : {}) };
}

/** A pod is filed under each of its labels. */
export function podLabelKeys(p: Pod): string[] {
  const ns = nsOf(p.metadata);
  return Object.entries(p.metadata.labels ?? {}).map(([k, v]) => labelPairKey(ns, k, v));
}

/**
 * A Service is filed under one pair of its selector (the first key): a pod it selects carries that pair, so the
 * pod's own pairs find it, each Service once.
 */
export function serviceSelectorKeys(s: Service): string[] {
  if (!managesService(s)) return [];
  const [k] = Object.keys(s.spec.selector!).sort();
  return [labelPairKey(nsOf(s.metadata), k!, s.spec.selector![k!]!)];
}

/** A managed slice is filed under its Service's `namespace/name`; slices of others under nothing. */
export function sliceServiceKeys(e: EndpointSlice): string[] {
  const svc = e.metadata.labels?.[SERVICE_NAME_LABEL];
  return isManagedSlice(e) && svc ? [`${nsOf(e.metadata)}/${svc}`] : [];
}
