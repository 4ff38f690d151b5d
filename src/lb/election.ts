/**
 * @module lb/election — who announces an LB IP, decided independently and identically on every node (MetalLB's
 * layer-2 election, minus memberlist): the eligible nodes are those alive (holding their speaker lease), selected
 * by an L2Advertisement that covers the IP's pool, not labelled exclude-from-external-load-balancers, and — for
 * externalTrafficPolicy Local — running a ready endpoint of the service. They are ordered by
 * sha256(node + "#" + ip) and the first announces. The hash spreads IPs over nodes; removing a node moves only the
 * IPs it announced, adding one moves only those it now heads. Stateless: no lease per IP, so failover costs only
 * the liveness timeout. Pure.
 */
import { createHash } from 'node:crypto';
import { anySelectorMatches } from './labelSelector.ts';
import type { AddressPool, L2Advert } from './pools.ts';

export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Why a node does not announce an IP; '' means it announces (MetalLB's ShouldAnnounce reason strings). */
export type AnnounceDecision =
  | '' | 'notOwner' | 'notLayer2Pool' | 'noMatchingAdvertisement' | 'nodeNotSelected' | 'nodeExcluded'
  | 'noLocalEndpoint' | 'notAlive' | 'noEligibleNode';

export interface ElectionNode {
  name: string;
  labels: Record<string, string>;
  alive: boolean;
}

export interface ElectionInput {
  ip: string;
  pool: AddressPool;
  advertisements: readonly L2Advert[];
  nodes: readonly ElectionNode[];
  /** For externalTrafficPolicy Local: the nodes with a ready endpoint; undefined for Cluster. */
  localEndpointNodes: ReadonlySet<string> | undefined;
}

export function advertisementCoversPool(a: L2Advert, pool: AddressPool): boolean {
  if (a.poolNames.length === 0 && a.poolSelectors.length === 0) return true;
  return a.poolNames.includes(pool.name) || (a.poolSelectors.length > 0 && anySelectorMatches(a.poolSelectors, pool.labels));
}

/** The advertisements of `pool` that select `node`. */
export function advertisementsFor(input: Pick<ElectionInput, 'pool' | 'advertisements'>, node: ElectionNode): L2Advert[] {
  return input.advertisements.filter((a) => advertisementCoversPool(a, input.pool) && anySelectorMatches(a.nodeSelectors, node.labels));
}

/** Why `node` may not announce at all (before ordering), or ''. */
export function nodeEligibility(input: ElectionInput, node: ElectionNode): AnnounceDecision {
  if (input.pool.protocol !== 'layer2') return 'notLayer2Pool';
  if (!node.alive) return 'notAlive';
  if (!input.advertisements.some((a) => advertisementCoversPool(a, input.pool))) return 'noMatchingAdvertisement';
  if (advertisementsFor(input, node).length === 0) return 'nodeNotSelected';
  if (Object.hasOwn(node.labels, EXCLUDE_LABEL)) return 'nodeExcluded';
  if (input.localEndpointNodes && !input.localEndpointNodes.has(node.name)) return 'noLocalEndpoint';
  return '';
}

function rank(node: string, ip: string): string {
  return createHash('sha256').update(`${node}#${ip}`).digest('hex');
}

/** Eligible nodes, the announcer first. */
export function orderedCandidates(input: ElectionInput): string[] {
  return input.nodes.filter((n) => nodeEligibility(input, n) === '')
    .map((n) => ({ n: n.name, r: rank(n.name, input.ip) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : a.n.localeCompare(b.n)))
    .map((x) => x.n);
}

export function electedNode(input: ElectionInput): string | undefined {
  return orderedCandidates(input)[0];
}

/** Whether `self` announces `input.ip`, and if not, why. */
export function shouldAnnounce(input: ElectionInput, self: string): AnnounceDecision {
  const node = input.nodes.find((n) => n.name === self) ?? { name: self, labels: {}, alive: false };
  const own = nodeEligibility(input, node);
  if (own) return own;
  return electedNode(input) === self ? '' : 'notOwner';
}

/** Interfaces `node` answers on for the pool: union of its advertisements' lists; undefined = every eligible one. */
export function interfacesFor(input: Pick<ElectionInput, 'pool' | 'advertisements'>, node: ElectionNode): string[] | undefined {
  const ads = advertisementsFor(input, node);
  if (ads.some((a) => a.interfaces.length === 0)) return undefined;
  return [...new Set(ads.flatMap((a) => a.interfaces))].sort();
}
