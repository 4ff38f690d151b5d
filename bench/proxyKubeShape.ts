/**
 * bench/proxy's anchor for the full sync: the same services written in the shape kube-proxy's nftables mode
 * writes them (kubernetes pkg/proxy/nftables/proxier.go, summarised in /work/shared/anchors/proxy.md §2), as the
 * `nft -f` transaction knftables would send for a first sync into an empty namespace:
 *
 * - one `ip kube-proxy` table (priorities as numbers: nft 1.0.6 rejects `dstnat` on the output hook); base chains filter-prerouting/-input/-forward/-output/-output-post-dnat at
 *   dstnat-10 / dstnat+10, nat-prerouting/-output at dstnat and nat-postrouting at srcnat;
 * - verdict maps `service-ips` (`ipv4_addr . inet_proto . inet_service`), `service-nodeports`
 *   (`inet_proto . inet_service`), `no-endpoint-services`, `no-endpoint-nodeports`, `firewall-ips`; sets
 *   `cluster-ips`, `nodeport-ips`;
 * - per service port: `service-HASH-ns/name/proto/port` (masquerade mark for sources outside the cluster CIDR,
 *   then `numgen random mod N vmap { 0 : goto endpoint-…, … }`) and, with a NodePort, `external-HASH-…` (mark, goto
 *   the service chain); per endpoint `endpoint-HASH-ns/name/proto/port__ip/port` (hairpin mark, DNAT);
 * - mark-for-masquerade / masquerading with bit 0x4000, `masquerade fully-random`.
 *
 * Left out because the bench's services do not use them: affinity sets, firewall chains, ETP Local chains.
 * Pure text generation; the bench times `nft -f` of it in a fresh namespace.
 */
import { createHash } from 'node:crypto';
import type { ServiceModel, ServicePortView } from '../src/services/serviceModel.ts';

const T = 'ip kube-proxy';

/** kube-proxy's hashed chain prefix: base32 of sha256, 8 characters (servicePortChainNameBase). */
function hash(text: string): string {
  const b32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const d = createHash('sha256').update(text).digest();
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of d) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += b32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 8) break;
  }
  return out;
}

function portName(p: ServicePortView): string {
  return `${p.namespace}/${p.name}/${p.protocol.toLowerCase()}/${p.portName}`;
}

