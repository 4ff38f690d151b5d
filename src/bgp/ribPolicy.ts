/**
 * @module bgp/ribPolicy — per-peer import and export policy: ordered rules matching prefixes (with ge/le, as in
 * prefix lists) and communities, accepting or rejecting, and setting LOCAL_PREF, MED, communities or an AS-path
 * prepend. First matching rule wins; no match falls to the policy's default. Pure.
 */
import { parsePrefix } from './bgpPrefix.ts';
import type { LargeCommunity, PathAttributes } from './pathAttributes.ts';

export interface PrefixMatch {
  prefix: string;
  /** Match more-specifics with length in [ge, le]; both default to the prefix's own length (exact match). */
  ge?: number;
  le?: number;
}

export interface PolicyActions {
  localPref?: number;
  med?: number;
  addCommunities?: number[];
  addLargeCommunities?: LargeCommunity[];
  /** Prepend our AS this many extra times (export only). */
  prepend?: number;
}

export interface PolicyRule {
  prefixes?: PrefixMatch[];
  /** Matches when the route carries any of these standard communities. */
  communities?: number[];
  action: 'accept' | 'reject';
  set?: PolicyActions;
}

export interface Policy {
  rules: PolicyRule[];
  default: 'accept' | 'reject';
}

export const ACCEPT_ALL: Policy = { rules: [], default: 'accept' };

export function prefixMatches(m: PrefixMatch, prefix: string): boolean {
  const want = parsePrefix(m.prefix);
  const got = parsePrefix(prefix);
  if (!want || !got || want.afi !== got.afi) return false;
  const ge = m.ge ?? want.len;
  const le = m.le ?? (m.ge !== undefined ? want.bytes.length * 8 : want.len);
  if (got.len < Math.max(ge, want.len) || got.len > le) return false;
  for (let bit = 0; bit < want.len; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((want.bytes[bit >> 3]! & mask) !== (got.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

function ruleMatches(r: PolicyRule, prefix: string, attrs: PathAttributes): boolean {
  if (r.prefixes && !r.prefixes.some((m) => prefixMatches(m, prefix))) return false;
  if (r.communities && !r.communities.some((c) => attrs.communities?.includes(c))) return false;
  return true;
}

export interface PolicyOutcome {
  accepted: boolean;
  set?: PolicyActions;
}

export function evaluatePolicy(p: Policy, prefix: string, attrs: PathAttributes): PolicyOutcome {
  for (const r of p.rules) {
    if (ruleMatches(r, prefix, attrs)) return { accepted: r.action === 'accept', ...(r.set ? { set: r.set } : {}) };
  }
  return { accepted: p.default === 'accept' };
}

/** Apply a rule's set-actions (not the prepend, which depends on the session) to a copy of the attributes. */
export function applyActions(attrs: PathAttributes, set: PolicyActions | undefined): PathAttributes {
  if (!set) return attrs;
  const out: PathAttributes = { ...attrs };
  if (set.localPref !== undefined) out.localPref = set.localPref;
  if (set.med !== undefined) out.med = set.med;
  if (set.addCommunities?.length) out.communities = [...new Set([...(attrs.communities ?? []), ...set.addCommunities])];
  if (set.addLargeCommunities?.length) out.largeCommunities = [...(attrs.largeCommunities ?? []), ...set.addLargeCommunities];
  return out;
}

/** "65001:100" → 32-bit community value; well-known names as in RFC 1997. */
export function parseCommunity(s: string): number | null {
  const wellKnown: Record<string, number> = { 'no-export': 0xffffff01, 'no-advertise': 0xffffff02, 'no-export-subconfed': 0xffffff03 };
  if (s in wellKnown) return wellKnown[s]!;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) return null;
  return Number(m[1]) * 0x10000 + Number(m[2]);
}
