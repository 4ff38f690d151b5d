/**
 * What BIRD and gobgpd hold, read through their own CLIs: the prefixes in their RIBs and the state of their BGP
 * sessions. For tests that ask "did the peer learn this" rather than "did our speaker send it".
 */
import type { BirdDaemon, GobgpDaemon } from './peerDaemons.ts';

export interface GobgpPath {
  nlri: { prefix: string };
  attrs: Array<{ type: number; nexthop?: string; as_paths?: Array<{ asns: number[] }> }>;
  stale?: boolean;
  'source-id'?: string;
  'neighbor-ip'?: string;
}

/** gobgpd's global RIB of one family: prefix → paths. */
export async function gobgpRib(g: GobgpDaemon, family: 'ipv4' | 'ipv6'): Promise<Record<string, GobgpPath[]>> {
  const out = await g.cli(['global', 'rib', '-a', family, '-j']);
  return out.trim() ? JSON.parse(out) as Record<string, GobgpPath[]> : {};
}

/** Prefixes in gobgpd's global RIB, both families. */
export async function gobgpPrefixes(g: GobgpDaemon): Promise<Set<string>> {
  const [v4, v6] = [await gobgpRib(g, 'ipv4'), await gobgpRib(g, 'ipv6')];
  return new Set([...Object.keys(v4), ...Object.keys(v6)]);
}

/** gobgpd's neighbours: address → session state (`established`, `active`, ...). */
export async function gobgpNeighborStates(g: GobgpDaemon): Promise<Map<string, string>> {
  const out = await g.cli(['neighbor', '-j']);
  const list = (out.trim() ? JSON.parse(out) : []) as Array<{ state?: { neighbor_address?: string; session_state?: number | string } ; conf?: { neighbor_address?: string } }>;
  const names: Record<number, string> = { 1: 'idle', 2: 'connect', 3: 'active', 4: 'opensent', 5: 'openconfirm', 6: 'established' };
  const states = new Map<string, string>();
  for (const n of list) {
    const addr = n.state?.neighbor_address ?? n.conf?.neighbor_address ?? '';
    const s = n.state?.session_state;
    states.set(addr, typeof s === 'number' ? names[s] ?? String(s) : String(s ?? 'unknown').toLowerCase());
  }
  return states;
}

/**
 * Prefixes in BIRD's tables (master4 and master6), optionally only those learned from one protocol. A prefix
 * line starts at column 0 (`10.244.1.0/24   unicast [n1 ...] * (100) [AS64512i]`); alternative paths and
 * `via` lines are indented.
 */
export async function birdPrefixes(b: BirdDaemon, protocol?: string): Promise<Set<string>> {
  const out = await b.birdc(['show', 'route', ...(protocol ? ['protocol', protocol] : [])]);
  const found = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f.:]+\/\d+)\s/.exec(line);
    if (m) found.add(m[1]!);
  }
  return found;
}

/** BIRD's BGP protocols: name → state, since and info columns as printed (`up 08:01:02.123 Established`). */
export async function birdBgpStates(b: BirdDaemon): Promise<Map<string, string>> {
  const out = await b.birdc(['show', 'protocols']);
  const states = new Map<string, string>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === 'BGP') states.set(cols[0]!, cols.slice(3).join(' '));
  }
  return states;
}