/** The kube-proxy-shaped transaction for the IPv4 ports of `model`. `clusterCIDR`: the local-traffic detector. */
export function kubeProxyShapedRuleset(model: ServiceModel, clusterCIDR: string): string {
  const out: string[] = [];
  const add = (l: string) => out.push(l);
  // knftables declares every chain before any rule, so a rule may jump to a chain written after it.
  const chains: string[] = [];
  const addChain = (name: string) => chains.push(`add chain ${T} ${name}`);
  add(`add table ${T} { comment "rules for kube-proxy" ; }`);
  const base: Array<[string, string]> = [
    ['filter-prerouting', 'type filter hook prerouting priority -110 ;'],
    ['filter-input', 'type filter hook input priority -110 ;'],
    ['filter-forward', 'type filter hook forward priority -110 ;'],
    ['filter-output', 'type filter hook output priority -110 ;'],
    ['filter-output-post-dnat', 'type filter hook output priority -90 ;'],
    ['nat-prerouting', 'type nat hook prerouting priority -100 ;'],
    ['nat-output', 'type nat hook output priority -100 ;'],
    ['nat-postrouting', 'type nat hook postrouting priority 100 ;'],
  ];
  for (const [name, spec] of base) add(`add chain ${T} ${name} { ${spec} }`);
  for (const name of ['firewall-check', 'services', 'service-endpoints-check', 'nodeport-endpoints-check', 'cluster-ips-check', 'mark-for-masquerade', 'masquerading', 'reject-chain']) add(`add chain ${T} ${name}`);
  add(`add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`);
  add(`add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`);
  add(`add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; }`);
  add(`add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }`);
  add(`add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }`);
  add(`add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`);
  add(`add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`);
  add(`add rule ${T} filter-prerouting ct state new jump firewall-check`);
  add(`add rule ${T} filter-input ct state new jump nodeport-endpoints-check`);
  add(`add rule ${T} filter-input ct state new jump service-endpoints-check`);
  add(`add rule ${T} filter-forward ct state new jump service-endpoints-check`);
  add(`add rule ${T} filter-forward ct state new jump cluster-ips-check`);
  add(`add rule ${T} filter-output ct state new jump service-endpoints-check`);
  add(`add rule ${T} filter-output ct state new jump firewall-check`);
  add(`add rule ${T} filter-output-post-dnat ct state new jump cluster-ips-check`);
  add(`add rule ${T} nat-prerouting jump services`);
  add(`add rule ${T} nat-output jump services`);
  add(`add rule ${T} nat-postrouting jump masquerading`);
  add(`add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`);
  add(`add rule ${T} reject-chain reject`);
  add(`add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`);
  add(`add rule ${T} mark-for-masquerade mark set mark or 0x4000`);
  add(`add rule ${T} masquerading mark and 0x4000 == 0 return`);
  add(`add rule ${T} masquerading mark set mark xor 0x4000`);
  add(`add rule ${T} masquerading masquerade fully-random`);
  add(`add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`);
  add(`add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`);
  add(`add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  add(`add rule ${T} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`);
  for (const ip of model.nodePortIPs.IPv4) add(`add element ${T} nodeport-ips { ${ip} }`);
  for (const p of model.ports) {
    if (p.family !== 'IPv4') continue;
    const proto = p.protocol.toLowerCase();
    const h = hash(`${portName(p)}`);
    const svcChain = `service-${h}-${portName(p)}`;
    add(`add element ${T} cluster-ips { ${p.clusterIP} }`);
    if (p.internalEndpoints.length === 0) {
      add(`add element ${T} no-endpoint-services { ${p.clusterIP} . ${proto} . ${p.port} comment "${p.namespace}/${p.name}:${p.portName}" : goto reject-chain }`);
      continue;
    }
    const epChains = p.internalEndpoints.map((e) => `endpoint-${hash(`${portName(p)}${e.ip}:${e.port}`)}-${portName(p)}__${e.ip}/${e.port}`);
    addChain(svcChain);
    add(`add rule ${T} ${svcChain} ip daddr ${p.clusterIP} ${proto} dport ${p.port} ip saddr != ${clusterCIDR} jump mark-for-masquerade`);
    add(`add rule ${T} ${svcChain} numgen random mod ${epChains.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(' , ')} }`);
    p.internalEndpoints.forEach((e, i) => {
      const c = epChains[i]!;
      addChain(c);
      add(`add rule ${T} ${c} ip saddr ${e.ip} jump mark-for-masquerade`);
      add(`add rule ${T} ${c} meta l4proto ${proto} dnat to ${e.ip}:${e.port}`);
    });
    add(`add element ${T} service-ips { ${p.clusterIP} . ${proto} . ${p.port} comment "${p.namespace}/${p.name}:${p.portName}" : goto ${svcChain} }`);
    if (p.nodePort > 0) {
      const ext = `external-${h}-${portName(p)}`;
      addChain(ext);
      add(`add rule ${T} ${ext} jump mark-for-masquerade`);
      add(`add rule ${T} ${ext} goto ${svcChain}`);
      add(`add element ${T} service-nodeports { ${proto} . ${p.nodePort} comment "${p.namespace}/${p.name}:${p.portName}" : goto ${ext} }`);
    }
  }
  const rulesFrom = out.findIndex((l) => l.startsWith('add rule '));
  return `${[...out.slice(0, rulesFrom), ...chains, ...out.slice(rulesFrom)].join('\n')}\n`;
}
