/**
 * EndpointSlices → the endpoints of one service port in one family, with the conditions kube-proxy reads
 * (pkg/proxy/endpointslicecache.go): nil ready/serving mean true, nil terminating means false; an address listed
 * by two slices is used once (the ready copy wins).
 */
import type { EndpointSlice, Service, ServicePort, IPFamily } from '../store/types.ts';
import type { EndpointInfo } from './endpointSelection.ts';

export interface LocalNode {
  name: string;
  zone?: string;
}

/** The slice port serving this service port: same name (both empty when unnamed) and protocol. */
function slicePortNumber(slice: EndpointSlice, sp: ServicePort): number | null {
  const name = sp.name ?? '';
  const proto = sp.protocol ?? 'TCP';
  for (const p of slice.ports ?? []) {
    if ((p.name ?? '') !== name || (p.protocol ?? 'TCP') !== proto) continue;
    if (p.port !== undefined && p.port > 0) return p.port;
    // A named targetPort the slice did not resolve cannot be reached; a numeric one still can.
    if (typeof sp.targetPort === 'number') return sp.targetPort;
    if (sp.targetPort === undefined) return sp.port;
    return null;
  }
  return null;
}

/**
 * Hints as the EndpointSlice controller would set them for trafficDistribution when the slice carries none
 * (file/etcd stores have no such controller): PreferSameNode → the endpoint's node (and zone as fallback),
 * PreferSameZone / PreferClose → its zone.
 */
function hintsFor(svc: Service, ep: EndpointSlice['endpoints'][number]): { zoneHints: string[]; nodeHints: string[] } {
  const zoneHints = ep.hints?.forZones?.map((z) => z.name) ?? [];
  const nodeHints = ep.hints?.forNodes?.map((n) => n.name) ?? [];
  if (ep.hints) return { zoneHints, nodeHints };
  const td = svc.spec.trafficDistribution;
  if (td === 'PreferSameNode') return { nodeHints: ep.nodeName ? [ep.nodeName] : [], zoneHints: ep.zone ? [ep.zone] : [] };
  if (td === 'PreferSameZone' || td === 'PreferClose') return { nodeHints: [], zoneHints: ep.zone ? [ep.zone] : [] };
  return { zoneHints, nodeHints };
}

export function collectEndpoints(svc: Service, sp: ServicePort, family: IPFamily, slices: readonly EndpointSlice[], node: LocalNode): EndpointInfo[] {
  const byIP = new Map<string, EndpointInfo>();
  const sorted = [...slices].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const slice of sorted) {
    if (slice.addressType !== family) continue;
    const port = slicePortNumber(slice, sp);
    if (port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      // publishNotReadyAddresses: the Service wants every address used, ready or not (the EndpointSlice
      // controller marks them ready; we honour it here too, for stores without that controller).
      const ready = svc.spec.publishNotReadyAddresses === true || ep.conditions?.ready !== false;
      const serving = ep.conditions?.serving ?? ep.conditions?.ready ?? true;
      const info: EndpointInfo = {
        ip,
        port,
        nodeName: ep.nodeName,
        zone: ep.zone,
        ready,
        serving: serving || ready,
        terminating: ep.conditions?.terminating === true,
        isLocal: ep.nodeName !== undefined && ep.nodeName === node.name,
        ...hintsFor(svc, ep),
      };
      const prev = byIP.get(`${ip}/${port}`);
      if (!prev || (!prev.ready && info.ready)) byIP.set(`${ip}/${port}`, info);
    }
  }
  return [...byIP.values()];
}
