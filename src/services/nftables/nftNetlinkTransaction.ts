/**
 * @module services/nftables/nftNetlinkTransaction — the incremental transaction (committed → desired) as
 * nf_tables netlink operations, in the same order as renderIncremental's text (create before reference,
 * unreference before delete), so both paths commit the same change. Pure.
 *
 * Returns `null` when part of the change is outside what the netlink path expresses (a changed firewall chain's
 * anonymous set, an interval set such as cluster-cidrs): the applier then sends that one sync through `nft -f`.
 */
import { ipTextToAttr } from '../../netlink/addressText.ts';
import {
  concatTypeId, NFT_SET_ELEM_INTERVAL_END, NFT_TYPE_INET_SERVICE, NFT_TYPE_INTEGER, NFT_TYPE_IP6ADDR, NFT_TYPE_IPADDR,
} from '../../netlink/nftables/nftConstants.ts';
import type { Verdict } from '../../netlink/nftables/nftExpressions.ts';
import type { NftOp, SetElement } from '../../netlink/nftables/nftMessages.ts';
import { STATIC_MAPS, STATIC_SETS } from './nftSkeleton.ts';
import type { NftDesired } from './nftPlanner.ts';
import { dispatchMapUserdata, intervalElements, sameDispatchMap } from './nftDispatchMaps.ts';
import { compileRule, L4PROTO, NftNotCompilable } from './nftRuleCompiler.ts';
import type { TransactionStats } from './nftTransaction.ts';

/** Sets whose elements are intervals: their elements need interval ends, which only `nft -f` writes for us. */
const INTERVAL_SETS = new Set<string>(['cluster-cidrs']);

export interface NetlinkTransaction {
  ops: NftOp[];
  stats: TransactionStats;
}

/** One component of a concatenated key, padded to 4 bytes as the kernel's registers are. */
function keyPart(text: string): Uint8Array {
  const proto = L4PROTO[text];
  let raw: Uint8Array;
  if (proto !== undefined) raw = Uint8Array.of(proto);
  else if (/^\d+$/.test(text)) raw = Uint8Array.of((Number(text) >> 8) & 0xff, Number(text) & 0xff);
  else raw = ipTextToAttr(text);
  if (raw.length % 4 === 0) return raw;
  const padded = new Uint8Array((raw.length + 3) & ~3);
  padded.set(raw);
  return padded;
}

/** `10.96.0.10 . tcp . 80` → the key bytes (an address alone is not padded: it is already 4 or 16 bytes). */
export function encodeElementKey(key: string): Uint8Array {
  const parts = key.split(' . ').map(keyPart);
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

export function parseVerdict(text: string): Verdict {
  const [kind, chain] = text.split(' ');
  if ((kind === 'goto' || kind === 'jump') && chain) return { kind, chain };
  if (kind === 'drop' || kind === 'accept' || kind === 'return') return { kind };
  throw new NftNotCompilable(text, 'map value');
}

class OpList {
  readonly ops: NftOp[] = [];
  readonly stats: TransactionStats = { chainsWritten: 0, chainsDeleted: 0, elementsAdded: 0, elementsDeleted: 0 };
  elements(verb: 'add' | 'delete', set: string, elems: SetElement[]): void {
    if (elems.length === 0) return;
    // An interval is two kernel elements (start, INTERVAL_END) but one element of the text form: count it once.
    const n = elems.filter((e) => e.flags === undefined).length;
    if (verb === 'add') this.stats.elementsAdded += n;
    else this.stats.elementsDeleted += n;
    this.ops.push({ op: verb === 'add' ? 'newElems' : 'delElems', set, elems });
  }
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a === b || (a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]));
}

