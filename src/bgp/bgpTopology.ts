/**
 * @module bgp/bgpTopology — from cluster objects to the speaker's configuration (pure planner): the iBGP full
 * mesh among Nodes (Calico and kube-router's default, sensible below ~50 nodes: n(n−1)/2 sessions), or
 * route-reflector client mode (sessions only to the reflectors), plus external peers declared as MetalLB
 * `BGPPeer` objects selected by node labels; and the routes this node originates (its pod CIDRs).
 *
 * The BGP agent (bgpAgentPlan.ts → bgpAgent.ts) calls this on every store change and hands the result to
 * Speaker.setPeers and Speaker.setLocalRoutes.
 */
import type { BGPPeer, Node } from '../store/types.ts';
import { anySelectorMatches } from '../lb/labelSelector.ts';
import { canonicalPrefix, parseAddress, AFI_IPV4, AFI_IPV6 } from './bgpPrefix.ts';
import type { LocalRoute } from './speaker.ts';
import type { PeerSpec } from './speakerPeer.ts';

export interface BgpTopologySettings {
  /** Cluster AS for the iBGP mesh (Calico and kube-router default to 64512). */
  asn: number;
  mode: 'full-mesh' | 'route-reflector-client' | 'external-only';
  /** Reflector addresses, for route-reflector-client mode. */
  routeReflectors?: string[];
  /** Above this many nodes a full mesh is reported as a problem (calico#9976: meshes crawl at hundreds). */
  meshLimit?: number;
  port?: number;
  holdTime?: number;
}

export interface BgpTopology {
  localAs: number;
  routerId: string;
  peers: PeerSpec[];
  localRoutes: LocalRoute[];
  /** What was skipped and why (object, field, reason): the caller logs these; the rest still applies. */
  problems: string[];
}

function nodeIp(n: Node, v6: boolean): string | undefined {
  return n.status?.addresses?.find((a) => a.type === 'InternalIP' && a.address.includes(':') === v6 && parseAddress(a.address))?.address;
}

