/**
 * @module services/conntrackCleanup — delete exactly the UDP conntrack entries a sync made stale.
 *
 * UDP has no connection teardown: an entry DNATed to an endpoint that went away keeps steering a client's flow
 * into the void for as long as packets keep refreshing it (k/k#139628: 13 hours of statsd traffic). TCP is left
 * alone: a dead endpoint resets it. Rules, as kube-proxy's pkg/proxy/conntrack/cleanup.go:
 *  - an endpoint removed from a UDP port → delete entries to each service address/NodePort DNATed to it;
 *  - a UDP port that is newly active — it had no endpoints, did not exist, or this is the proxy's first sync —
 *    → delete the entries to its addresses that no current endpoint answers (created while no rule handled the
 *    address, they pin the flow to "nothing": seen in the lab, a pod's DNS client that started before its node's
 *    first proxy sync had every query forwarded un-DNATed to the default route for as long as it kept sending).
 *    These are found in one `conntrack -L` dump per family and deleted one by one, so a first sync at 10,000
 *    UDP services costs one listing, not 10,000 filtered deletes (kube-proxy's reconciler, k/k#126130, lists
 *    too). NodePorts are left to the removed-endpoint rule: an un-DNATed flow to a high port may be transit.
 * Planning and selection are pure; applying runs the `conntrack` tool (absolute path).
 */
import type { ServiceModel, ServicePortView } from './serviceModel.ts';
import { findTool, runTool } from '../common/systemTools.ts';

export interface ConntrackFilter {
  family: 'IPv4' | 'IPv6';
  /** Original destination address (service IP) or null for a NodePort (any local address). */
  origDst: string | null;
  origPortDst: number;
  /** Reply source = the endpoint after DNAT; null = any. */
  replySrc: string | null;
}

function addresses(p: ServicePortView): string[] {
  return [p.clusterIP, ...p.externalIPs, ...p.loadBalancerIPs];
}

function endpointIPs(p: ServicePortView | undefined): Set<string> {
  return new Set([...(p?.internalEndpoints ?? []), ...(p?.externalEndpoints ?? [])].map((e) => e.ip));
}

function key(p: ServicePortView): string {
  return `${p.id}|${p.family}`;
}

/** A UDP service address that has endpoints now and had none in the last sync (or did not exist then). */
export interface ActiveUdpAddress {
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
  /** The endpoints that may answer it: an entry whose reply source is one of them is current. */
  endpoints: string[];
}

export interface ConntrackCleanupPlan {
  /** Entries DNATed to endpoints that went away (deleted by filter, no listing). */
  filters: ConntrackFilter[];
  /** Addresses to reconcile against a listing: entries to them that no current endpoint answers are stale. */
  newlyActive: ActiveUdpAddress[];
}

/** What a sync from `prev` (null: the first sync) to `next` made stale. */
export function planConntrackCleanup(prev: ServiceModel | null, next: ServiceModel): ConntrackCleanupPlan {
  const prevByKey = new Map((prev?.ports ?? []).map((p) => [key(p), p]));
  const nextByKey = new Map(next.ports.map((p) => [key(p), p]));
  const filters: ConntrackFilter[] = [];
  for (const p of prev?.ports ?? []) {
    if (p.protocol !== 'UDP') continue;
    const now = endpointIPs(nextByKey.get(key(p)));
    for (const ip of endpointIPs(p)) {
      if (now.has(ip)) continue;
      for (const a of addresses(p)) filters.push({ family: p.family, origDst: a, origPortDst: p.port, replySrc: ip });
      if (p.nodePort > 0) filters.push({ family: p.family, origDst: null, origPortDst: p.nodePort, replySrc: ip });
    }
  }
  const newlyActive: ActiveUdpAddress[] = [];
  for (const p of next.ports) {
    if (p.protocol !== 'UDP') continue;
    const eps = endpointIPs(p);
    if (eps.size === 0 || endpointIPs(prevByKey.get(key(p))).size > 0) continue;
    for (const a of addresses(p)) newlyActive.push({ family: p.family, address: a, port: p.port, endpoints: [...eps] });
  }
  return { filters, newlyActive };
}

