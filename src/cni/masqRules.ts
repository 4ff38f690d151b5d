/**
 * @module cni/masqRules — the nftables script for `ipMasq`: one podnet-owned table `inet podnet-cni` in the node's
 * namespace, with the pod addresses in a set and one masquerade rule per family for traffic leaving the cluster
 * CIDRs. A set instead of bridge's one-chain-per-container keeps the ruleset O(1) rules for any pod count, and makes
 * ADD and DEL one element each. Pure: the scripts are fed to `nft -f -`.
 *
 * Every script re-declares the table, sets and chain (`add` is idempotent) and rewrites the two rules after a
 * `flush chain`, so it works on an empty or an existing table in one transaction. DEL adds and then deletes the
 * element in the same transaction: deleting a missing element is an error in nft, and DEL must be idempotent.
 */
import type { MasqSpec } from './dataplane.ts';

export const MASQ_TABLE = 'podnet-cni';
const MULTICAST = { 4: '224.0.0.0/4', 6: 'ff00::/8' } as const;

function skeleton(): string[] {
  const t = `inet ${MASQ_TABLE}`;
  return [
    `add table ${t}`,
    `add set ${t} masq4 { type ipv4_addr; }`,
    `add set ${t} masq6 { type ipv6_addr; }`,
    `add set ${t} keep4 { type ipv4_addr; flags interval; auto-merge; }`,
    `add set ${t} keep6 { type ipv6_addr; flags interval; auto-merge; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
  ];
}

const byFamily = (xs: string[], v6: boolean) => xs.filter((x) => x.includes(':') === v6);

export function masqScript(spec: MasqSpec): string {
  const t = `inet ${MASQ_TABLE}`;
  const lines = [...skeleton(), `flush chain ${t} postrouting`,
    `add rule ${t} postrouting ip saddr @masq4 ip daddr != @keep4 masquerade`,
    `add rule ${t} postrouting ip6 saddr @masq6 ip6 daddr != @keep6 masquerade`,
    `flush set ${t} keep4`, `flush set ${t} keep6`,
    `add element ${t} keep4 { ${[...byFamily(spec.exceptCidrs, false), MULTICAST[4]].join(', ')} }`,
    `add element ${t} keep6 { ${[...byFamily(spec.exceptCidrs, true), MULTICAST[6], 'fe80::/10'].join(', ')} }`];
  for (const [set, v6] of [['masq4', false], ['masq6', true]] as const) {
    const ips = byFamily(spec.podIps, v6);
    if (ips.length) lines.push(`add element ${t} ${set} { ${ips.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

export function unmasqScript(podIps: string[]): string {
  const t = `inet ${MASQ_TABLE}`;
  const lines = skeleton();
  for (const [set, v6] of [['masq4', false], ['masq6', true]] as const) {
    const ips = byFamily(podIps, v6);
    if (ips.length) lines.push(`add element ${t} ${set} { ${ips.join(', ')} }`, `delete element ${t} ${set} { ${ips.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}
