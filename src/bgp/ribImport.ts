/**
 * @module bgp/ribImport — turn the announced prefixes of one UPDATE into Adj-RIB-In paths: AS loop detection
 * (RFC 4271 9.1.2), the peer's import policy, next hop per family; and our own originated paths. Pure. A prefix without a path means "remove
 * whatever this peer had for it" (a rejected re-announcement must not leave the old path behind).
 */
import { AFI_IPV4, AFI_IPV6, afiOf } from './bgpPrefix.ts';
import { applyActions, evaluatePolicy, type Policy } from './ribPolicy.ts';
import type { PathAttributes } from './pathAttributes.ts';
import { LOCAL_PEER, type Route } from './ribRoute.ts';
import { reflectionLoop } from './routeReflection.ts';

/** A route we originate: the node's pod CIDR, a service address... */
export interface LocalRoute {
  prefix: string;
  communities?: number[];
  largeCommunities?: Array<[number, number, number]>;
  med?: number;
  localPref?: number;
}

/** Our own path for a prefix (empty AS_PATH, ORIGIN IGP); `prefix` must already be canonical. */
export function localPath(prefix: string, r: LocalRoute, routerId: string): Route {
  const attrs: PathAttributes = { origin: 0, asPath: [] };
  if (r.communities?.length) attrs.communities = r.communities;
  if (r.largeCommunities?.length) attrs.largeCommunities = r.largeCommunities;
  if (r.med !== undefined) attrs.med = r.med;
  if (r.localPref !== undefined) attrs.localPref = r.localPref;
  return { prefix, peer: LOCAL_PEER, attrs, nextHops: [], external: false, peerRouterId: routerId, peerAddress: '', stale: false };
}

export interface ImportContext {
  localAs: number;
  peerKey: string;
  peerAs: number;
  peerRouterId: string;
  policy: Policy;
  /** Our BGP identifier and, as a route reflector, our CLUSTER_ID: for the RFC 4456 loop check. */
  routerId?: string;
  clusterId?: string;
}

export function importPaths(ctx: ImportContext, prefixes: string[], attributes: PathAttributes, nextHopsV6: string[]): Array<{ prefix: string; route?: Route }> {
  // MP_* are per-message transport, not path properties: keep them out of the (shared) stored attributes.
  const { mpReach, mpUnreach: _u, ...stored } = attributes;
  const external = ctx.peerAs !== ctx.localAs;
  const loop = external ? !!stored.asPath?.some((s) => s.asns.includes(ctx.localAs)) : reflectionLoop(stored, ctx.routerId, ctx.clusterId);
  const v4NextHops = mpReach?.afi === AFI_IPV4 ? mpReach.nextHops : stored.nextHop ? [stored.nextHop] : [];
  return prefixes.map((prefix) => {
    if (loop) return { prefix };
    const decision = evaluatePolicy(ctx.policy, prefix, stored);
    if (!decision.accepted) return { prefix };
    const attrs = decision.set ? applyActions(stored, decision.set) : stored;
    const nextHops = afiOf(prefix) === AFI_IPV6 ? nextHopsV6 : v4NextHops;
    return { prefix, route: { prefix, peer: ctx.peerKey, attrs, nextHops, external, peerRouterId: ctx.peerRouterId, peerAddress: ctx.peerKey, stale: false } };
  });
}