/** One UDP conntrack entry as `conntrack -L` shows it: the original tuple and the reply's source. */
export interface ConntrackEntry { family: 'IPv4' | 'IPv6'; src: string; dst: string; sport: number; dport: number; replySrc: string }

/** `conntrack -L -p udp -f FAMILY` output → entries (lines it cannot read are skipped: the tool's own notes). */
export function parseConntrackListing(text: string, family: 'IPv4' | 'IPv6'): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]!);
    const dst = /\bdst=(\S+)/.exec(line)?.[1];
    const sport = /\bsport=(\d+)/.exec(line)?.[1];
    const dport = /\bdport=(\d+)/.exec(line)?.[1];
    if (src.length < 2 || !dst || !sport || !dport) continue;
    out.push({ family, src: src[0]!, dst, sport: Number(sport), dport: Number(dport), replySrc: src[1]! });
  }
  return out;
}

/** The entries to newly active addresses that no current endpoint answers (not DNATed, or DNATed elsewhere). */
export function unansweredEntries(entries: readonly ConntrackEntry[], active: readonly ActiveUdpAddress[]): ConntrackEntry[] {
  const byTarget = new Map(active.map((a) => [`${a.family}|${a.address.toLowerCase()}|${a.port}`, new Set(a.endpoints.map((e) => e.toLowerCase()))]));
  return entries.filter((e) => {
    const eps = byTarget.get(`${e.family}|${e.dst.toLowerCase()}|${e.dport}`);
    return eps !== undefined && !eps.has(e.replySrc.toLowerCase());
  });
}

/** `conntrack -D` arguments that delete exactly one entry (its original tuple). */
export function entryDeleteArgs(e: ConntrackEntry): string[] {
  return ['-D', '-f', e.family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', 'udp', '--orig-src', e.src, '--orig-dst', e.dst,
    '--sport', String(e.sport), '--dport', String(e.dport)];
}

export function conntrackArgs(f: ConntrackFilter): string[] {
  const args = ['-D', '-f', f.family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', 'udp', '--orig-port-dst', String(f.origPortDst)];
  if (f.origDst) args.push('--orig-dst', f.origDst);
  if (f.replySrc) args.push('--reply-src', f.replySrc);
  return args;
}

/** Runs a cleanup plan; returns how many entries were deleted. Failures are reported, never thrown past a sync. */
export async function applyConntrackCleanup(plan: ConntrackCleanupPlan, opts: { netns?: string } = {}): Promise<{ deleted: number; errors: string[] }> {
  if (plan.filters.length === 0 && plan.newlyActive.length === 0) return { deleted: 0, errors: [] };
  const tool = findTool('conntrack');
  if (!tool) return { deleted: 0, errors: ['conntrack is not installed (Debian package conntrack): stale UDP entries are not removed'] };
  const run = (args: string[]) => (opts.netns
    ? runTool('ip', ['netns', 'exec', opts.netns, tool, ...args], { allowFailure: true })
    : runTool(tool, args, { allowFailure: true }));
  let deleted = 0;
  const errors: string[] = [];
  const del = async (args: string[]) => {
    const r = await run(args);
    const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
    if (m) deleted += Number(m[1]);
    else if (r.code !== 0) errors.push(`conntrack ${args.join(' ')}: ${r.stderr.trim().split('\n')[0]}`);
  };
  for (const f of plan.filters) await del(conntrackArgs(f));
  for (const family of ['IPv4', 'IPv6'] as const) {
    const active = plan.newlyActive.filter((a) => a.family === family);
    if (active.length === 0) continue;
    const listArgs = ['-L', '-f', family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', 'udp'];
    const r = await run(listArgs);
    if (r.code !== 0) { errors.push(`conntrack ${listArgs.join(' ')}: ${r.stderr.trim().split('\n')[0]}`); continue; }
    for (const e of unansweredEntries(parseConntrackListing(r.stdout, family), active)) await del(entryDeleteArgs(e));
  }
  return { deleted, errors };
}
