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
import { primaryAddress, type LabHost, type LabPlan } from './addressPlan.ts';
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

/** Routing the agent can run in this lab (`bgp` needs peers the lab does not set up: not enabled). */
export function agentRoutes(plan: LabPlan): boolean {
  return ['vxlan', 'host-gw', 'cross-subnet'].includes(plan.options.routing);
}

/**
 * The `podnetd agent` config of one node: node name = the host's id (`n1`), its underlay address, the lab's
 * ranges, per-node files, a `routing` section when the lab asks for routing, and every other part: the proxy
 * (nftables, /healthz on 10256 in the node namespace), DNS on the node's address published as the endpoint of
 * kube-system/kube-dns at the cluster DNS address (no upstreams: the lab has no way out, so other names are
 * REFUSED at once instead of timing out), the L2 load balancer, and the CNI hand-off server on a per-node socket.
 */
export function agentConfigFor(plan: LabPlan, host: LabHost, store: string, files: LabNodeFiles): Record<string, unknown> {
  const c = plan.cluster;
  return {
    store,
    nodeName: host.id,
    nodeIP: primaryAddress(host),
    clusterCIDR: c.clusterCidr,
    serviceCIDR: c.serviceCidr,
    podSubnetLength: c.nodeCidrPrefixLen,
    nodeStateFile: files.nodeState,
    backend: agentBackend(plan),
    clusterDNS: c.dnsIp,
    ...(agentRoutes(plan) ? { routing: { masquerade: true } } : {}),
    proxy: { mode: 'nftables', minSyncPeriod: '100ms' },
    dns: { upstreams: 'none' },
    lb: {},
    cni: { handoffSocket: files.handoffSocket },
  };
}