/** "90s", "1m30s" → seconds (the Go duration subset MetalLB's BGPPeer uses). */
export function parseDurationSeconds(s: string): number | null {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?$/.exec(s);
  if (!m || s === '') return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function meshPeers(self: Node, selfIp: string, nodes: Node[], s: BgpTopologySettings, problems: string[]): PeerSpec[] {
  const others = nodes.filter((n) => n.metadata.name !== self.metadata.name);
  if (others.length + 1 > (s.meshLimit ?? 50)) problems.push(`full mesh of ${others.length + 1} nodes exceeds ${s.meshLimit ?? 50}: use route reflectors`);
  const selfV6 = nodeIp(self, true);
  const out: PeerSpec[] = [];
  for (const n of others) {
    const ip = nodeIp(n, false);
    if (!ip) { problems.push(`Node ${n.metadata.name}: status.addresses has no IPv4 InternalIP; not peered`); continue; }
    out.push({
      peerAddress: ip, peerAs: s.asn, localAddress: selfIp, peerPort: s.port, holdTime: s.holdTime,
      // One side of each pair waits: the lower address is passive, so two nodes do not race two connections.
      passive: compareIp(selfIp, ip) < 0,
      nextHopV4: selfIp, ...(selfV6 ? { nextHopsV6: [selfV6] } : {}),
      families: [AFI_IPV4, AFI_IPV6],
    });
  }
  return out;
}

function compareIp(a: string, b: string): number {
  const x = parseAddress(a)!, y = parseAddress(b)!;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function externalPeer(p: BGPPeer, self: Node, selfIp: string, s: BgpTopologySettings, problems: string[]): PeerSpec | null {
  const where = `BGPPeer ${p.metadata.namespace ?? ''}/${p.metadata.name}`;
  if (!anySelectorMatches(p.spec.nodeSelectors, self.metadata.labels ?? {})) return null;
  if (!parseAddress(p.spec.peerAddress)) { problems.push(`${where}: spec.peerAddress ${p.spec.peerAddress} is not an address`); return null; }
  if (p.spec.myASN !== s.asn) { problems.push(`${where}: spec.myASN ${p.spec.myASN} differs from the node's AS ${s.asn}; skipped`); return null; }
  const hold = p.spec.holdTime === undefined ? undefined : parseDurationSeconds(p.spec.holdTime);
  if (hold === null) { problems.push(`${where}: spec.holdTime ${p.spec.holdTime} is not a duration`); return null; }
  const ebgp = p.spec.peerASN !== p.spec.myASN;
  const selfV6 = nodeIp(self, true);
  const v6Session = p.spec.peerAddress.includes(':');
  const local = p.spec.sourceAddress ?? (v6Session ? selfV6 : selfIp);
  if (!local) { problems.push(`${where}: spec.peerAddress ${p.spec.peerAddress} is IPv6 but Node ${self.metadata.name} has no IPv6 InternalIP (set spec.sourceAddress)`); return null; }
  // Next hops for both families whatever the session's: a dual-stack node announces both pod CIDRs.
  const v6NextHop = local.includes(':') ? local : selfV6;
  return {
    peerAddress: p.spec.peerAddress, peerAs: p.spec.peerASN, peerPort: p.spec.peerPort, localAddress: local,
    holdTime: hold ?? s.holdTime, md5Password: p.spec.password, nextHopV4: local.includes(':') ? selfIp : local,
    ...(v6NextHop ? { nextHopsV6: [v6NextHop] } : {}),
    // Each node announces what it owns, so the fabric sends traffic straight to it; a node is never a transit.
    exportLocalOnly: true,
    // Directly connected eBGP uses TTL 1 unless multihop is asked for (then 255, the GTSM-compatible value).
    ...(ebgp ? { ttl: p.spec.ebgpMultiHop ? 255 : 1 } : {}),
  };
}

export function planBgpTopology(input: { self: Node; nodes: Node[]; peers: BGPPeer[]; settings: BgpTopologySettings }): BgpTopology | { error: string } {
  const { self, settings: s } = input;
  const selfIp = nodeIp(self, false);
  if (!selfIp) return { error: `Node ${self.metadata.name}: status.addresses has no IPv4 InternalIP for the BGP router id` };
  const problems: string[] = [];
  let peers: PeerSpec[] = [];
  if (s.mode === 'full-mesh') peers = meshPeers(self, selfIp, input.nodes, s, problems);
  if (s.mode === 'route-reflector-client') {
    const selfV6 = nodeIp(self, true);
    // Both families over the IPv4 session, as in the mesh: a dual-stack node's IPv6 pod CIDR needs its IPv6 next hop.
    peers = (s.routeReflectors ?? []).filter((rr) => rr !== selfIp).map((rr) => ({
      peerAddress: rr, peerAs: s.asn, localAddress: selfIp, peerPort: s.port, holdTime: s.holdTime, nextHopV4: selfIp,
      ...(selfV6 ? { nextHopsV6: [selfV6] } : {}), families: [AFI_IPV4, AFI_IPV6],
    }));
    if (!peers.length) problems.push('route-reflector-client mode without route reflectors: no iBGP sessions');
  }
  for (const p of input.peers) {
    const spec = externalPeer(p, self, selfIp, s, problems);
    if (!spec) continue;
    if (peers.some((x) => x.peerAddress === spec.peerAddress)) { problems.push(`BGPPeer ${p.metadata.name}: ${spec.peerAddress} is already a peer; skipped`); continue; }
    peers.push(spec);
  }
  const cidrs = self.spec?.podCIDRs ?? (self.spec?.podCIDR ? [self.spec.podCIDR] : []);
  const localRoutes: LocalRoute[] = [];
  for (const c of cidrs) {
    const p = canonicalPrefix(c);
    if (p) localRoutes.push({ prefix: p }); else problems.push(`Node ${self.metadata.name}: spec.podCIDRs entry ${c} is not a prefix`);
  }
  return { localAs: s.asn, routerId: selfIp, peers, localRoutes, problems };
}
