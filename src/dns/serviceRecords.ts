/**
 * @module dns/serviceRecords — the names one Service (with its EndpointSlices) or one Pod puts into the cluster
 * zone, computed purely from the objects. The record index calls these on every change of the object and swaps
 * the owner's whole contribution, so a name never shows half of an update.
 *
 * Rules (kubernetes/dns specification 1.1.0, CoreDNS kubernetes plugin v1.14 where the spec is silent):
 * - ClusterIP: `<svc>.<ns>.svc.<zone>` A/AAAA = spec.clusterIPs; `_<port>._<proto>.<svc>…` SRV per named port
 *   (Service port, target the Service name); PTR for each cluster IP; `<ep>.<svc>…` A/AAAA for ready endpoints
 *   (CoreDNS extension).
 * - Headless: the Service name holds every ready endpoint address; `<ep>.<svc>…` per endpoint, where `<ep>` is the
 *   endpoint's hostname or its dashed IP; SRV per named EndpointSlice port with the endpoint name as target;
 *   PTR for each ready endpoint address (spec §2.4.3: headless only — a pod behind a ClusterIP Service gets no
 *   PTR, so getnameinfo sees at most the headless names, hostname-bearing first). No ready endpoint: no names.
 * - ExternalName: a CNAME at the Service name, nothing below it.
 * - The bare Service name also answers SRV with every port (CoreDNS "peer-finder" extension).
 * - Ready: EndpointSlice `conditions.ready` absent or true; `publishNotReadyAddresses` also admits not-ready ones
 *   (the slice controller sets ready for them anyway; honouring it here keeps slices from other writers right).
 */
import type { EndpointSlice, Pod, Service } from '../store/types.ts';
import { canonicalIp, dashedIp, reverseName } from './dnsNames.ts';
import type { SrvData } from './rrTypes.ts';

/** Records one owner contributes at one name. An empty part still makes the name exist (NODATA, not NXDOMAIN). */
export interface NamePart {
  a?: string[];
  aaaa?: string[];
  srv?: SrvData[];
  ptr?: string[];
  /** PTR targets from hostname-bearing endpoints sort first when several owners share an address. */
  ptrPreferred?: boolean;
  cname?: string;
}

export type Contribution = Map<string, NamePart>;

export interface PortModel { name: string; protocol: string; port: number }
export interface EndpointModel { label: string; ips: string[]; ready: boolean; hasHostname: boolean; ports: PortModel[] }

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Endpoints of one slice as the zone sees them: one model per (hostname | address). */
export function endpointsOfSlice(slice: EndpointSlice): EndpointModel[] {
  if (slice.addressType === 'FQDN') return [];
  const ports = (slice.ports ?? []).filter((p) => p.port !== undefined)
    .map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port! }));
  const out: EndpointModel[] = [];
  for (const ep of slice.endpoints ?? []) {
    const ips = (ep.addresses ?? []).map(canonicalIp).filter((ip): ip is string => ip !== null);
    if (ips.length === 0) continue;
    const ready = ep.conditions?.ready !== false;
    const host = ep.hostname?.toLowerCase();
    if (host && DNS_LABEL.test(host)) {
      out.push({ label: host, ips, ready, hasHostname: true, ports });
    } else {
      for (const ip of ips) out.push({ label: dashedIp(ip), ips: [ip], ready, hasHostname: false, ports });
    }
  }
  return out;
}

function part(c: Contribution, name: string): NamePart {
  let p = c.get(name);
  if (!p) { p = {}; c.set(name, p); }
  return p;
}

/**
 * Dedupe keys per part while a contribution is built, so a Service with N endpoints costs O(N), not O(N²).
 * Emptied when the build ends (see `built`): kept per part for the part's lifetime (a WeakMap, before), the sets
 * outlived their use by the whole zone — 140,000 live WeakMap entries at 10,000 × 10, which made every major GC
 * walk them (ephemerons) and building the zone 25× slower.
 */
const seenKeys = new Map<NamePart, Set<string>>();

function built(c: Contribution): Contribution {
  seenKeys.clear();
  return c;
}

