/**
 * @module routing/backends/routingBackend — the interface every way of reaching remote pods implements (flannel's
 * Backend/Network, reduced to what differs between backends): the tunnel device it needs, its per-packet
 * overhead, and the kernel entries for one remote node. Pure; the applier does the I/O for all of them.
 */
import type { IpFamily } from '../../common/ipAddress.ts';
import type {
  BackendName, DesiredFdb, DesiredLink, DesiredNeighbour, DesiredRoute, LocalNode, PeerNode, PeerProblem, RoutingSettings,
} from '../routingModel.ts';

export interface PeerEntries {
  neighbours: DesiredNeighbour[];
  fdb: DesiredFdb[];
  routes: DesiredRoute[];
  /** Parts of the peer that could not be programmed (e.g. an IPv6 pod CIDR over an IPv4-only backend). */
  problems: PeerProblem[];
}

export interface RoutingBackend {
  readonly name: BackendName;
  /** Does this backend need the peers' VXLAN settings (VNI, port, VTEP MAC) to match? */
  readonly usesVxlan: boolean;
  /** Bytes of encapsulation per packet over an underlay of this family. */
  overhead(family: IpFamily): number;
  /** The tunnel device on this node, or undefined when the backend routes without one. */
  device(local: LocalNode, settings: RoutingSettings, mtu: number): DesiredLink | undefined;
  /** The entries that make one remote node's pods reachable, or why they cannot be. */
  peerEntries(local: LocalNode, peer: PeerNode): PeerEntries | PeerProblem;
}

export function noEntries(): PeerEntries {
  return { neighbours: [], fdb: [], routes: [], problems: [] };
}
