/**
 * @module routing/backends/ipipBackend — IP-in-IP like Calico's and flannel's: one `podnet.ipip` device
 * (local = node address, remote any) and per remote pod CIDR `CIDR via <peer's node IP> dev podnet.ipip onlink`.
 * IPv4 only (ipip carries IPv4 in IPv4). Needs the kernel's `ipip` module: the applier fails at start-up with a
 * message naming it when the kernel cannot create the device.
 */
import { prefixFamily, parsePrefix } from '../../common/ipPrefix.ts';
import { IPIP_DEVICE, type PeerProblem } from '../routingModel.ts';
import { noEntries, type PeerEntries, type RoutingBackend } from './routingBackend.ts';

/** Outer IPv4 header. */
export const IPIP_OVERHEAD = 20;

export const ipipBackend: RoutingBackend = {
  name: 'ipip',
  usesVxlan: false,
  overhead: () => IPIP_OVERHEAD,
  device: (local, _settings, mtu) => ({ kind: 'ipip', name: IPIP_DEVICE, local: local.endpoint, uplinkIndex: local.uplink.index, mtu }),
  peerEntries(_local, peer): PeerEntries | PeerProblem {
    if (peer.endpointFamily !== 4) return { node: peer.name, code: 'familyMismatch', message: `node ${peer.name}: ipip needs an IPv4 tunnel endpoint, got ${peer.endpoint}` };
    const out = noEntries();
    for (const cidr of peer.podCidrs) {
      if (prefixFamily(parsePrefix(cidr, { hostBits: 'clear' })) !== 4) {
        out.problems.push({ node: peer.name, code: 'familyMismatch', message: `node ${peer.name}: pod CIDR ${cidr} is IPv6; ipip carries IPv4 only` });
        continue;
      }
      out.routes.push({ dst: cidr, gateway: peer.endpoint, dev: 'tunnel', onlink: true });
    }
    return out;
  },
};
