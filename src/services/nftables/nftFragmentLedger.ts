/**
 * @module services/nftables/nftFragmentLedger — which port fragments are committed, and how many of them own
 * each chain, map key and set key, so an incremental sync touches only what changed.
 *
 * planNftables merges every fragment into one desired state (O(elements): 100,000 hairpin pairs at 10,000 × 10),
 * and diffing two merged states is O(elements) again: together ~100 ms at 10,000 services on this machine, twice
 * the one-change budget. The plan cache hands out the same fragment object for an unchanged port, so the
 * fragments that changed are found by identity in O(ports); the ledger then builds the two *small* states
 * "before" and "after" restricted to the keys those fragments touch, which the ordinary diff functions
 * (renderIncremental, planNetlinkIncremental) turn into exactly the same transaction as the full diff would.
 *
 * When a touched chain or map key has more than one owner (two services claiming one LB IP or NodePort: the
 * planner keeps the first in model order), the answer depends on order, and `delta` returns null: the caller
 * merges and diffs in full, as before.
 */
import { emptyDesired, type NftDesired, type NftPlanParts, type PortFragment } from './nftPlanner.ts';
import { STATIC_MAPS, type StaticMap } from './nftSkeleton.ts';

type Counted = 'cluster-ips' | 'hairpin-pairs';

export interface FragmentDelta {
  /** The committed state and the new one, restricted to the keys the changed fragments touch. */
  prev: NftDesired;
  next: NftDesired;
  removed: PortFragment[];
  added: PortFragment[];
}

