/**
 * @module routing/backends/crossSubnetBackend — Calico's CrossSubnet / flannel's DirectRouting: direct routes to
 * nodes on this node's uplink subnet (no encapsulation cost), VXLAN to the others. The device always exists and
 * the pod MTU is the VXLAN one, because a pod's packets may take either path.
 */
import { directPeerEntries, sharesSegment } from './hostGwBackend.ts';
import type { RoutingBackend } from './routingBackend.ts';
import { VXLAN_OVERHEAD, vxlanDevice, vxlanPeerEntries } from './vxlanBackend.ts';

export const crossSubnetBackend: RoutingBackend = {
  name: 'cross-subnet',
  usesVxlan: true,
  overhead: (family) => VXLAN_OVERHEAD[family],
  device: vxlanDevice,
  peerEntries: (local, peer) => (sharesSegment(local, peer) ? directPeerEntries(local, peer) : vxlanPeerEntries(peer)),
};
