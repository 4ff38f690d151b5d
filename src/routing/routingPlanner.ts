/**
 * @module routing/routingPlanner — pure: (settings, this node, every Node object) → the kernel state podnet wants
 * in this node's namespace, plus the peers it could not program and why. Deterministic (peers sorted by name),
 * so two runs over the same input give the same plan, and the applier's diff is empty when nothing changed.
 *
 * Peers whose settings cannot interoperate with ours (another backend, another VNI or port, another underlay
 * family) are reported with a message naming both nodes instead of being programmed into a silent black hole.
 */
import type { Node } from '../store/types.ts';
import { BACKENDS } from './backends/backendTable.ts';
import type { RoutingBackend } from './backends/routingBackend.ts';
import { formatPrefix, hostPrefixOf, parsePrefix } from '../common/ipPrefix.ts';
import { findOverlaps, type Overlap } from './cidrOverlaps.ts';
import { parsePeer } from './nodeAnnotations.ts';
import {
  emptyDesiredState, type LocalNode, type PeerNode, type PeerProblem, type RoutingPlan, type RoutingSettings,
} from './routingModel.ts';

export interface PlanInput {
  settings: RoutingSettings;
  local: LocalNode;
  nodes: readonly Node[];
}

function compatibility(backend: RoutingBackend, s: RoutingSettings, local: LocalNode, peer: PeerNode): PeerProblem | undefined {
  const both = `node ${peer.name} and node ${local.name}`;
  if (peer.backend === undefined) return { node: peer.name, code: 'notReady', message: `node ${peer.name} has not published its routing backend yet` };
  if (peer.backend !== s.backend) {
    return { node: peer.name, code: 'backendMismatch', message: `node ${peer.name} uses routing backend "${peer.backend}" but node ${local.name} uses "${s.backend}": pods on ${peer.name} (${peer.podCidrs.join(', ')}) are not reachable from ${local.name} until every node uses the same backend` };
  }
  if (backend.usesVxlan && peer.vni !== undefined && peer.vni !== s.vni) {
    return { node: peer.name, code: 'vniMismatch', message: `${both} disagree on the VXLAN VNI (${peer.vni} on ${peer.name}, ${s.vni} on ${local.name}): their VXLAN traffic would be dropped; give every node the same --vni` };
  }
  if (backend.usesVxlan && peer.port !== undefined && peer.port !== s.port) {
    return { node: peer.name, code: 'portMismatch', message: `${both} disagree on the VXLAN UDP port (${peer.port} on ${peer.name}, ${s.port} on ${local.name}); give every node the same --port` };
  }
  if (peer.endpointFamily !== local.endpointFamily) {
    return { node: peer.name, code: 'familyMismatch', message: `${both} have underlay addresses of different families (${peer.endpoint}, ${local.endpoint}); one tunnel device carries one family` };
  }
  return undefined;
}

function overlapProblem(o: Overlap | undefined): PeerProblem | undefined {
  return o && { node: o.node, code: 'overlappingCidr', message: `node ${o.node}'s pod CIDR ${o.cidr} overlaps ${o.other} of node ${o.otherNode}; not programmed` };
}

export function planRouting(input: PlanInput): RoutingPlan {
  const { settings, local } = input;
  const backend = BACKENDS[settings.backend];
  const podMtu = local.uplink.mtu - backend.overhead(local.endpointFamily);
  const desired = emptyDesiredState();
  desired.link = backend.device(local, settings, podMtu);
  if (desired.link) {
    const families = desired.link.kind === 'ipip' ? [4] : [4, 6];
    desired.addresses = local.podCidrs.map((c) => parsePrefix(c, { hostBits: 'clear' }))
      .filter((p) => families.includes(p.addr.family)).map((p) => formatPrefix(hostPrefixOf(p.addr)));
  }
  const problems: PeerProblem[] = [];
  const peers: string[] = [];
  const macs = new Map<string, string>([[local.vtepMac, local.name]]);
  const sorted = [...input.nodes].filter((n) => n.metadata.name !== local.name).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const parsed = sorted.map(parsePeer);
  const usable = parsed.filter((p): p is PeerNode => !('code' in p) && !compatibility(backend, settings, local, p));
  const overlaps = findOverlaps([
    ...local.podCidrs.map((cidr) => ({ node: local.name, cidr, rank: -1 })),
    ...usable.flatMap((p, rank) => p.podCidrs.map((cidr) => ({ node: p.name, cidr, rank }))),
  ]);
  for (const peer of parsed) {
    if ('code' in peer) { problems.push(peer); continue; }
    const problem = compatibility(backend, settings, local, peer) ?? overlapProblem(overlaps.get(peer.name)) ?? duplicateMac(backend, peer, macs);
    if (problem) { problems.push(problem); continue; }
    const entries = backend.peerEntries(local, peer);
    if ('code' in entries) { problems.push(entries); continue; }
    if (backend.usesVxlan && peer.vtepMac) macs.set(peer.vtepMac, peer.name);
    desired.neighbours.push(...entries.neighbours);
    desired.fdb.push(...entries.fdb);
    desired.routes.push(...entries.routes);
    problems.push(...entries.problems);
    peers.push(peer.name);
  }
  return { desired, problems, podMtu, peers };
}

function duplicateMac(backend: RoutingBackend, peer: PeerNode, macs: Map<string, string>): PeerProblem | undefined {
  if (!backend.usesVxlan || !peer.vtepMac) return undefined;
  const owner = macs.get(peer.vtepMac);
  if (owner === undefined) return undefined;
  return { node: peer.name, code: 'duplicateMac', message: `node ${peer.name} publishes VTEP MAC ${peer.vtepMac}, already used by node ${owner}; not programmed` };
}