function firstTime(p: NamePart, key: string): boolean {
  let seen = seenKeys.get(p);
  if (!seen) { seen = new Set(); seenKeys.set(p, seen); }
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

function addAddress(p: NamePart, ip: string): void {
  if (firstTime(p, ip)) (ip.includes(':') ? (p.aaaa ??= []) : (p.a ??= [])).push(ip);
}

function addSrv(p: NamePart, srv: Omit<SrvData, 'weight'>): void {
  if (firstTime(p, `${srv.port} ${srv.target}`)) (p.srv ??= []).push({ ...srv, weight: 0 });
}

/** CoreDNS weights: ⌊100 / N⌋ for N records in the set, priority 0. */
function finishSrvWeights(c: Contribution): void {
  for (const p of c.values()) {
    if (!p.srv) continue;
    const w = Math.max(1, Math.floor(100 / p.srv.length));
    for (const s of p.srv) s.weight = w;
  }
}

function servicePorts(svc: Service): PortModel[] {
  return (svc.spec.ports ?? []).map((p) => ({
    name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port,
  }));
}

function clusterIPsOf(svc: Service): string[] {
  const ips = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.map(canonicalIp).filter((ip): ip is string => ip !== null);
}

export function isHeadless(svc: Service): boolean {
  return svc.spec.type !== 'ExternalName' && (svc.spec.clusterIP === 'None' || svc.spec.clusterIPs?.[0] === 'None');
}

/** Everything a Service with these endpoints puts in the zone. */
export function serviceContribution(svc: Service, endpoints: EndpointModel[], zone: string): Contribution {
  const c: Contribution = new Map();
  const base = `${svc.metadata.name}.${svc.metadata.namespace ?? 'default'}.svc.${zone}`.toLowerCase();
  if (svc.spec.type === 'ExternalName') {
    const target = (svc.spec.externalName ?? '').toLowerCase().replace(/\.$/, '');
    if (target && canonicalIp(target) === null) part(c, base).cname = target;
    return built(c);
  }
  const admitted = svc.spec.publishNotReadyAddresses ? endpoints : endpoints.filter((e) => e.ready);
  if (isHeadless(svc)) {
    if (admitted.length === 0) return built(c);
    headlessRecords(c, base, admitted);
  } else {
    clusterIpRecords(c, base, svc);
    for (const ep of admitted) for (const ip of ep.ips) addAddress(part(c, `${ep.label}.${base}`), ip);
  }
  finishSrvWeights(c);
  return built(c);
}

function clusterIpRecords(c: Contribution, base: string, svc: Service): void {
  const top = part(c, base);
  for (const ip of clusterIPsOf(svc)) {
    addAddress(top, ip);
    const ptr = part(c, reverseName(ip));
    ptr.ptr = [base];
    ptr.ptrPreferred = true;
  }
  for (const port of servicePorts(svc)) {
    addSrv(top, { priority: 0, port: port.port, target: base });
    if (!port.name) continue;
    part(c, `_${port.protocol}.${base}`);
    addSrv(part(c, `_${port.name}._${port.protocol}.${base}`), { priority: 0, port: port.port, target: base });
  }
}

function headlessRecords(c: Contribution, base: string, endpoints: EndpointModel[]): void {
  const top = part(c, base);
  for (const ep of endpoints) {
    const host = `${ep.label}.${base}`;
    const hostPart = part(c, host);
    for (const ip of ep.ips) {
      addAddress(top, ip);
      addAddress(hostPart, ip);
      const ptr = part(c, reverseName(ip));
      if (firstTime(ptr, host)) (ptr.ptr ??= []).push(host);
      if (ep.hasHostname) ptr.ptrPreferred = true;
    }
    for (const port of ep.ports) {
      addSrv(top, { priority: 0, port: port.port, target: host });
      if (!port.name) continue;
      part(c, `_${port.protocol}.${base}`);
      addSrv(part(c, `_${port.name}._${port.protocol}.${base}`), { priority: 0, port: port.port, target: host });
    }
  }
}

/** `pods verified`: one A/AAAA per pod address at `<dashed-ip>.<ns>.pod.<zone>`; terminating/finished pods none. */
export function podContribution(pod: Pod, zone: string): Contribution {
  const c: Contribution = new Map();
  if (pod.metadata.deletionTimestamp) return c;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return c;
  const raw = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : pod.status?.podIP ? [pod.status.podIP] : [];
  const ns = (pod.metadata.namespace ?? 'default').toLowerCase();
  for (const ip of raw.map(canonicalIp)) {
    if (ip) addAddress(part(c, `${dashedIp(ip)}.${ns}.pod.${zone}`), ip);
  }
  return built(c);
}
