/**
 * Which endpoints a node uses for one service port: the ready → serving-terminating fallback, traffic policies
 * and topology (hints / trafficDistribution). Mirrors kube-proxy's `CategorizeEndpoints` and
 * `topologyModeFromHints` (kubernetes/kubernetes pkg/proxy/topology.go) so the same Service behaves the same here.
 */

export interface EndpointInfo {
  ip: string;
  port: number;
  nodeName: string | undefined;
  zone: string | undefined;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node: its traffic never leaves the node (Local policies). */
  isLocal: boolean;
  zoneHints: readonly string[];
  nodeHints: readonly string[];
}

export interface TopologyNode {
  name: string;
  zone: string | undefined;
}

export interface PolicyInput {
  /** Internal traffic (ClusterIP) uses cluster-wide endpoints (internalTrafficPolicy != Local). */
  internalLocal: boolean;
  /** External traffic (NodePort, LB, externalIPs) uses local endpoints only (externalTrafficPolicy Local). */
  externalLocal: boolean;
  /** The port has a NodePort, externalIP or LB IP: only then does the external policy matter. */
  externallyAccessible: boolean;
}

export interface CategorizedEndpoints {
  /** Endpoints for traffic with a Cluster policy (topology applied), or [] when no policy uses them. */
  cluster: EndpointInfo[];
  /** Endpoints on this node for traffic with a Local policy, or [] when no policy uses them. */
  local: EndpointInfo[];
  /** Some usable endpoint exists anywhere: tells "reject" (none at all) from "drop" (none on this node). */
  hasAnyEndpoints: boolean;
  /** Why topology was (not) applied, for logs: '' = no topology, 'node' or 'zone'. */
  topologyMode: TopologyMode;
}

export type TopologyMode = '' | 'node' | 'zone';

/** Ready endpoints decide the topology mode: it is only used when every ready endpoint carries hints. */
export function topologyModeFromHints(endpoints: readonly EndpointInfo[], node: TopologyNode): TopologyMode {
  let allNodeHints = true;
  let allZoneHints = true;
  let forNode = false;
  let forZone = false;
  let anyReady = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    anyReady = true;
    if (ep.nodeHints.length === 0) allNodeHints = false;
    else if (ep.nodeHints.includes(node.name)) forNode = true;
    if (ep.zoneHints.length === 0) allZoneHints = false;
    else if (node.zone !== undefined && ep.zoneHints.includes(node.zone)) forZone = true;
  }
  if (!anyReady) return '';
  if (allNodeHints && forNode) return 'node';
  if (allZoneHints && forZone) return 'zone';
  return '';
}

function availableForTopology(ep: EndpointInfo, mode: TopologyMode, node: TopologyNode): boolean {
  if (mode === 'node') return ep.nodeHints.includes(node.name);
  if (mode === 'zone') return node.zone !== undefined && ep.zoneHints.includes(node.zone);
  return true;
}

function clusterEndpoints(endpoints: readonly EndpointInfo[], mode: TopologyMode, node: TopologyNode): EndpointInfo[] {
  const ready = endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, node));
  if (ready.length > 0) return ready;
  // No ready endpoint anywhere (topology is already off when none is ready for this node): fall back to
  // serving-terminating ones, so a rolling update does not black-hole traffic (KEP-1669).
  return endpoints.filter((ep) => ep.serving && ep.terminating && availableForTopology(ep, mode, node));
}

function localEndpoints(endpoints: readonly EndpointInfo[]): EndpointInfo[] {
  const localReady = endpoints.filter((ep) => ep.isLocal && ep.ready);
  if (localReady.length > 0) return localReady;
  return endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
}

export function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  policy: PolicyInput,
  node: TopologyNode,
): CategorizedEndpoints {
  const usesCluster = !policy.internalLocal || (policy.externallyAccessible && !policy.externalLocal);
  const usesLocal = policy.internalLocal || policy.externalLocal;
  const mode = usesCluster ? topologyModeFromHints(endpoints, node) : '';
  const cluster = usesCluster ? clusterEndpoints(endpoints, mode, node) : [];
  const local = usesLocal ? localEndpoints(endpoints) : [];
  const hasAnyEndpoints = cluster.length > 0 || endpoints.some((ep) => ep.ready || (ep.serving && ep.terminating));
  return { cluster, local, hasAnyEndpoints, topologyMode: mode };
}
