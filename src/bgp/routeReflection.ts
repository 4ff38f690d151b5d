/**
 * @module bgp/routeReflection — RFC 4456 route reflection as pure rules: which iBGP-learned routes a reflector
 * passes on (client → everyone, non-client → clients only, never back to the originator), the attributes it adds
 * (ORIGINATOR_ID once, our CLUSTER_ID prepended to CLUSTER_LIST, next hop left as the originator set it), and the
 * loop check every speaker applies on import (our CLUSTER_ID in CLUSTER_LIST, or our router id as ORIGINATOR_ID).
 *
 * Why the next hop stays: podnet nodes forward to pods directly, so a reflected pod CIDR must still point at the
 * node that owns it; next-hop-self on a reflector would pull all traffic through it.
 */
import type { PathAttributes } from './pathAttributes.ts';
import type { Route } from './ribRoute.ts';

export interface ReflectionContext {
  /** RFC 4456 CLUSTER_ID (a dotted quad; usually the reflector's router id). */
  clusterId: string;
  /** Is the peer with this key one of our route-reflector clients? */
  isClient(peerKey: string): boolean;
  /** The peer we are exporting to is a client. */
  toClient: boolean;
}

/** May an iBGP-learned route be sent to another iBGP peer? (RFC 4456 6). */
export function mayReflect(r: Route, ctx: ReflectionContext | undefined): boolean {
  if (!ctx) return false; // plain iBGP split horizon
  return ctx.isClient(r.peer) || ctx.toClient;
}

/** The reflector's additions: ORIGINATOR_ID (kept when present), CLUSTER_LIST, the originator's next hop. */
export function reflect(out: PathAttributes, r: Route, ctx: ReflectionContext): PathAttributes {
  out.originatorId = r.attrs.originatorId ?? r.peerRouterId;
  out.clusterList = [ctx.clusterId, ...(r.attrs.clusterList ?? [])];
  return out;
}

/** RFC 4456 8: a route that has been through our cluster, or that we originated, is a loop: ignore it. */
export function reflectionLoop(attrs: PathAttributes, routerId: string | undefined, clusterId: string | undefined): boolean {
  if (routerId && attrs.originatorId === routerId) return true;
  return !!clusterId && !!attrs.clusterList?.includes(clusterId);
}
