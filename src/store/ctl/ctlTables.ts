/**
 * @module store/ctl/ctlTables — `podnetctl get` tables with kubectl's columns per kind (`-o wide` adds some) and
 * its layout: upper-case headers, columns separated by three spaces, `<none>` for empty values.
 */
import type { KindMap, KindName, Node, Pod, Service, EndpointSlice, ConfigMap } from '../types.ts';

type Row = string[];
type Columns = { head: string[]; wide: string[]; row(o: never, now: number): Row; wideRow(o: never): Row };

export function age(ts: string | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 && h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

const none = (v: string | undefined) => (v ? v : '<none>');

function servicePorts(s: Service): string {
  const ports = (s.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`);
  return ports.length ? ports.join(',') : '<none>';
}

function externalIp(s: Service): string {
  const ingress = s.status?.loadBalancer?.ingress?.map((i) => i.ip ?? i.hostname).filter(Boolean) ?? [];
  const ips = [...(s.spec.externalIPs ?? []), ...ingress];
  if (ips.length) return ips.join(',');
  if (s.spec.type === 'LoadBalancer') return '<pending>';
  if (s.spec.type === 'ExternalName') return s.spec.externalName ?? '<none>';
  return '<none>';
}

function podReady(p: Pod): string {
  const n = p.spec.containers.length;
  const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : 0;
  return `${ready}/${n}`;
}

function nodeStatus(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return `${ready?.status === 'True' ? 'Ready' : 'NotReady'}${n.spec?.unschedulable ? ',SchedulingDisabled' : ''}`;
}

function slicePorts(e: EndpointSlice): string {
  const ports = (e.ports ?? []).map((p) => String(p.port ?? ''));
  return ports.length ? ports.join(',') : '<unset>';
}

function sliceEndpoints(e: EndpointSlice): string {
  const addrs = e.endpoints.flatMap((x) => x.addresses);
  if (addrs.length === 0) return '<none>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

const COLUMNS: Partial<Record<KindName, Columns>> = {
  Service: {
    head: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], wide: ['SELECTOR'],
    row: (s: Service, now) => [s.metadata.name, s.spec.type ?? 'ClusterIP', none(s.spec.clusterIP), externalIp(s), servicePorts(s), age(s.metadata.creationTimestamp, now)],
    wideRow: (s: Service) => [s.spec.selector ? Object.entries(s.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>'],
  } as Columns,
  Pod: {
    head: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], wide: ['IP', 'NODE'],
    row: (p: Pod, now) => [p.metadata.name, podReady(p), p.metadata.deletionTimestamp ? 'Terminating' : p.status?.phase ?? 'Pending', '0', age(p.metadata.creationTimestamp, now)],
    wideRow: (p: Pod) => [none(p.status?.podIP), none(p.spec.nodeName)],
  } as Columns,
  Node: {
    head: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], wide: ['INTERNAL-IP', 'POD-CIDR', 'BACKEND'],
    row: (n: Node, now) => [n.metadata.name, nodeStatus(n), '<none>', age(n.metadata.creationTimestamp, now), 'podnet'],
    wideRow: (n: Node) => [none(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address), none(n.spec?.podCIDR), none(n.metadata.annotations?.['podnet.io/backend'])],
  } as Columns,
  EndpointSlice: {
    head: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], wide: [],
    row: (e: EndpointSlice, now) => [e.metadata.name, e.addressType, slicePorts(e), sliceEndpoints(e), age(e.metadata.creationTimestamp, now)],
    wideRow: () => [],
  } as Columns,
  ConfigMap: {
    head: ['NAME', 'DATA', 'AGE'], wide: [],
    row: (c: ConfigMap, now) => [c.metadata.name, String(Object.keys(c.data ?? {}).length), age(c.metadata.creationTimestamp, now)],
    wideRow: () => [],
  } as Columns,
  Lease: {
    head: ['NAME', 'HOLDER', 'AGE'], wide: [],
    row: (l: KindMap['Lease'], now) => [l.metadata.name, l.spec?.holderIdentity ?? '', age(l.metadata.creationTimestamp, now)],
    wideRow: () => [],
  } as Columns,
};

const GENERIC: Columns = {
  head: ['NAME', 'AGE'], wide: [],
  row: (o: { metadata: { name: string; creationTimestamp?: string } }, now: number) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  wideRow: () => [],
} as Columns;

export function renderTable(kind: KindName, items: Array<KindMap[KindName]>, opts: { wide: boolean; withNamespace: boolean; now?: number }): string {
  const cols = COLUMNS[kind] ?? GENERIC;
  const now = opts.now ?? Date.now();
  const head = [...(opts.withNamespace ? ['NAMESPACE'] : []), ...cols.head, ...(opts.wide ? cols.wide : [])];
  const rows = items.map((o) => [
    ...(opts.withNamespace ? [o.metadata.namespace ?? ''] : []),
    ...cols.row(o as never, now), ...(opts.wide ? cols.wideRow(o as never) : []),
  ]);
  return alignColumns([head, ...rows]);
}

export function alignColumns(rows: Row[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}
