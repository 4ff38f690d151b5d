/**
 * @module routing/backends/vxlanBackend — flannel's static VXLAN scheme on `podnet.1` (learning off, no L2/L3
 * miss handling): per remote node one permanent FDB entry (its VTEP MAC → its underlay address), and per remote
 * pod CIDR one permanent neighbour (VTEP address → VTEP MAC) and one route `CIDR via VTEP dev podnet.1 onlink`.
 * The VTEP address of a node is its pod CIDR's network address, held as /32 (/128) on its podnet.1.
 */
import type { IpFamily } from '../../common/ipAddress.ts';
import { formatIp } from '../../common/ipAddress.ts';
import { parsePrefix } from '../../common/ipPrefix.ts';
import { VXLAN_DEVICE, type DesiredLink, type LocalNode, type PeerNode, type PeerProblem, type RoutingSettings } from '../routingModel.ts';
import { noEntries, type PeerEntries, type RoutingBackend } from './routingBackend.ts';

/** Outer Ethernet-less headers: IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50; IPv6 outer 40 → 70. */
export const VXLAN_OVERHEAD: Record<IpFamily, number> = { 4: 50, 6: 70 };

export function vxlanDevice(local: LocalNode, settings: RoutingSettings, mtu: number): DesiredLink {
  return {
    kind: 'vxlan', name: VXLAN_DEVICE, vni: settings.vni, port: settings.port, local: local.endpoint,
    uplinkIndex: local.uplink.index, mtu, mac: local.vtepMac,
  };
}

export function vxlanPeerEntries(peer: PeerNode): PeerEntries | PeerProblem {
  if (!peer.vtepMac) return { node: peer.name, code: 'notReady', message: `node ${peer.name} has not published its VTEP MAC yet` };
  const out = noEntries();
  out.fdb.push({ lladdr: peer.vtepMac, dst: peer.endpoint });
  for (const cidr of peer.podCidrs) {
    // flannel's VTEP address is the network address of the node's pod subnet.
    const vtep = formatIp(parsePrefix(cidr, { hostBits: 'clear' }).addr);
    out.neighbours.push({ address: vtep, lladdr: peer.vtepMac });
    out.routes.push({ dst: cidr, gateway: vtep, dev: 'tunnel', onlink: true });
  }
  return out;
}

export const vxlanBackend: RoutingBackend = {
  name: 'vxlan',
  usesVxlan: true,
  overhead: (family) => VXLAN_OVERHEAD[family],
  device: vxlanDevice,
  peerEntries: (_local, peer) => vxlanPeerEntries(peer),
};