/** Same order as renderIncremental's dispatchMapChanges: new maps, then changed elements (never a rule). */
function dispatchMapOps(prev: NftDesired, next: NftDesired, l: OpList): void {
  const f = next.family;
  const addr = f === 'ip' ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR;
  for (const [name, m] of next.dispatchMaps) {
    const old = prev.dispatchMaps.get(name);
    if (sameDispatchMap(old, m)) continue;
    if (!old) {
      l.ops.push({ op: 'newMap', map: {
        name, keyType: NFT_TYPE_INTEGER, keyLen: 4, dataType: concatTypeId(addr, NFT_TYPE_INET_SERVICE),
        dataLen: (f === 'ip' ? 4 : 16) + 4, userdata: dispatchMapUserdata(f, m.proto),
      } });
    }
    const gone = old ? [...old.elements.keys()].filter((k) => m.elements.get(k) !== old.elements.get(k)) : [];
    const added = [...m.elements.keys()].filter((k) => old?.elements.get(k) !== m.elements.get(k));
    l.elements('delete', name, intervalElements(gone.map((k) => [k, undefined]), NFT_SET_ELEM_INTERVAL_END, false));
    l.elements('add', name, intervalElements(added.map((k) => [k, encodeElementKey(m.elements.get(k)!)]), NFT_SET_ELEM_INTERVAL_END));
  }
}

function chainOps(prev: NftDesired, next: NftDesired, l: OpList): void {
  const f = next.family;
  for (const [name, timeout] of next.affinitySets) {
    if (prev.affinitySets.has(name)) continue;
    const v6 = f === 'ip6';
    l.ops.push({ op: 'newSet', set: { name, keyType: v6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR, keyLen: v6 ? 16 : 4, timeoutMs: timeout * 1000 } });
  }
  dispatchMapOps(prev, next, l);
  for (const name of next.chains.keys()) if (!prev.chains.has(name)) l.ops.push({ op: 'newChain', chain: name });
  for (const [name, rules] of next.chains) {
    const old = prev.chains.get(name);
    if (sameRules(old, rules)) continue;
    if (old) l.ops.push({ op: 'flushChain', chain: name });
    l.stats.chainsWritten++;
    for (const r of rules) l.ops.push({ op: 'newRule', chain: name, exprs: compileRule(f, r) });
  }
}

function elementOps(prev: NftDesired, next: NftDesired, l: OpList): void {
  for (const m of STATIC_MAPS) {
    const a = prev.maps[m];
    const b = next.maps[m];
    l.elements('delete', m, [...a.keys()].filter((k) => b.get(k) !== a.get(k)).map((k) => ({ key: encodeElementKey(k) })));
    l.elements('add', m, [...b.keys()].filter((k) => a.get(k) !== b.get(k)).map((k) => ({ key: encodeElementKey(k), verdict: parseVerdict(b.get(k)!) })));
  }
  for (const name of STATIC_SETS) {
    const gone = [...prev.sets[name]].filter((k) => !next.sets[name].has(k));
    const added = [...next.sets[name]].filter((k) => !prev.sets[name].has(k));
    if (INTERVAL_SETS.has(name) && gone.length + added.length > 0) throw new NftNotCompilable(name, 'interval set');
    l.elements('delete', name, gone.map((k) => ({ key: encodeElementKey(k) })));
    l.elements('add', name, added.map((k) => ({ key: encodeElementKey(k) })));
  }
}

/** The netlink form of renderIncremental(prev, next); null when it needs `nft -f`. Empty ops: nothing changed. */
export function planNetlinkIncremental(prev: NftDesired, next: NftDesired): NetlinkTransaction | null {
  const l = new OpList();
  try {
    chainOps(prev, next, l);
    elementOps(prev, next, l);
  } catch (err) {
    if (err instanceof NftNotCompilable) return null;
    throw err;
  }
  const gone = [...prev.chains.keys()].filter((n) => !next.chains.has(n));
  for (const name of gone) l.ops.push({ op: 'flushChain', chain: name });
  for (const name of gone) l.ops.push({ op: 'delChain', chain: name });
  l.stats.chainsDeleted = gone.length;
  for (const name of prev.affinitySets.keys()) if (!next.affinitySets.has(name)) l.ops.push({ op: 'delSet', set: name });
  for (const name of prev.dispatchMaps.keys()) if (!next.dispatchMaps.has(name)) l.ops.push({ op: 'delSet', set: name });
  return { ops: l.ops, stats: l.stats };
}
