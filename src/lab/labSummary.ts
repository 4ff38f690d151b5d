/**
 * @module lab/labSummary — what `lab up` prints about the lab it built: the underlay, and what runs on it (store,
 * podnetd per node and which of its parts, lab kubelets) — or, with `--no-podnet`, that nothing does.
 */
import type { LabRouting } from './addressPlan.ts';
import type { Lab } from './lab.ts';
import type { ControlPlaneReport } from './labControlPlane.ts';

export function routingNote(routing: LabRouting, cp: ControlPlaneReport | undefined): string {
  if (!cp) return `routing: ${routing} — podnetd not started (--no-podnet): underlay only`;
  if (routing === 'none') return 'routing: none — podnetd runs without its routing part (pods reach pods on their own node only)';
  if (!cp.routing) return `routing: ${routing} — the lab does not run this backend; podnetd runs without its routing part`;
  const topo = routing === 'cross-subnet' ? ' (two underlay subnets joined by the router namespace)' : '';
  return `routing: ${routing} — podnetd's routing part on every node${topo}`;
}

export function controlPlaneLines(lab: Lab, cp: ControlPlaneReport | undefined): string[] {
  if (!cp) return [`store: file:${lab.storeDir} (nothing running uses it: --no-podnet)`];
  const lines = [`store: ${cp.store}${cp.hostStore !== cp.store ? ` (the lab's etcd; from this machine: podnetctl ... --store ${cp.hostStore})` : ''}`];
  lines.push(`podnetd agent on ${cp.agents.join(', ')} (node registration, pod CIDR, endpoints controller${cp.routing ? ', routing' : ''}, proxy, DNS at the cluster DNS address, L2 LB, CNI hand-off); logs ${lab.paths.logDir}`);
  if (cp.kubelets.length) {
    const handoff = cp.handoff.nodes.length ? 'handed off to podnetd by the native shim' : `without podnetd's hand-off: ${cp.handoff.note ?? 'no shim'}`;
    lines.push(`lab kubelet on ${cp.kubelets.join(', ')} (pods as namespaces through the podnet CNI plugin, ${handoff}; n1 also places pods)`);
  }
  return lines;
}

export function formatLabSummary(lab: Lab, builtMs: number, cp?: ControlPlaneReport): string {
  const p = lab.plan;
  const o = p.options;
  const lines = [`lab ${o.name} up in ${builtMs < 1000 ? `${builtMs} ms` : `${(builtMs / 1000).toFixed(1)} s`}: ${o.nodes} node${o.nodes === 1 ? '' : 's'}`];
  const row = (id: string, ns: string, what: string) => `  ${id.padEnd(8)}${ns.padEnd(24)}${what}`;
  const segs = p.segments.map((s) => `${s.bridge} ${s.subnet}/${s.prefixLen} ${s.subnet6}/${s.prefixLen6}`).join(', ');
  const gw = p.fabricAddress ? `, gateway ${p.fabricAddress.address} and ${p.fabricAddress.address6} on ${p.fabricAddress.bridge}` : '';
  lines.push(row('fabric', p.fabricNs, `${segs}${gw}`));
  for (const h of p.hosts) {
    const addrs = h.interfaces.map((i) => `${i.dev} ${i.address}/${i.prefixLen} ${i.address6}/${i.prefixLen6}`).join(', ');
    lines.push(row(h.id, h.ns, `${addrs}${h.gateway ? `, via ${h.gateway}${h.gateway6 ? ` and ${h.gateway6}` : ''}` : ''}${h.role === 'router' ? ', forwarding' : ''}`));
  }
  const c = p.cluster;
  const v6 = c.clusterCidr6 ? ` + ${c.clusterCidr6} (/${c.nodeCidrPrefixLen6} per node)` : '';
  const svc6 = c.serviceCidr6 ? ` + ${c.serviceCidr6}` : '';
  lines.push(`${c.clusterCidr6 ? 'dual-stack ' : ''}cluster CIDR ${c.clusterCidr} (/${c.nodeCidrPrefixLen} per node)${v6}, ` +
    `service CIDR ${c.serviceCidr}${svc6}, DNS ${c.dnsIp}, L2 pool ${c.l2Pool.first}-${c.l2Pool.last}`);
  lines.push(routingNote(o.routing, cp));
  lines.push(...controlPlaneLines(lab, cp));
  return lines.join('\n');
}
