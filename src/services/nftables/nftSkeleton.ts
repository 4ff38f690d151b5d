/**
 * The static part of podnet's table: base chains, dispatch chains, maps and sets. Written on every full sync
 * (idempotent `add`), never on incremental ones.
 *
 * Layout follows kube-proxy's nftables mode (pkg/proxy/nftables/README.md): filter checks run at dstnat-10 so
 * they see the original destination, the unused-port check at dstnat+10 after DNAT; `reject-chain` exists only
 * because `reject` cannot be a vmap verdict. Unlike kube-proxy, rejects run in prerouting (valid since kernel
 * 5.9; the nftables mode needs ≥ 5.13 anyway): a packet for a Service without endpoints is refused whether or
 * not the node has a route for the service CIDR, instead of an ICMP "net unreachable" from the routing step.
 */
import { TABLE, MASQ_MARK } from './nftNames.ts';

export type NftFamily = 'ip' | 'ip6';

export const STATIC_MAPS = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips'] as const;
export const STATIC_SETS = ['cluster-ips', 'nodeport-ips', 'hairpin-pairs', 'cluster-cidrs'] as const;
export type StaticMap = (typeof STATIC_MAPS)[number];
export type StaticSet = (typeof STATIC_SETS)[number];

export function addrType(f: NftFamily): string {
  return f === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
}

const BASE_CHAINS: Array<[string, string]> = [
  ['nat-prerouting', 'type nat hook prerouting priority -100'],
  ['nat-output', 'type nat hook output priority -100'],
  ['nat-postrouting', 'type nat hook postrouting priority 100'],
  ['filter-prerouting', 'type filter hook prerouting priority -110'],
  ['filter-output', 'type filter hook output priority -110'],
  ['filter-prerouting-post-dnat', 'type filter hook prerouting priority -90'],
  ['filter-output-post-dnat', 'type filter hook output priority -90'],
];

/** Static chains and their rules. `ip`/`ip6` is the only difference between the two tables. */
export function staticChains(f: NftFamily): Map<string, string[]> {
  const d = `${f} daddr`;
  const npIPs = `${d} @nodeport-ips meta l4proto . th dport`;
  const checks = ['ct state new jump firewall-check', 'ct state new jump service-endpoints-check', 'ct state new jump nodeport-endpoints-check'];
  return new Map<string, string[]>([
    ['nat-prerouting', ['jump services']],
    ['nat-output', ['jump services']],
    // Hairpin (a pod reaching itself through its Service): after DNAT its source equals its destination;
    // masquerade so the reply comes back through us (inline dispatch; endpoint chains mark instead).
    ['nat-postrouting', [`ct status dnat ${f} saddr . ${d} @hairpin-pairs masquerade fully-random`, 'jump masquerading']],
    ['filter-prerouting', [...checks]],
    ['filter-output', [...checks]],
    ['filter-prerouting-post-dnat', ['ct state new jump cluster-ips-check']],
    ['filter-output-post-dnat', ['ct state new jump cluster-ips-check']],
    ['services', [`${d} . meta l4proto . th dport vmap @service-ips`, `${npIPs} vmap @service-nodeports`]],
    ['firewall-check', [`${d} . meta l4proto . th dport vmap @firewall-ips`]],
    ['service-endpoints-check', [`${d} . meta l4proto . th dport vmap @no-endpoint-services`]],
    ['nodeport-endpoints-check', [`${npIPs} vmap @no-endpoint-nodeports`]],
    // After DNAT a served packet's daddr is an endpoint: what still targets a ClusterIP hit an unused port.
    ['cluster-ips-check', [`${d} @cluster-ips reject`]],
    ['mark-for-masquerade', [`meta mark set meta mark | ${MASQ_MARK}`]],
    ['masquerading', [`meta mark & ${MASQ_MARK} == 0 return`, `meta mark set meta mark ^ ${MASQ_MARK}`, 'masquerade fully-random']],
    ['reject-chain', ['reject']],
  ]);
}

/** `add` statements for the table, chains, maps and sets: idempotent, so safe on a table that exists. */
export function skeletonDeclarations(f: NftFamily): string[] {
  const t = `${f} ${TABLE}`;
  const a = addrType(f);
  const out = [`add table ${t} { comment "podnet service proxy: managed by podnetd, do not edit"; }`];
  const base = new Map(BASE_CHAINS);
  for (const name of staticChains(f).keys()) {
    const hook = base.get(name);
    out.push(hook ? `add chain ${t} ${name} { ${hook}; }` : `add chain ${t} ${name}`);
  }
  out.push(`add map ${t} service-ips { type ${a} . inet_proto . inet_service : verdict; }`);
  out.push(`add map ${t} service-nodeports { type inet_proto . inet_service : verdict; }`);
  out.push(`add map ${t} no-endpoint-services { type ${a} . inet_proto . inet_service : verdict; }`);
  out.push(`add map ${t} no-endpoint-nodeports { type inet_proto . inet_service : verdict; }`);
  out.push(`add map ${t} firewall-ips { type ${a} . inet_proto . inet_service : verdict; }`);
  out.push(`add set ${t} cluster-ips { type ${a}; }`);
  out.push(`add set ${t} nodeport-ips { type ${a}; }`);
  out.push(`add set ${t} hairpin-pairs { type ${a} . ${a}; }`);
  // A named set, not `saddr != { … }` in every service chain: each anonymous set costs a scan of all sets.
  out.push(`add set ${t} cluster-cidrs { type ${a}; flags interval; }`);
  return out;
}
