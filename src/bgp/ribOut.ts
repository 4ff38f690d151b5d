/**
 * @module bgp/ribOut — Adj-RIB-Out for one peer: what we should advertise given the Loc-RIB (export rules of
 * RFC 4271 9.1.3 + the peer's export policy) and what we last sent, diffed into batches that share attributes so
 * they pack into few UPDATEs. Pure apart from its own memory.
 */
import { afiOf, AFI_IPV6 } from './bgpPrefix.ts';
import { applyActions, evaluatePolicy, type Policy } from './ribPolicy.ts';
import { LOCAL_PEER, type Route } from './ribRoute.ts';
import type { PathAttributes } from './pathAttributes.ts';
import type { Selection } from './ribRoute.ts';
import { mayReflect, reflect, type ReflectionContext } from './routeReflection.ts';

export interface ExportContext {
  localAs: number;
  peerAs: number;
  /** Key of the peer we export to (routes learned from it are not sent back). */
  peer: string;
  nextHopV4?: string;
  /** Global IPv6 next hop, optionally followed by a link-local one. */
  nextHopsV6?: string[];
  policy: Policy;
  /** LOCAL_PREF for iBGP when neither the route nor the policy sets one. */
  defaultLocalPref: number;
  /** The receiving peer's BGP identifier, when known: a reflected route is not sent back to its originator. */
  peerRouterId?: string;
  /** Only routes we originate go to this peer (external peers: we are not a transit for them). */
  localOnly?: boolean;
  /** Set when we are a route reflector (RFC 4456): iBGP routes may then go to other iBGP peers. */
  reflection?: ReflectionContext;
}

/** Attributes as they go to this peer, or null when the route is not exported to it. */
export function exportAttributes(sel: Selection, prefix: string, ctx: ExportContext): PathAttributes | null {
  const r: Route = sel.best;
  const ebgp = ctx.localAs !== ctx.peerAs;
  if (r.peer === ctx.peer) return null;
  if (ctx.localOnly && r.peer !== LOCAL_PEER) return null;
  const reflected = !ebgp && r.peer !== LOCAL_PEER && !r.external;
  if (reflected && !mayReflect(r, ctx.reflection)) return null; // iBGP split horizon
  if (reflected && (r.attrs.originatorId ?? r.peerRouterId) === ctx.peerRouterId && ctx.peerRouterId !== undefined) return null; // back to its originator
  const noExport = r.attrs.communities?.includes(0xffffff01) || r.attrs.communities?.includes(0xffffff02);
  if (noExport && r.peer !== LOCAL_PEER && (ebgp || r.attrs.communities?.includes(0xffffff02))) return null;
  const v6 = afiOf(prefix) === AFI_IPV6;
  if (!reflected && (v6 ? !ctx.nextHopsV6?.length : !ctx.nextHopV4)) return null;
  const decision = evaluatePolicy(ctx.policy, prefix, r.attrs);
  if (!decision.accepted) return null;
  const base = applyActions(r.attrs, decision.set);
  const path = base.asPath ?? [];
  const out: PathAttributes = { origin: base.origin ?? 0 };
  if (ebgp) {
    const prepend = new Array<number>(1 + (decision.set?.prepend ?? 0)).fill(ctx.localAs);
    const [head, ...rest] = path;
    out.asPath = head && head.type === 2 && head.asns.length + prepend.length <= 255
      ? [{ type: 2, asns: [...prepend, ...head.asns] }, ...rest]
      : [{ type: 2, asns: prepend }, ...path];
    // MED is not passed on to another AS (RFC 4271 5.1.4); our own may be set by policy.
    if (decision.set?.med !== undefined || r.peer === LOCAL_PEER) if (base.med !== undefined) out.med = base.med;
  } else {
    out.asPath = path;
    out.localPref = base.localPref ?? ctx.defaultLocalPref;
    if (base.med !== undefined) out.med = base.med;
  }
  if (base.communities?.length) out.communities = base.communities;
  if (base.largeCommunities?.length) out.largeCommunities = base.largeCommunities;
  if (base.atomicAggregate) out.atomicAggregate = true;
  if (base.aggregator) out.aggregator = base.aggregator;
  if (base.unknown?.length) out.unknown = base.unknown;
  // Next hop self: podnet nodes announce what they can forward themselves; third-party next hops need a shared
  // L2 segment we cannot verify.
  if (reflected) {
    // The originator's next hop: for IPv6 it travels in mpReach here and the sender puts it in MP_REACH_NLRI.
    if (!r.nextHops.length) return null;
    if (v6) out.mpReach = { afi: AFI_IPV6, safi: 1, nextHops: r.nextHops, nlri: [] };
    else out.nextHop = r.nextHops[0]!;
    return reflect(out, r, ctx.reflection!);
  }
  if (!v6) out.nextHop = ctx.nextHopV4!;
  return out;
}

const keyCache = new WeakMap<PathAttributes, string>();

/** A stable identity for an attribute set, so equal sets group into one UPDATE. */
export function attributesKey(a: PathAttributes): string {
  let k = keyCache.get(a);
  if (k === undefined) {
    k = JSON.stringify(a, (_key, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    keyCache.set(a, k);
  }
  return k;
}

export interface OutBatch {
  attributes: PathAttributes;
  announce: string[];
}

export interface OutDiff {
  withdraw: string[];
  batches: OutBatch[];
}

export class AdjRibOut {
  /** prefix → key of the attributes last sent. */
  readonly sent = new Map<string, string>();

  /** Compute what to send for `prefixes` (Loc-RIB changes) and record it as sent. */
  diff(prefixes: Iterable<string>, loc: Map<string, Selection>, ctx: ExportContext): OutDiff {
    const withdraw: string[] = [];
    const batches = new Map<string, OutBatch>();
    for (const prefix of prefixes) {
      const sel = loc.get(prefix);
      const attrs = sel ? exportAttributes(sel, prefix, ctx) : null;
      if (!attrs) {
        if (this.sent.delete(prefix)) withdraw.push(prefix);
        continue;
      }
      const key = attributesKey(attrs);
      if (this.sent.get(prefix) === key) continue;
      this.sent.set(prefix, key);
      let b = batches.get(key);
      if (!b) { b = { attributes: attrs, announce: [] }; batches.set(key, b); }
      b.announce.push(prefix);
    }
    return { withdraw, batches: [...batches.values()] };
  }

  clear(): void {
    this.sent.clear();
  }
}
