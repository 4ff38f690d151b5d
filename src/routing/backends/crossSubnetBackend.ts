/**
 * @module routing/backends/crossSubnetBackend — Calico's CrossSubnet / flannel's DirectRouting: direct routes to
 * nodes on this node's uplink subnet (no encapsulation cost), VXLAN to the others. The device always exists and
 * the pod MTU is the VXLAN one, because a pod's packets may take either path. Dual-stack: a pod CIDR whose family
 * has no direct path to a same-segment peer (no node address of that family) goes over VXLAN instead.
 */
import { cidrFamily, directPeerEntries, sharesSegment } from './hostGwBackend.ts';
import { noEntries, type PeerEntries, type RoutingBackend } from './routingBackend.ts';
import { VXLAN_OVERHEAD, vxlanDevice, vxlanPeerEntries } from './vxlanBackend.ts';

export const crossSubnetBackend: RoutingBackend = {
  name: 'cross-subnet',
  usesVxlan: true,
  overhead: (family) => VXLAN_OVERHEAD[family],
  device: vxlanDevice,
  peerEntries: (local, peer) => {
    if (!sharesSegment(local, peer)) return vxlanPeerEntries(peer);
    const direct = peer.podCidrs.filter((c) => sharesSegment(local, peer, cidrFamily(c)));
    const tunnelled = peer.podCidrs.filter((c) => !direct.includes(c));
    const out: PeerEntries = directPeerEntries(local, { ...peer, podCidrs: direct });
    if (tunnelled.length === 0) return out;
    const viaTunnel = vxlanPeerEntries({ ...peer, podCidrs: tunnelled });
    if ('code' in viaTunnel) return { ...out, problems: [...out.problems, viaTunnel] };
    const merged = noEntries();
    for (const part of [out, viaTunnel]) {
      merged.neighbours.push(...part.neighbours); merged.fdb.push(...part.fdb);
      merged.routes.push(...part.routes); merged.problems.push(...part.problems);
    }
    return merged;
  },
};
