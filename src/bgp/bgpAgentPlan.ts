/**
 * @module bgp/bgpAgentPlan — the BGP agent's pure planner: cluster objects + the `bgp` settings → what the
 * speaker should be told (peers, routes we originate) and which peers get BFD. Builds on bgpTopology.ts (mesh,
 * route-reflector client, external BGPPeers) and adds: the route-reflector server role (every other node is a
 * client, except the listed reflectors), BFD timers (node-to-node from the config, BGPPeers from their
 * BFDProfile), and service addresses (serviceAdvertisement.ts).
 */
import type { BFDProfile, BGPPeer, Node } from '../store/types.ts';
import type { ServicePortView } from '../services/serviceModel.ts';
import type { BfdTimers } from './bfdSession.ts';
import type { BgpAgentSettings } from './bgpAgentConfig.ts';
import { planBgpTopology, type BgpTopology } from './bgpTopology.ts';
import { serviceRoutes } from './serviceAdvertisement.ts';
import type { PeerSpec } from './speakerPeer.ts';

export interface BgpPlanInput {
  self: Node;
  nodes: Node[];
  peers: BGPPeer[];
  bfdProfiles: BFDProfile[];
  settings: BgpAgentSettings;
  /** The cluster's service range(s), for `advertise.serviceClusterIPs`. */
  serviceCidrs: string[];
  /** The proxy's service model for this node (only needed when externalIPs / LB IPs are advertised). */
  servicePorts: readonly ServicePortView[];
}

export interface BfdPeerPlan {
  address: string;
  timers: BfdTimers;
  /** Where the timers came from, for logs: `config` or `BFDProfile ns/name`. */
  source: string;
}

export interface BgpPlan extends BgpTopology {
  bfdPeers: BfdPeerPlan[];
}

/** MetalLB's BFDProfile defaults (ms): 300 / 300 / 3. */
export function bfdTimersOf(p: BFDProfile): BfdTimers {
  return { minTxMs: p.spec?.transmitInterval ?? 300, minRxMs: p.spec?.receiveInterval ?? 300, detectMult: p.spec?.detectMultiplier ?? 3 };
}

function markClients(peers: PeerSpec[], nodeAddresses: Set<string>, reflectors: string[]): PeerSpec[] {
  return peers.map((p) => (nodeAddresses.has(p.peerAddress) && !reflectors.includes(p.peerAddress) ? { ...p, routeReflectorClient: true } : p));
}

function nodeAddresses(nodes: Node[]): Set<string> {
  return new Set(nodes.flatMap((n) => (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)));
}

function bfdPeers(input: BgpPlanInput, peers: PeerSpec[], problems: string[]): BfdPeerPlan[] {
  const out: BfdPeerPlan[] = [];
  const nodes = nodeAddresses(input.nodes);
  const bfd = input.settings.bfd;
  if (bfd) {
    const timers = { minTxMs: bfd.intervalMs, minRxMs: bfd.intervalMs, detectMult: bfd.multiplier };
    for (const p of peers) if (nodes.has(p.peerAddress)) out.push({ address: p.peerAddress, timers, source: 'config' });
  }
  for (const bp of input.peers) {
    const name = bp.spec.bfdProfile;
    if (!name || !peers.some((p) => p.peerAddress === bp.spec.peerAddress) || out.some((b) => b.address === bp.spec.peerAddress)) continue;
    const ns = bp.metadata.namespace ?? 'default';
    const profile = input.bfdProfiles.find((x) => x.metadata.name === name && (x.metadata.namespace ?? 'default') === ns);
    if (!profile) { problems.push(`BGPPeer ${ns}/${bp.metadata.name}: spec.bfdProfile "${name}" names no BFDProfile in namespace ${ns}; no BFD for ${bp.spec.peerAddress}`); continue; }
    out.push({ address: bp.spec.peerAddress, timers: bfdTimersOf(profile), source: `BFDProfile ${ns}/${name}` });
  }
  return out;
}

export function planBgp(input: BgpPlanInput): BgpPlan | { error: string } {
  const s = input.settings;
  const rr = s.routeReflectorServer;
  // A reflector peers with every node (its clients, and the other reflectors as non-clients) whatever its mode.
  const mode = rr && s.mode !== 'external-only' ? 'full-mesh' : s.mode;
  const topo = planBgpTopology({
    self: input.self, nodes: input.nodes, peers: input.peers,
    settings: { asn: s.asn, mode, routeReflectors: s.routeReflectors, port: s.port, ...(rr ? { meshLimit: Number.MAX_SAFE_INTEGER } : {}) },
  });
  if ('error' in topo) return topo;
  const peers = rr ? markClients(topo.peers, nodeAddresses(input.nodes), s.routeReflectors) : topo.peers;
  const problems = [...topo.problems];
  const localRoutes = [
    ...(s.advertise.podCIDR ? topo.localRoutes : []),
    ...serviceRoutes({ advertise: s.advertise, serviceCidrs: input.serviceCidrs, ports: input.servicePorts }),
  ];
  return { ...topo, peers, localRoutes, problems, bfdPeers: bfdPeers(input, peers, problems) };
}
