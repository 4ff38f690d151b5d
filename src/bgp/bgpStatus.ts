/**
 * @module bgp/bgpStatus — `GET /bgp/status` (JSON) on the agent's loopback status address, and the table
 * `podnetctl bgp status` prints from it. The document is built from Speaker.status() plus the RIB (accepted =
 * this peer's paths that are in use: best or ECMP) and BFD state; formatting is pure.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Speaker } from './speaker.ts';
import type { BfdTimingDocument } from './bfdTiming.ts';

export interface BgpPeerStatus {
  peer: string;
  peerAs: number;
  state: string;
  uptimeSeconds: number;
  /** Paths in the peer's Adj-RIB-In (after import policy). */
  received: number;
  /** Of those, the ones in use (best path or ECMP member). */
  accepted: number;
  advertised: number;
  bfd?: string;
  routeReflectorClient?: boolean;
}

export interface BgpStatusDocument {
  node: string;
  routerId: string;
  localAs: number;
  /** Every peer sent End-of-RIB (or the wait timed out): stale kernel routes were pruned. */
  converged: boolean;
  /** We came up with kernel routes from a previous run and announced the Restart bit. */
  restarting: boolean;
  routeReflectorClusterId?: string;
  localRoutes: string[];
  peers: BgpPeerStatus[];
  /** How punctual BFD has been in this process (when BFD runs). */
  bfdTiming?: BfdTimingDocument;
}

export function acceptedByPeer(speaker: Speaker): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sel of speaker.rib.loc.values()) {
    for (const r of sel.multipath) counts.set(r.peer, (counts.get(r.peer) ?? 0) + 1);
  }
  return counts;
}

export function peerStatuses(speaker: Speaker, bfdState: (peer: string) => string | undefined): BgpPeerStatus[] {
  const accepted = acceptedByPeer(speaker);
  return speaker.status().map((p) => {
    const bfd = bfdState(p.peer);
    const client = speaker.peers.get(p.peer)?.spec.routeReflectorClient;
    return { ...p, accepted: accepted.get(p.peer) ?? 0, ...(bfd ? { bfd } : {}), ...(client ? { routeReflectorClient: true } : {}) };
  }).sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
}

export function formatUptime(seconds: number): string {
  if (seconds <= 0) return '-';
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return d ? `${d}d${h}h` : h ? `${h}h${m}m` : m ? `${m}m${s}s` : `${s}s`;
}

/** One line per peer, columns aligned; a header line with the node's identity first. */
export function formatStatusTable(doc: BgpStatusDocument): string {
  const head = `node ${doc.node}  router-id ${doc.routerId}  AS ${doc.localAs}  ${doc.converged ? 'converged' : 'converging'}${doc.restarting ? ' (restarted)' : ''}${doc.routeReflectorClusterId ? `  route-reflector cluster-id ${doc.routeReflectorClusterId}` : ''}`;
  const rows = [['PEER', 'AS', 'STATE', 'UPTIME', 'RECEIVED', 'ACCEPTED', 'ADVERTISED', 'BFD']];
  for (const p of doc.peers) {
    rows.push([`${p.peer}${p.routeReflectorClient ? ' (rr-client)' : ''}`, String(p.peerAs), p.state, formatUptime(p.uptimeSeconds), String(p.received), String(p.accepted), String(p.advertised), p.bfd ?? '-']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return `${head}\n${lines.join('\n')}\n`;
}

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

/** Serve the document at /bgp/status (the caller checked the address is loopback). */
export async function startStatusServer(addr: { host: string; port: number }, doc: () => BgpStatusDocument): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/bgp/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(doc())}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: GET /bgp/status\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => { server.off('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
