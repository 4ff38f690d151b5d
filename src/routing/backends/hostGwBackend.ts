/**
 * @module routing/backends/hostGwBackend — direct routes, no encapsulation: `CIDR via <peer's node IP>` over the
 * uplink. Works only between nodes on one L2 segment (the gateway must be on-link); a peer outside this node's
 * uplink subnet is reported, never silently routed into the default gateway. Dual-stack: each pod CIDR is routed
 * via the peer's node address of the same family (flannel's host-gw does the same with its IPv6 public IP), so an
 * IPv6 pod CIDR needs both nodes to hold an IPv6 address on the shared segment.
 */
import { ipFamilyOf, parseIp, type IpFamily } from '../../common/ipAddress.ts';
import { parsePrefix, prefixContains, prefixFamily } from '../../common/ipPrefix.ts';
import type { LocalNode, PeerNode, PeerProblem } from '../routingModel.ts';
import { noEntries, type PeerEntries, type RoutingBackend } from './routingBackend.ts';

/** This node's uplink address of `family` with its prefix length, if it has one. */
function localAddress(local: LocalNode, family: IpFamily): { address: string; prefixLen: number } | undefined {
  if (family === local.endpointFamily) return { address: local.endpoint, prefixLen: local.uplink.prefixLen };
  return local.otherFamilyAddress;
}

/** The peer's node address of `family`, if it has one. */
export function peerAddress(peer: PeerNode, family: IpFamily): string | undefined {
  if (family === peer.endpointFamily) return peer.endpoint;
  return peer.otherFamilyAddress && ipFamilyOf(peer.otherFamilyAddress) === family ? peer.otherFamilyAddress : undefined;
}

/** Is the peer's underlay address of `family` (default: the tunnel endpoint's) inside this node's uplink subnet? */
export function sharesSegment(local: LocalNode, peer: PeerNode, family: IpFamily = local.endpointFamily): boolean {
  const mine = localAddress(local, family);
  const theirs = peerAddress(peer, family);
  if (!mine || !theirs) return false;
  return prefixContains(parsePrefix(`${mine.address}/${mine.prefixLen}`, { hostBits: 'clear' }), parseIp(theirs));
}

export function cidrFamily(cidr: string): IpFamily {
  return prefixFamily(parsePrefix(cidr, { hostBits: 'clear' }));
}

export function directPeerEntries(local: LocalNode, peer: PeerNode): PeerEntries {
  const out = noEntries();
  for (const cidr of peer.podCidrs) {
    const family = cidrFamily(cidr);
    const via = peerAddress(peer, family);
    if (!via || !sharesSegment(local, peer, family)) {
      const why = via ? `its IPv${family} address ${via} is not on node ${local.name}'s uplink subnet` : `it publishes no IPv${family} InternalIP`;
      out.problems.push({ node: peer.name, code: 'familyMismatch', message: `node ${peer.name}: pod CIDR ${cidr} cannot be routed directly: ${why} (host-gw routes need node addresses of the pod CIDR's family on one segment)` });
      continue;
    }
    out.routes.push({ dst: cidr, gateway: via, dev: local.uplink.index, onlink: false });
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
