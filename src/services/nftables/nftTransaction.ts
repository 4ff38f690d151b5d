/**
 * Desired state (+ what is committed) → the text of ONE `nft -f -` transaction. Pure.
 *
 * Incremental: only new/changed/removed chains and map/set elements, in an order the kernel accepts inside one
 * batch (create before reference, unreference before delete). Full: the whole skeleton and content, flushing
 * only what already exists (adopting a table left by a previous podnetd without a moment of emptiness: the
 * flush and the refill commit together). Affinity sets are never flushed, so a restart keeps client affinity.
 */
import { TABLE } from './nftNames.ts';
import { skeletonDeclarations, staticChains, addrType, STATIC_MAPS, STATIC_SETS, type NftFamily } from './nftSkeleton.ts';
import type { NftDesired } from './nftPlanner.ts';
import { dispatchMapDecl, isDispatchMapName, sameDispatchMap, type DispatchMap } from './nftDispatchMaps.ts';

/** What a full sync found in the kernel (names only: cheap to list, no rules or elements). */
export interface ExistingObjects {
  tableExists: boolean;
  chains: Set<string>;
  sets: Set<string>;
}

export interface TransactionStats {
  chainsWritten: number;
  chainsDeleted: number;
  elementsAdded: number;
  elementsDeleted: number;
}

class Script {
  readonly lines: string[] = [];
  readonly stats: TransactionStats = { chainsWritten: 0, chainsDeleted: 0, elementsAdded: 0, elementsDeleted: 0 };
  constructor(readonly t: string) {}
  push(line: string): void {
    this.lines.push(line);
  }
  rules(chain: string, rules: readonly string[]): void {
    this.stats.chainsWritten++;
    for (const r of rules) this.lines.push(`add rule ${this.t} ${chain} ${r}`);
  }
  elements(verb: 'add' | 'delete', name: string, items: readonly string[]): void {
    if (items.length === 0) return;
    if (verb === 'add') this.stats.elementsAdded += items.length;
    else this.stats.elementsDeleted += items.length;
    // Chunked so one line stays a sane size for nft's parser.
    for (let i = 0; i < items.length; i += 1000) this.lines.push(`${verb} element ${this.t} ${name} { ${items.slice(i, i + 1000).join(', ')} }`);
  }
}

function affinityDecl(f: NftFamily, name: string, timeout: number): string {
  return `add set ${f} ${TABLE} ${name} { type ${addrType(f)}; flags dynamic,timeout; timeout ${timeout}s; }`;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a === b || (a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]));
}

function mapItems(m: Map<string, string>, keys?: Iterable<string>): string[] {
  const out: string[] = [];
  for (const k of keys ?? m.keys()) out.push(`${k} : ${m.get(k)!}`);
  return out;
}

function dispatchItems(m: DispatchMap, keys?: Iterable<string>): string[] {
  return mapItems(m.elements, keys);
}

/** Dispatch maps: declare the new ones, then only the elements that changed (no rule is touched). */
function dispatchMapChanges(s: Script, prev: NftDesired, next: NftDesired): void {
  for (const [name, m] of next.dispatchMaps) {
    const old = prev.dispatchMaps.get(name);
    if (sameDispatchMap(old, m)) continue;
    if (!old) s.push(dispatchMapDecl(next.family, TABLE, name, m.proto));
    if (old) s.elements('delete', name, [...old.elements.keys()].filter((k) => m.elements.get(k) !== old.elements.get(k)));
    s.elements('add', name, dispatchItems(m, [...m.elements.keys()].filter((k) => old?.elements.get(k) !== m.elements.get(k))));
  }
}

