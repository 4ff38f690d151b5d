/**
 * @module bgp/ribRoute — one path to one prefix as the RIBs hold it, and best-path selection over such paths
 * (RFC 4271 9.1.2 with the usual tie-breaks), plus the equal-cost set used for ECMP. Pure.
 *
 * ECMP rule: paths that tie with the best on LOCAL_PREF, AS_PATH length, ORIGIN, MED and eBGP/iBGP type are
 * multipath candidates even when their AS_PATHs differ ("multipath relax" in other speakers): in a Kubernetes
 * fabric several nodes, each possibly in its own AS, announce the same service address and all should share
 * the traffic.
 */
import { asPathLength, firstAs, type PathAttributes } from './pathAttributes.ts';

/** "" is the local speaker itself (routes we originate). */
export type PeerKey = string;
export const LOCAL_PEER: PeerKey = '';

export interface Route {
  prefix: string;
  peer: PeerKey;
  /** Shared between all prefixes of one UPDATE: do not mutate. */
  attrs: PathAttributes;
  /** Where to forward: the NEXT_HOP, or MP_REACH next hops (global first, then link-local) for IPv6. */
  nextHops: string[];
  /** Learned over eBGP (true) or iBGP (false); local routes are false. */
  external: boolean;
  peerRouterId: string;
  peerAddress: string;
  /** Kept through a peer's graceful restart until EoR or the restart timer (RFC 4724 4.2). */
  stale: boolean;
}

export const DEFAULT_LOCAL_PREF = 100;

function localPref(r: Route): number {
  return r.attrs.localPref ?? DEFAULT_LOCAL_PREF;
}

function ipKey(s: string): string {
  // Compare addresses numerically: zero-padded groups sort the same as the numbers.
  if (s.includes(':')) return s;
  return s.split('.').map((x) => x.padStart(3, '0')).join('.');
}

/** Steps that decide "equal cost": negative = a better, positive = b better, 0 = tie. */
export function compareCost(a: Route, b: Route): number {
  if (localPref(a) !== localPref(b)) return localPref(b) - localPref(a);
  const aLocal = a.peer === LOCAL_PEER, bLocal = b.peer === LOCAL_PEER;
  if (aLocal !== bLocal) return aLocal ? -1 : 1;
  const la = asPathLength(a.attrs.asPath), lb = asPathLength(b.attrs.asPath);
  if (la !== lb) return la - lb;
  const oa = a.attrs.origin ?? 2, ob = b.attrs.origin ?? 2;
  if (oa !== ob) return oa - ob;
  // MED only compares between paths from the same neighbouring AS (RFC 4271 9.1.2.2 c).
  if (firstAs(a.attrs.asPath) === firstAs(b.attrs.asPath)) {
    const ma = a.attrs.med ?? 0, mb = b.attrs.med ?? 0;
    if (ma !== mb) return ma - mb;
  }
  if (a.external !== b.external) return a.external ? -1 : 1;
  return 0;
}

/** Full order: cost, then prefer non-stale, lowest router id (ORIGINATOR_ID if reflected), cluster list, address. */
export function compareRoutes(a: Route, b: Route): number {
  const c = compareCost(a, b);
  if (c !== 0) return c;
  if (a.stale !== b.stale) return a.stale ? 1 : -1;
  const ida = ipKey(a.attrs.originatorId ?? a.peerRouterId), idb = ipKey(b.attrs.originatorId ?? b.peerRouterId);
  if (ida !== idb) return ida < idb ? -1 : 1;
  const ca = a.attrs.clusterList?.length ?? 0, cb = b.attrs.clusterList?.length ?? 0;
  if (ca !== cb) return ca - cb;
  const pa = ipKey(a.peerAddress), pb = ipKey(b.peerAddress);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

export interface Selection {
  best: Route;
  /** The best path and every path of equal cost, best first, at most maxPaths. */
  multipath: Route[];
}

export function selectBest(candidates: Iterable<Route>, maxPaths: number): Selection | undefined {
  let best: Route | undefined;
  const all: Route[] = [];
  for (const r of candidates) {
    all.push(r);
    if (!best || compareRoutes(r, best) < 0) best = r;
  }
  if (!best) return undefined;
  const b = best;
  const multipath = all.filter((r) => compareCost(r, b) === 0).sort(compareRoutes).slice(0, Math.max(1, maxPaths));
  return { best, multipath };
}
