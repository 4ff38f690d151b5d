/**
 * @module routing/cidrOverlaps — which nodes' pod CIDRs overlap another node's, in O(n log n): every prefix
 * becomes an integer interval, sorted, and swept once. Of two overlapping nodes the one later in `rank` (this
 * node first, then peers by name) loses, so a misconfigured newcomer can never take over a working node's pods.
 * (A pairwise check is O(n²): 1,000 nodes made each Node event cost seconds.)
 */
import { lastOf, parsePrefix } from '../common/ipPrefix.ts';

export interface CidrClaim {
  node: string;
  cidr: string;
  /** Lower wins. */
  rank: number;
}

export interface Overlap {
  node: string;
  cidr: string;
  other: string;
  otherNode: string;
}

interface Interval { family: number; start: bigint; end: bigint; claim: CidrClaim }

function intervalOf(claim: CidrClaim): Interval {
  const p = parsePrefix(claim.cidr, { hostBits: 'clear' });
  return { family: p.addr.family, start: p.addr.value, end: lastOf(p).value, claim };
}

/** The losing node of every overlap (one entry per losing node). */
export function findOverlaps(claims: readonly CidrClaim[]): Map<string, Overlap> {
  const sorted = claims.map(intervalOf).sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : a.claim.rank - b.claim.rank));
  const losers = new Map<string, Overlap>();
  let cover: Interval | undefined;
  for (const iv of sorted) {
    if (!cover || cover.family !== iv.family || iv.start > cover.end) { cover = iv; continue; }
    if (cover.claim.node === iv.claim.node) { if (iv.end > cover.end) cover = iv; continue; }
    const [win, lose] = cover.claim.rank <= iv.claim.rank ? [cover, iv] : [iv, cover];
    if (!losers.has(lose.claim.node)) losers.set(lose.claim.node, { node: lose.claim.node, cidr: lose.claim.cidr, other: win.claim.cidr, otherNode: win.claim.node });
    // The loser is not programmed, so only the winner's range goes on covering.
    if (win === iv) cover = iv;
  }
  return losers;
}
