/**
 * @module services/conntrackCleanup — delete exactly the UDP conntrack entries a sync made stale.
 *
 * UDP has no connection teardown: an entry DNATed to an endpoint that went away keeps steering a client's flow
 * into the void for as long as packets keep refreshing it (k/k#139628: 13 hours of statsd traffic). TCP is left
 * alone: a dead endpoint resets it. Rules, as kube-proxy's pkg/proxy/conntrack/cleanup.go:
 *  - an endpoint removed from a UDP port → delete entries to each service address/NodePort DNATed to it;
 *  - a UDP port that had no endpoints and now has some → delete entries to its addresses (created while the
 *    traffic was rejected or dropped, they would otherwise pin the flow to "nothing").
 * Planning is pure; applying runs the `conntrack` tool (absolute path) per filter.
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

export function staleConntrackFilters(prev: ServiceModel | null, next: ServiceModel): ConntrackFilter[] {
  if (prev === null) return [];
  const nextByKey = new Map(next.ports.map((p) => [key(p), p]));
  const prevByKey = new Map(prev.ports.map((p) => [key(p), p]));
  const out: ConntrackFilter[] = [];
  const forPort = (p: ServicePortView, replySrc: string | null) => {
    for (const a of addresses(p)) out.push({ family: p.family, origDst: a, origPortDst: p.port, replySrc });
    if (p.nodePort > 0) out.push({ family: p.family, origDst: null, origPortDst: p.nodePort, replySrc });
  };
  for (const p of prev.ports) {
    if (p.protocol !== 'UDP') continue;
    const now = endpointIPs(nextByKey.get(key(p)));
    for (const ip of endpointIPs(p)) if (!now.has(ip)) forPort(p, ip);
  }
  for (const p of next.ports) {
    if (p.protocol !== 'UDP') continue;
    if (endpointIPs(prevByKey.get(key(p))).size === 0 && endpointIPs(p).size > 0 && prevByKey.has(key(p))) forPort(p, null);
  }
  return out;
}

export function conntrackArgs(f: ConntrackFilter): string[] {
  const args = ['-D', '-f', f.family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', 'udp', '--orig-port-dst', String(f.origPortDst)];
  if (f.origDst) args.push('--orig-dst', f.origDst);
  if (f.replySrc) args.push('--reply-src', f.replySrc);
  return args;
}

/** Runs the filters; returns how many entries were deleted. Failures are reported, never thrown past a sync. */
export async function deleteConntrackEntries(filters: readonly ConntrackFilter[], opts: { netns?: string } = {}): Promise<{ deleted: number; errors: string[] }> {
  const tool = findTool('conntrack');
  if (filters.length === 0) return { deleted: 0, errors: [] };
  if (!tool) return { deleted: 0, errors: ['conntrack is not installed (Debian package conntrack): stale UDP entries are not removed'] };
  let deleted = 0;
  const errors: string[] = [];
  for (const f of filters) {
    const args = conntrackArgs(f);
    const r = opts.netns
      ? await runTool('ip', ['netns', 'exec', opts.netns, tool, ...args], { allowFailure: true })
      : await runTool(tool, args, { allowFailure: true });
    const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
    if (m) deleted += Number(m[1]);
    else if (r.code !== 0) errors.push(`conntrack ${args.join(' ')}: ${r.stderr.trim().split('\n')[0]}`);
  }
  return { deleted, errors };
}
