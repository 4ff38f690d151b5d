/**
 * @module store/ctl/ctlDescribe — `podnetctl describe KIND NAME`: kubectl-style `Key:  value` blocks. Services
 * show their endpoints from the EndpointSlices; other kinds show metadata plus their spec/status as YAML.
 */
import YAML from 'yaml';
import type { Store } from '../store.ts';
import type { Service } from '../types.ts';
import type { AnyObject } from '../validate.ts';
import { alignColumns } from './ctlTables.ts';

function mapLines(m: Record<string, string> | undefined): string[] {
  const entries = Object.entries(m ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`) : ['<none>'];
}

function block(pairs: Array<[string, string | string[]]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => {
    const lines = Array.isArray(v) ? v : [v];
    return lines.map((l, i) => `${i === 0 ? `${k}:`.padEnd(width) : ' '.repeat(width)}${l}`).join('\n');
  }).join('\n');
}

async function serviceDetails(store: Store, s: Service): Promise<Array<[string, string | string[]]>> {
  const slices = (await store.list('EndpointSlice', { namespace: s.metadata.namespace ?? 'default' })).items
    .filter((e) => e.metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name);
  const endpoints = slices.flatMap((e) => e.endpoints.filter((x) => x.conditions?.ready !== false).flatMap((x) => x.addresses.map((a) => `${a}:${e.ports?.[0]?.port ?? ''}`)));
  const out: Array<[string, string | string[]]> = [
    ['Selector', mapLines(s.spec.selector).join(',')],
    ['Type', s.spec.type ?? 'ClusterIP'],
    ['IP', s.spec.clusterIP ?? '<none>'],
  ];
  if (s.status?.loadBalancer?.ingress?.length) out.push(['LoadBalancer Ingress', s.status.loadBalancer.ingress.map((i) => i.ip ?? i.hostname ?? '').join(', ')]);
  for (const p of s.spec.ports ?? []) {
    out.push(['Port', `${p.name || '<unset>'}  ${p.port}/${p.protocol ?? 'TCP'}`]);
    out.push(['TargetPort', `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`]);
    if (p.nodePort) out.push(['NodePort', `${p.name || '<unset>'}  ${p.nodePort}/${p.protocol ?? 'TCP'}`]);
  }
  out.push(['Endpoints', endpoints.length ? endpoints.join(',') : '<none>']);
  out.push(['Session Affinity', s.spec.sessionAffinity ?? 'None']);
  if (s.spec.externalTrafficPolicy) out.push(['External Traffic Policy', s.spec.externalTrafficPolicy]);
  return out;
}

export async function describeObject(store: Store, o: AnyObject): Promise<string> {
  const head: Array<[string, string | string[]]> = [['Name', o.metadata.name]];
  if (o.metadata.namespace) head.push(['Namespace', o.metadata.namespace]);
  head.push(['Labels', mapLines(o.metadata.labels)], ['Annotations', mapLines(o.metadata.annotations)]);
  if (o.metadata.creationTimestamp) head.push(['CreationTimestamp', o.metadata.creationTimestamp]);
  if (o.kind === 'Service') return `${block([...head, ...(await serviceDetails(store, o))])}\n`;
  if (o.kind === 'EndpointSlice') {
    const rows = [['ADDRESSES', 'READY', 'SERVING', 'TERMINATING', 'NODE', 'TARGET'],
      ...o.endpoints.map((e) => [e.addresses.join(','), String(e.conditions?.ready ?? ''), String(e.conditions?.serving ?? ''), String(e.conditions?.terminating ?? ''), e.nodeName ?? '<none>', e.targetRef ? `${e.targetRef.kind}/${e.targetRef.name}` : '<none>'])];
    const ports = (o.ports ?? []).map((p) => `${p.name || '<unset>'} ${p.port}/${p.protocol ?? 'TCP'}`);
    return `${block([...head, ['AddressType', o.addressType], ['Ports', ports.length ? ports : ['<none>']]])}\nEndpoints:\n${alignColumns(rows).replace(/^/gm, '  ')}\n`;
  }
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = o as AnyObject & Record<string, unknown>;
  const body = Object.keys(rest).length ? `\n${YAML.stringify(rest).trimEnd()}` : '';
  return `${block(head)}${body}\n`;
}