function bump<K>(m: Map<K, number>, k: K, by: number): void {
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

const mapKey = (m: string, k: string) => `${m}\u0000${k}`;

export class FragmentLedger {
  #frags = new Set<PortFragment>();
  readonly #chains = new Map<string, number>();
  /** Owners of each dispatch element (`map\0range`) and element count of each shared dispatch map. */
  readonly #dispatch = new Map<string, number>();
  readonly #dispatchMapSizes = new Map<string, number>();
  readonly #elements = new Map<string, number>();
  readonly #sets: Record<Counted, Map<string, number>> = { 'cluster-ips': new Map(), 'hairpin-pairs': new Map() };
  readonly #affinity = new Map<string, number>();

  static build(fragments: readonly PortFragment[]): FragmentLedger {
    const l = new FragmentLedger();
    l.apply([], fragments);
    return l;
  }

  /** Record a committed change of fragments. */
  apply(removed: readonly PortFragment[], added: readonly PortFragment[]): void {
    for (const f of removed) this.#count(f, -1);
    for (const f of added) this.#count(f, 1);
  }

  #count(f: PortFragment, by: 1 | -1): void {
    if (by > 0) this.#frags.add(f);
    else this.#frags.delete(f);
    for (const [name] of f.chains) bump(this.#chains, name, by);
    for (const [name, , range] of f.dispatch) {
      bump(this.#dispatch, mapKey(name, range), by);
      bump(this.#dispatchMapSizes, name, by);
    }
    for (const [m, k] of f.elements) bump(this.#elements, mapKey(m, k), by);
    bump(this.#sets['cluster-ips'], f.clusterIP, by);
    for (const pair of f.hairpin) bump(this.#sets['hairpin-pairs'], pair, by);
    for (const [name] of f.affinity) bump(this.#affinity, name, by);
  }

  /** Fragments that appeared and disappeared since the last commit: identity checks only. */
  changes(fragments: readonly PortFragment[]): { removed: PortFragment[]; added: PortFragment[] } {
    const now = new Set(fragments);
    const added = fragments.filter((f) => !this.#frags.has(f));
    const removed: PortFragment[] = [];
    for (const f of this.#frags) if (!now.has(f)) removed.push(f);
    return { removed, added };
  }

  /**
   * The restricted before/after states for `parts` against `committed` (the merged state in the kernel), or
   * null when a touched chain or map key is contested (see module doc).
   */
  delta(committed: NftDesired, parts: NftPlanParts): FragmentDelta | null {
    const { removed, added } = this.changes(parts.fragments);
    const prev = emptyDesired(committed.family, committed.endpointChains, committed.dispatch);
    const next = emptyDesired(committed.family, committed.endpointChains, committed.dispatch);
    staticSets(committed, parts, prev, next);
    if (!ownedDelta(this.#chains, (f) => f.chains, committed.chains, removed, added, prev.chains, next.chains)) return null;
    if (!this.#dispatchDelta(committed, removed, added, prev, next)) return null;
    if (!this.#elementsDelta(committed, removed, added, prev, next)) return null;
    this.#setsDelta(committed, removed, added, prev, next);
    return { prev, next, removed, added };
  }

  /**
   * Elements of the shared dispatch maps the changed fragments touch. A map is in `prev` iff it is committed and
   * in `next` iff elements remain in it, so the renderers declare a map only when it is new and delete it only
   * when it empties (no rule can reference an empty map: a rule references its own slot's elements).
   */
  #dispatchDelta(c: NftDesired, removed: PortFragment[], added: PortFragment[], prev: NftDesired, next: NftDesired): boolean {
    const gone = new Map<string, number>();
    const sizeDelta = new Map<string, number>();
    const touched = new Map<string, [string, string, string]>();
    for (const f of removed) for (const [name, proto, range] of f.dispatch) {
      const key = mapKey(name, range);
      bump(gone, key, 1);
      bump(sizeDelta, name, -1);
      touched.set(key, [name, proto, range]);
    }
    const fresh = new Map<string, string>();
    for (const f of added) for (const [name, proto, range, target] of f.dispatch) {
      const key = mapKey(name, range);
      if (fresh.has(key)) return false;
      fresh.set(key, target);
      bump(sizeDelta, name, 1);
      touched.set(key, [name, proto, range]);
    }
    const slice = (d: NftDesired, name: string, proto: string) => {
      let m = d.dispatchMaps.get(name);
      if (!m) d.dispatchMaps.set(name, (m = { proto, elements: new Map() }));
      return m;
    };
    for (const [key, [name, proto, range]] of touched) {
      const before = this.#dispatch.get(key) ?? 0;
      const after = before - (gone.get(key) ?? 0) + (fresh.has(key) ? 1 : 0);
      if (before > 1 || after > 1) return false;
      const cm = c.dispatchMaps.get(name);
      const old = cm?.elements.get(range);
      if (cm) {
        const pm = slice(prev, name, cm.proto);
        if (old !== undefined) pm.elements.set(range, old);
      }
      const stays = (this.#dispatchMapSizes.get(name) ?? 0) + (sizeDelta.get(name) ?? 0) > 0;
      if (!stays) continue;
      const nm = slice(next, name, cm?.proto ?? proto);
      const value = fresh.get(key) ?? (after === 1 ? old : undefined);
      if (value !== undefined) nm.elements.set(range, value);
    }
    return true;
  }

  #elementsDelta(c: NftDesired, removed: PortFragment[], added: PortFragment[], prev: NftDesired, next: NftDesired): boolean {
    const gone = new Map<string, number>();
    for (const f of removed) for (const [m, k] of f.elements) bump(gone, mapKey(m, k), 1);
    const fresh = new Map<string, [StaticMap, string, string]>();
    for (const f of added) for (const e of f.elements) {
      const key = mapKey(e[0], e[1]);
      if (fresh.has(key)) return false;
      fresh.set(key, e);
    }
    const touched = new Map<string, [StaticMap, string]>();
    for (const f of removed) for (const [m, k] of f.elements) touched.set(mapKey(m, k), [m, k]);
    for (const [key, [m, k]] of fresh) touched.set(key, [m, k]);
    for (const [key, [m, k]] of touched) {
      const before = this.#elements.get(key) ?? 0;
      const after = before - (gone.get(key) ?? 0) + (fresh.has(key) ? 1 : 0);
      if (before > 1 || after > 1) return false;
      const old = c.maps[m].get(k);
      if (old !== undefined) prev.maps[m].set(k, old);
      const value = fresh.get(key)?.[2] ?? (after === 1 ? old : undefined);
      if (value !== undefined) next.maps[m].set(k, value);
    }
    return true;
  }

  #setsDelta(c: NftDesired, removed: PortFragment[], added: PortFragment[], prev: NftDesired, next: NftDesired): void {
    const delta: Record<Counted, Map<string, number>> = { 'cluster-ips': new Map(), 'hairpin-pairs': new Map() };
    const aff = new Map<string, [number, number]>();
    for (const [fs, by] of [[removed, -1], [added, 1]] as const) {
      for (const f of fs) {
        bump(delta['cluster-ips'], f.clusterIP, by);
        for (const pair of f.hairpin) bump(delta['hairpin-pairs'], pair, by);
        for (const [name, timeout] of f.affinity) aff.set(name, [(aff.get(name)?.[0] ?? 0) + by, timeout]);
      }
    }
    for (const s of ['cluster-ips', 'hairpin-pairs'] as const) {
      for (const [k, d] of delta[s]) {
        if (c.sets[s].has(k)) prev.sets[s].add(k);
        if ((this.#sets[s].get(k) ?? 0) + d > 0) next.sets[s].add(k);
      }
    }
    for (const [name, [d, timeout]] of aff) {
      const old = c.affinitySets.get(name);
      if (old !== undefined) prev.affinitySets.set(name, old);
      if ((this.#affinity.get(name) ?? 0) + d > 0) next.affinitySets.set(name, old ?? timeout);
    }
  }
}

/**
 * Objects a fragment owns by name (chains, dispatch maps): the before/after slices for the names the changed
 * fragments touch; false when a name has (or would have) two owners.
 */
function ownedDelta<V>(
  counts: Map<string, number>, owned: (f: PortFragment) => ReadonlyArray<readonly [string, V]>, committed: Map<string, V>,
  removed: PortFragment[], added: PortFragment[], prev: Map<string, V>, next: Map<string, V>,
): boolean {
  const gone = new Map<string, number>();
  for (const f of removed) for (const [name] of owned(f)) bump(gone, name, 1);
  const fresh = new Map<string, V>();
  for (const f of added) for (const [name, value] of owned(f)) {
    if (fresh.has(name)) return false;
    fresh.set(name, value);
  }
  for (const name of new Set([...gone.keys(), ...fresh.keys()])) {
    const before = counts.get(name) ?? 0;
    const after = before - (gone.get(name) ?? 0) + (fresh.has(name) ? 1 : 0);
    if (before > 1 || after > 1) return false;
    const old = committed.get(name);
    if (old !== undefined) prev.set(name, old);
    const value = fresh.get(name) ?? (after === 1 ? old : undefined);
    if (value !== undefined) next.set(name, value);
  }
  return true;
}

/** nodeport-ips and cluster-cidrs come from the node and the options, not from fragments: compared whole. */
function staticSets(c: NftDesired, parts: NftPlanParts, prev: NftDesired, next: NftDesired): void {
  for (const [s, want] of [['nodeport-ips', parts.nodePortIPs], ['cluster-cidrs', parts.clusterCIDRs]] as const) {
    const have = c.sets[s];
    if (want.length === have.size && want.every((x) => have.has(x))) continue;
    for (const x of have) prev.sets[s].add(x);
    for (const x of want) next.sets[s].add(x);
  }
}

/** Make `committed` (the merged state) equal to the kernel after a delta commits. O(touched keys). */
export function applyDelta(committed: NftDesired, d: FragmentDelta): void {
  for (const name of d.prev.chains.keys()) if (!d.next.chains.has(name)) committed.chains.delete(name);
  for (const [name, rules] of d.next.chains) committed.chains.set(name, rules);
  // Dispatch maps are shared: the slices hold only the touched elements, merged element by element.
  for (const [name, pm] of d.prev.dispatchMaps) {
    const nm = d.next.dispatchMaps.get(name);
    const cm = committed.dispatchMaps.get(name);
    if (!nm) committed.dispatchMaps.delete(name);
    else if (cm) for (const k of pm.elements.keys()) if (!nm.elements.has(k)) cm.elements.delete(k);
  }
  for (const [name, nm] of d.next.dispatchMaps) {
    let cm = committed.dispatchMaps.get(name);
    if (!cm) committed.dispatchMaps.set(name, (cm = { proto: nm.proto, elements: new Map() }));
    for (const [k, v] of nm.elements) cm.elements.set(k, v);
  }
  for (const m of STATIC_MAPS) {
    for (const k of d.prev.maps[m].keys()) if (!d.next.maps[m].has(k)) committed.maps[m].delete(k);
    for (const [k, v] of d.next.maps[m]) committed.maps[m].set(k, v);
  }
  for (const s of Object.keys(d.prev.sets) as Array<keyof NftDesired['sets']>) {
    for (const k of d.prev.sets[s]) if (!d.next.sets[s].has(k)) committed.sets[s].delete(k);
    for (const k of d.next.sets[s]) committed.sets[s].add(k);
  }
  for (const name of d.prev.affinitySets.keys()) if (!d.next.affinitySets.has(name)) committed.affinitySets.delete(name);
  for (const [name, t] of d.next.affinitySets) committed.affinitySets.set(name, t);
}