/** Incremental transaction from `prev` (committed) to `next`; empty string when nothing changed. */
export function renderIncremental(prev: NftDesired, next: NftDesired): { text: string; stats: TransactionStats } {
  const s = new Script(`${next.family} ${TABLE}`);
  for (const [name, timeout] of next.affinitySets) if (!prev.affinitySets.has(name)) s.push(affinityDecl(next.family, name, timeout));
  dispatchMapChanges(s, prev, next);
  for (const name of next.chains.keys()) if (!prev.chains.has(name)) s.push(`add chain ${s.t} ${name}`);
  for (const [name, rules] of next.chains) {
    const old = prev.chains.get(name);
    if (sameRules(old, rules)) continue;
    if (old) s.push(`flush chain ${s.t} ${name}`);
    s.rules(name, rules);
  }
  for (const m of STATIC_MAPS) {
    const a = prev.maps[m];
    const b = next.maps[m];
    s.elements('delete', m, [...a.keys()].filter((k) => b.get(k) !== a.get(k)));
    s.elements('add', m, mapItems(b, [...b.keys()].filter((k) => a.get(k) !== b.get(k))));
  }
  for (const name of STATIC_SETS) {
    s.elements('delete', name, [...prev.sets[name]].filter((k) => !next.sets[name].has(k)));
    s.elements('add', name, [...next.sets[name]].filter((k) => !prev.sets[name].has(k)));
  }
  const gone = [...prev.chains.keys()].filter((n) => !next.chains.has(n));
  for (const name of gone) s.push(`flush chain ${s.t} ${name}`);
  for (const name of gone) s.push(`delete chain ${s.t} ${name}`);
  s.stats.chainsDeleted = gone.length;
  for (const name of prev.affinitySets.keys()) if (!next.affinitySets.has(name)) s.push(`delete set ${s.t} ${name}`);
  for (const name of prev.dispatchMaps.keys()) if (!next.dispatchMaps.has(name)) s.push(`delete map ${s.t} ${name}`);
  return { text: s.lines.length ? `${s.lines.join('\n')}\n` : '', stats: s.stats };
}

/** Full transaction: skeleton + everything desired; removes podnet objects found but no longer wanted. */
export function renderFull(next: NftDesired, existing: ExistingObjects): { text: string; stats: TransactionStats } {
  const f = next.family;
  const s = new Script(`${f} ${TABLE}`);
  for (const l of skeletonDeclarations(f)) s.push(l);
  for (const [name, timeout] of next.affinitySets) if (!existing.sets.has(name)) s.push(affinityDecl(f, name, timeout));
  for (const [name, m] of next.dispatchMaps) {
    s.push(dispatchMapDecl(f, TABLE, name, m.proto));
    if (existing.sets.has(name)) s.push(`flush map ${s.t} ${name}`);
    s.elements('add', name, dispatchItems(m));
  }
  for (const name of next.chains.keys()) if (!existing.chains.has(name)) s.push(`add chain ${s.t} ${name}`);
  for (const [name, rules] of staticChains(f)) {
    if (existing.chains.has(name)) s.push(`flush chain ${s.t} ${name}`);
    s.rules(name, rules);
  }
  for (const [name, rules] of next.chains) {
    if (existing.chains.has(name)) s.push(`flush chain ${s.t} ${name}`);
    s.rules(name, rules);
  }
  for (const m of STATIC_MAPS) {
    if (existing.tableExists) s.push(`flush map ${s.t} ${m}`);
    s.elements('add', m, mapItems(next.maps[m]));
  }
  for (const name of STATIC_SETS) {
    if (existing.tableExists) s.push(`flush set ${s.t} ${name}`);
    s.elements('add', name, [...next.sets[name]]);
  }
  const statics = staticChains(f);
  const stale = [...existing.chains].filter((n) => !next.chains.has(n) && !statics.has(n));
  for (const name of stale) s.push(`flush chain ${s.t} ${name}`);
  for (const name of stale) s.push(`delete chain ${s.t} ${name}`);
  s.stats.chainsDeleted = stale.length;
  const staticSets = new Set<string>([...STATIC_MAPS, ...STATIC_SETS]);
  for (const name of existing.sets) {
    if (next.affinitySets.has(name) || staticSets.has(name) || next.dispatchMaps.has(name)) continue;
    s.push(`delete ${isDispatchMapName(name) ? 'map' : 'set'} ${s.t} ${name}`);
  }
  return { text: `${s.lines.join('\n')}\n`, stats: s.stats };
}
