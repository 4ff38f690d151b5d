/**
 * @module lab/labNodeFiles — where each lab node keeps what a real node keeps in /etc and /run, and the podnetd
 * agent config that points there. Pure.
 *
 * The lab runs several nodes on one filesystem, so every per-node path lives under `<labdir>/nodes/<id>/`:
 *   podnetd.json           the agent config (`podnetd agent --config`)
 *   node.json              podnetd's node state (pod CIDR, MTU) — what the CNI plugin reads (/run/podnet/node.json)
 *   net.d/10-podnet.conflist   the CNI config (/etc/cni/net.d)
 *   networks/              IPAM leases (/var/lib/cni/networks)
 *   kubelet/               the lab kubelet's record of the pods it runs on this node
 *   cni.sock               podnetd's CNI hand-off socket (/run/podnet/cni.sock)
 *   cni-bin/podnet         the hand-off shim compiled for that socket, first in the node's CNI_PATH
 * The CNI binaries are the same for every node: one install in `<labdir>/cni/bin` (/opt/cni/bin).
 */
import { join } from 'node:path';
import { clusterCidrsOf, primaryAddress, primaryAddress6, serviceCidrsOf, type LabHost, type LabPlan } from './addressPlan.ts';
import type { LabPaths } from './labState.ts';

export const CONFLIST_FILE = '10-podnet.conflist';
/** Debian's containernetworking-plugins (portmap, bandwidth, tuning...), searched after our own bin dir. */
export const REFERENCE_PLUGIN_DIR = '/usr/lib/cni';

export interface LabNodeFiles {
  dir: string;
  agentConfig: string;
  nodeState: string;
  confDir: string;
  conflist: string;
  ipamDataDir: string;
  kubeletDir: string;
  /** podnetd's CNI hand-off socket (/run/podnet/cni.sock on a real node). */
  handoffSocket: string;
  /** This node's own CNI executables: the hand-off shim compiled for handoffSocket (labCniShim.ts). */
  shimDir: string;
}

export function nodeFiles(paths: LabPaths, nodeId: string): LabNodeFiles {
  const dir = join(paths.dir, 'nodes', nodeId);
  const confDir = join(dir, 'net.d');
  return {
    dir, agentConfig: join(dir, 'podnetd.json'), nodeState: join(dir, 'node.json'), confDir,
    conflist: join(confDir, CONFLIST_FILE), ipamDataDir: join(dir, 'networks'), kubeletDir: join(dir, 'kubelet'),
    handoffSocket: join(dir, 'cni.sock'), shimDir: join(dir, 'cni-bin'),
  };
}

export function cniBinDir(paths: LabPaths): string {
  return join(paths.dir, 'cni', 'bin');
}

/** CNI_PATH for the lab's nodes: the node's hand-off shim (when given), our plugins, then the reference plugins. */
export function cniPath(paths: LabPaths, node?: LabNodeFiles): string {
  return [...(node ? [node.shimDir] : []), cniBinDir(paths), REFERENCE_PLUGIN_DIR].join(':');
}

/** The agent's backend: the lab's routing, or vxlan (the agent's default) when the lab runs no routing. */
export function agentBackend(plan: LabPlan): string {
  const r = plan.options.routing;
  return r === 'none' ? 'vxlan' : r;
}

/** Routing the agent can run in this lab (every backend but `none`; bgp peers the nodes in a full mesh). */
export function agentRoutes(plan: LabPlan): boolean {
  return ['vxlan', 'host-gw', 'cross-subnet', 'bgp'].includes(plan.options.routing);
}

/** The cluster AS of a `--routing bgp` lab (Calico's and kube-router's default private AS). */
export const LAB_BGP_ASN = 64512;

/**
 * The agent's `bgp` settings in a `--routing bgp` lab: an iBGP full mesh among the nodes by default; `bgp` fields
 * (a test's route-reflector mode, BFD timers...) override it. External peers (a top-of-rack in the fabric
 * namespace) are BGPPeer objects in the store, not config.
 */
function bgpSettings(plan: LabPlan, bgp: Record<string, unknown>): Record<string, unknown> {
  if (plan.options.routing !== 'bgp') return {};
  return { bgpASN: LAB_BGP_ASN, bgp: { mode: 'full-mesh', ...bgp } };
}

/**
 * The `podnetd agent` config of one node: node name = the host's id (`n1`), its underlay address, the lab's
 * ranges, per-node files, a `routing` section when the lab asks for routing, and every other part: the proxy
 * (nftables, /healthz on 10256 in the node namespace), DNS on the node's address published as the endpoint of
 * kube-system/kube-dns at the cluster DNS address (no upstreams: the lab has no way out, so other names are
 * REFUSED at once instead of timing out; `dns` fields override that section, e.g. a test's upstreams or pod mode),
 * the L2 load balancer, and the CNI hand-off server on a per-node socket. With `--routing bgp`: `bgpASN` and a
 * `bgp` section (full mesh unless `bgp` fields say otherwise).
 */
export function agentConfigFor(plan: LabPlan, host: LabHost, store: string, files: LabNodeFiles,
  dns: Record<string, unknown> = {}, bgp: Record<string, unknown> = {}): Record<string, unknown> {
  const c = plan.cluster;
  return {
    store,
    nodeName: host.id,
    nodeIP: `${primaryAddress(host)},${primaryAddress6(host)}`,
    // Dual-stack as Kubernetes' flags spell it: comma lists, IPv4 first.
    clusterCIDR: clusterCidrsOf(c).join(','),
    serviceCIDR: serviceCidrsOf(c).join(','),
    podSubnetLength: c.nodeCidrPrefixLen,
    ...(c.nodeCidrPrefixLen6 ? { podSubnetLength6: c.nodeCidrPrefixLen6 } : {}),
    nodeStateFile: files.nodeState,
    backend: agentBackend(plan),
    clusterDNS: c.dnsIp,
    ...(agentRoutes(plan) ? { routing: { masquerade: true } } : {}),
    ...bgpSettings(plan, bgp),
    proxy: { mode: plan.options.proxyMode ?? 'nftables', minSyncPeriod: '100ms', syncPeriod: '10s',
      ...(c.clusterCidr6 ? { clusterCIDRs: clusterCidrsOf(c) } : {}) },
    dns: { upstreams: 'none', ...dns },
    lb: {},
    cni: { handoffSocket: files.handoffSocket },
  };
}
