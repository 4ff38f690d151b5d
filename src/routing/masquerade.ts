/**
 * @module routing/masquerade — SNAT for pod traffic leaving the cluster: one podnet-owned nftables table
 * `inet podnet-nat` in the node's namespace with one rule per family,
 *   ip saddr <cluster CIDR> ip daddr != { <cluster CIDR>, 224.0.0.0/4 } masquerade
 * so pod↔pod traffic (any node) keeps its pod source address and everything else leaves with the node's.
 * The script re-declares and flushes only this table in one transaction (atomic, idempotent); the rule comment
 * carries a hash of the configuration so the periodic check re-applies only when the table is missing or stale.
 * The CNI's per-pod `ipMasq` option uses its own table (`inet podnet-cni`); the first NAT rule to match wins, so
 * both may be on without double translation.
 */
import { createHash } from 'node:crypto';
import { prefixFamily, parsePrefix } from '../common/ipPrefix.ts';
import { runInNetns } from './netnsCommand.ts';

export const NAT_TABLE = 'podnet-nat';
const MULTICAST = { 4: '224.0.0.0/4', 6: 'ff00::/8' } as const;

export function masqueradeTag(clusterCidrs: readonly string[]): string {
  return `podnet-nat ${createHash('sha256').update(clusterCidrs.join(',')).digest('hex').slice(0, 12)}`;
}

/** The nft script (pure). */
export function masqueradeScript(clusterCidrs: readonly string[]): string {
  const t = `inet ${NAT_TABLE}`;
  const tag = masqueradeTag(clusterCidrs);
  const lines = [
    `add table ${t}`,
    `flush table ${t}`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
  ];
  for (const family of [4, 6] as const) {
    const cidrs = clusterCidrs.filter((c) => prefixFamily(parsePrefix(c, { hostBits: 'clear' })) === family);
    if (!cidrs.length) continue;
    const ipk = family === 4 ? 'ip' : 'ip6';
    const src = cidrs.length === 1 ? cidrs[0] : `{ ${cidrs.join(', ')} }`;
    lines.push(`add rule ${t} postrouting ${ipk} saddr ${src} ${ipk} daddr != { ${[...cidrs, MULTICAST[family]].join(', ')} } masquerade comment "${tag}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** Apply the table unless it is already there with this configuration. Returns whether it was (re)written. */
export async function ensureMasquerade(clusterCidrs: readonly string[], netns?: string): Promise<boolean> {
  const listed = await runInNetns(netns, 'nft', ['list', 'table', 'inet', NAT_TABLE], { allowFailure: true });
  if (listed.code === 0 && listed.stdout.includes(masqueradeTag(clusterCidrs))) return false;
  await runInNetns(netns, 'nft', ['-f', '-'], { input: masqueradeScript(clusterCidrs) });
  return true;
}

/** Remove the table (masquerade turned off); absent is fine. */
export async function removeMasquerade(netns?: string): Promise<void> {
  await runInNetns(netns, 'nft', ['delete', 'table', 'inet', NAT_TABLE], { allowFailure: true });
}
