/**
 * @module routing/routeFlags — `podnetd route` flags: the common daemon flags plus the routing ones, validated
 * before anything touches the kernel (a bad flag is a usage error naming it).
 */
import { UsageError } from '../common/cli.ts';
import { AddressError, describeError } from '../common/errors.ts';
import { parseDaemonFlags, type CommonFlags } from '../daemon/commonFlags.ts';
import { DEFAULT_NODE_STATE_FILE } from '../ipam/nodeState.ts';
import { BACKEND_NAMES, isBackendName } from './backends/backendTable.ts';
import { canonicalPrefix } from '../common/ipPrefix.ts';
import { DEFAULT_VNI, DEFAULT_VXLAN_PORT, type RoutingSettings } from './routingModel.ts';

export const ROUTE_USAGE = `usage: podnetd route [flags]
  --backend vxlan|host-gw|cross-subnet|ipip   how pods on other nodes are reached (default vxlan)
  --vni N                 VXLAN network identifier, 0-16777215 (default ${DEFAULT_VNI})
  --port N                VXLAN UDP port (default ${DEFAULT_VXLAN_PORT}, the kernel's; 4789 is IANA's)
  --cluster-cidr CIDRS    pod address range(s), comma-separated (default 10.244.0.0/16); traffic from it to
                          anywhere else is masqueraded
  --iface NAME            uplink carrying node-to-node traffic (default: the link holding the node's address)
  --no-masquerade         do not install the inet podnet-nat table
  --node-state FILE       where the pod MTU is merged in for the CNI (default ${DEFAULT_NODE_STATE_FILE})
  --resync SECONDS        full check of the kernel state this often (default 10)
  --netns NAME            manage this network namespace instead of the daemon's own (lab and tests)
common: --store --node --log-level --metrics --health`;

export interface RouteFlags {
  common: CommonFlags;
  help: boolean;
  settings: RoutingSettings;
  clusterCidrs: string[];
  iface: string | undefined;
  masquerade: boolean;
  nodeStateFile: string;
  resyncMs: number;
  netns: string | undefined;
}

function intFlag(raw: string | undefined, flag: string, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new UsageError(`--${flag}: expected an integer ${min}-${max}, got "${raw}"`);
  return n;
}

export function parseRouteFlags(argv: string[]): RouteFlags {
  const { common, values: v, help } = parseDaemonFlags(argv, {
    backend: { type: 'string' }, vni: { type: 'string' }, port: { type: 'string' }, 'cluster-cidr': { type: 'string' },
    iface: { type: 'string' }, 'no-masquerade': { type: 'boolean' }, 'node-state': { type: 'string' },
    resync: { type: 'string' }, netns: { type: 'string' },
  });
  const backend = (v.backend as string | undefined) ?? 'vxlan';
  if (!isBackendName(backend)) throw new UsageError(`--backend: unknown backend "${backend}" (one of: ${BACKEND_NAMES.join(', ')})`);
  const clusterCidrs = ((v['cluster-cidr'] as string | undefined) ?? '10.244.0.0/16').split(',').map((c) => c.trim()).filter(Boolean).map((c) => {
    try { return canonicalPrefix(c); } catch (err) { throw new UsageError(`--cluster-cidr: "${c}" is not a CIDR: ${err instanceof AddressError ? err.reason : describeError(err)}`); }
  });
  if (!clusterCidrs.length) throw new UsageError('--cluster-cidr: at least one CIDR is needed');
  return {
    common, help,
    settings: { backend, vni: intFlag(v.vni as string | undefined, 'vni', DEFAULT_VNI, 0, 0xffffff), port: intFlag(v.port as string | undefined, 'port', DEFAULT_VXLAN_PORT, 1, 65535) },
    clusterCidrs,
    iface: v.iface as string | undefined,
    masquerade: !v['no-masquerade'],
    nodeStateFile: (v['node-state'] as string | undefined) ?? DEFAULT_NODE_STATE_FILE,
    resyncMs: intFlag(v.resync as string | undefined, 'resync', 10, 1, 3600) * 1000,
    netns: v.netns as string | undefined,
  };
}
