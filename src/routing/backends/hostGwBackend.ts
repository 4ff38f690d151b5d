/**
 * @module routing/backends/hostGwBackend — direct routes, no encapsulation: `CIDR via <peer's node IP>` over the
 * uplink. Works only between nodes on one L2 segment (the gateway must be on-link); a peer outside this node's
 * uplink subnet is reported, never silently routed into the default gateway.
 */
import { parseIp } from '../../common/ipAddress.ts';
import { parsePrefix, prefixContains, prefixFamily } from '../../common/ipPrefix.ts';
import type { LocalNode, PeerNode, PeerProblem } from '../routingModel.ts';
import { noEntries, type PeerEntries, type RoutingBackend } from './routingBackend.ts';

/** Is the peer's underlay address inside this node's uplink subnet? */
export function sharesSegment(local: LocalNode, peer: PeerNode): boolean {
  if (local.endpointFamily !== peer.endpointFamily) return false;
  return prefixContains(parsePrefix(`${local.endpoint}/${local.uplink.prefixLen}`, { hostBits: 'clear' }), parseIp(peer.endpoint));
}

export function directPeerEntries(local: LocalNode, peer: PeerNode): PeerEntries {
  const out = noEntries();
  for (const cidr of peer.podCidrs) {
    if (prefixFamily(parsePrefix(cidr, { hostBits: 'clear' })) !== peer.endpointFamily) {
      out.problems.push({ node: peer.name, code: 'familyMismatch', message: `node ${peer.name}: pod CIDR ${cidr} cannot be routed via its IPv${peer.endpointFamily} address ${peer.endpoint} (host-gw routes need a node address of the same family)` });
      continue;
    }
    out.routes.push({ dst: cidr, gateway: peer.endpoint, dev: local.uplink.index, onlink: false });
  }
  return out;
}

export const hostGwBackend: RoutingBackend = {
  name: 'host-gw',
  usesVxlan: false,
  overhead: () => 0,
  device: () => undefined,
  peerEntries(local, peer): PeerEntries | PeerProblem {
    if (!sharesSegment(local, peer)) {
      return { node: peer.name, code: 'notOnSegment', message: `node ${peer.name} (${peer.endpoint}) is not on node ${local.name}'s L2 segment (${local.endpoint}/${local.uplink.prefixLen} on ${local.uplink.name}); host-gw cannot reach it — use --backend cross-subnet or vxlan` };
    }
    return directPeerEntries(local, peer);
  },
};
