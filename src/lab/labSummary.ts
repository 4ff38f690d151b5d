/**
 * @module lab/labSummary — what `lab up` prints about the lab it built, including what is not running yet: the
 * routing and store flags are accepted now and only shape the topology until podnetd and the lab's etcd exist,
 * and the output says so instead of pretending.
 */
import type { LabRouting, LabStoreKind } from './addressPlan.ts';
import type { Lab } from './lab.ts';

export function routingNote(routing: LabRouting): string {
  if (routing === 'none') return 'routing: none — underlay only (no podnetd)';
  const topo = routing === 'cross-subnet' ? ' (topology: two underlay subnets joined by the router namespace)' : '';
  return `routing: ${routing} — podnetd not started: not built yet${topo}`;
}

export function storeNote(store: LabStoreKind, storeDir: string): string {
  if (store === 'file') return `store: file:${storeDir}`;
  return `store: etcd — the lab's etcd is not started: not built yet (the file store is at ${storeDir})`;
}

export function formatLabSummary(lab: Lab, builtMs: number): string {
  const p = lab.plan;
  const o = p.options;
  const lines = [`lab ${o.name} up in ${builtMs < 1000 ? `${builtMs} ms` : `${(builtMs / 1000).toFixed(1)} s`}: ${o.nodes} node${o.nodes === 1 ? '' : 's'}`];
  const row = (id: string, ns: string, what: string) => `  ${id.padEnd(8)}${ns.padEnd(24)}${what}`;
  const segs = p.segments.map((s) => `${s.bridge} ${s.subnet}/${s.prefixLen}`).join(', ');
  const gw = p.fabricAddress ? `, gateway ${p.fabricAddress.address} on ${p.fabricAddress.bridge}` : '';
  lines.push(row('fabric', p.fabricNs, `${segs}${gw}`));
  for (const h of p.hosts) {
    const addrs = h.interfaces.map((i) => `${i.dev} ${i.address}/${i.prefixLen}`).join(', ');
    lines.push(row(h.id, h.ns, `${addrs}${h.gateway ? `, via ${h.gateway}` : ''}${h.role === 'router' ? ', forwarding' : ''}`));
  }
  const c = p.cluster;
  lines.push(`cluster CIDR ${c.clusterCidr} (/${c.nodeCidrPrefixLen} per node), service CIDR ${c.serviceCidr}, ` +
    `DNS ${c.dnsIp}, L2 pool ${c.l2Pool.first}-${c.l2Pool.last}`);
  lines.push(routingNote(o.routing));
  lines.push(storeNote(o.store, lab.storeDir));
  return lines.join('\n');
}
