/**
 * @module bgp/rib — Adj-RIB-In (per peer), Loc-RIB (best path + ECMP set per prefix) and the "kernel routes"
 * view a netlink applier consumes: prefix → next hops, for prefixes whose best path was learned from a peer.
 *
 * Everything is keyed by canonical prefix string. Each change returns the prefixes whose selection changed, so the
 * speaker exports and installs only those (a 100,000-prefix feed touches each prefix once).
 */
import { afiOf, type Afi } from './bgpPrefix.ts';
import { LOCAL_PEER, selectBest, type PeerKey, type Route, type Selection } from './ribRoute.ts';

export interface KernelRoute {
  prefix: string;
  /** Next hops of the ECMP set, deduplicated; IPv6 link-local ones need the interface the peer is on. */
  nextHops: string[];
}

export class Rib {
  /** Adj-RIB-In: peer → prefix → route (post import policy). */
  readonly adjIn = new Map<PeerKey, Map<string, Route>>();
  /** Loc-RIB: prefix → current selection. */
  readonly loc = new Map<string, Selection>();
  readonly maxPaths: number;

  constructor(opts: { maxPaths?: number } = {}) {
    this.maxPaths = opts.maxPaths ?? 16;
  }

  #table(peer: PeerKey): Map<string, Route> {
    let t = this.adjIn.get(peer);
    if (!t) { t = new Map(); this.adjIn.set(peer, t); }
    return t;
  }

  /** Add or replace a path; returns true when the prefix's selection changed. */
  set(route: Route): boolean {
    this.#table(route.peer).set(route.prefix, route);
    return this.#reselect(route.prefix);
  }

  /** Remove a peer's path; returns true when the selection changed. */
  delete(peer: PeerKey, prefix: string): boolean {
    const t = this.adjIn.get(peer);
    if (!t?.delete(prefix)) return false;
    return this.#reselect(prefix);
  }

  /**
   * Recompute one prefix from every peer's table. Peers are few (ToR pairs, a mesh of tens), so a lookup per peer
   * is cheaper in memory than an index of holders per prefix (a Set per prefix cost ~150 bytes of 520 per path).
   */
  #reselect(prefix: string): boolean {
    const before = this.loc.get(prefix);
    const paths: Route[] = [];
    for (const t of this.adjIn.values()) {
      const r = t.get(prefix);
      if (r) paths.push(r);
    }
    if (paths.length === 1 && before?.best === paths[0] && before.multipath.length === 1) return false;
    const after = selectBest(paths, this.maxPaths);
    if (after) this.loc.set(prefix, after); else this.loc.delete(prefix);
    return !sameSelection(before, after);
  }

  /** Drop every path of a peer (session lost without graceful restart). Returns changed prefixes. */
  dropPeer(peer: PeerKey): string[] {
    const t = this.adjIn.get(peer);
    if (!t) return [];
    const changed: string[] = [];
    for (const prefix of [...t.keys()]) if (this.delete(peer, prefix)) changed.push(prefix);
    this.adjIn.delete(peer);
    return changed;
  }

  /** RFC 4724 4.2: the peer went away gracefully; keep its paths, marked stale. Returns changed prefixes. */
  markStale(peer: PeerKey, afis: Afi[]): string[] {
    const t = this.adjIn.get(peer);
    const changed: string[] = [];
    for (const [prefix, r] of t ?? []) {
      if (!afis.includes(afiOf(prefix)) || r.stale) continue;
      t!.set(prefix, { ...r, stale: true });
      if (this.#reselect(prefix)) changed.push(prefix);
    }
    return changed;
  }

  /** End-of-RIB or restart timer: drop the peer's paths still stale in these families. Returns changed prefixes. */
  sweepStale(peer: PeerKey, afis: Afi[]): string[] {
    const t = this.adjIn.get(peer);
    const changed: string[] = [];
    for (const [prefix, r] of [...(t ?? [])]) {
      if (r.stale && afis.includes(afiOf(prefix)) && this.delete(peer, prefix)) changed.push(prefix);
    }
    return changed;
  }

  countFrom(peer: PeerKey): number {
    return this.adjIn.get(peer)?.size ?? 0;
  }

  /** The kernel view of one prefix: undefined when nothing learned should be installed for it. */
  kernelRoute(prefix: string): KernelRoute | undefined {
    const sel = this.loc.get(prefix);
    if (!sel || sel.best.peer === LOCAL_PEER) return undefined;
    const nextHops = [...new Set(sel.multipath.filter((r) => r.peer !== LOCAL_PEER).map(pickNextHop).filter((n): n is string => !!n))];
    return nextHops.length ? { prefix, nextHops } : undefined;
  }

  /** All kernel routes, for a full resync of the applier. */
  kernelRoutes(): KernelRoute[] {
    const out: KernelRoute[] = [];
    for (const prefix of this.loc.keys()) {
      const k = this.kernelRoute(prefix);
      if (k) out.push(k);
    }
    return out;
  }
}

/** The forwarding address of a path: the global IPv6 next hop unless it is "::", else the link-local one. */
export function pickNextHop(r: Route): string | undefined {
  const [first, second] = r.nextHops;
  if (first && first !== '::' && !first.toLowerCase().startsWith('fe80:')) return first;
  return second ?? first;
}

function sameSelection(a: Selection | undefined, b: Selection | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.best !== b.best || a.multipath.length !== b.multipath.length) return false;
  return a.multipath.every((r, i) => r === b.multipath[i]);
}
