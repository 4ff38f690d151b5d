/** Node objects and a local node for the routing unit tests. */
import type { Node } from '../../../../src/store/types.ts';
import type { LocalNode, RoutingSettings } from '../../../../src/routing/routingModel.ts';

export const VXLAN: RoutingSettings = { backend: 'vxlan', vni: 1, port: 8472 };

export function node(name: string, ip: string, podCIDR: string | string[] | undefined, annotations: Record<string, string> = {}): Node {
  const cidrs = podCIDR === undefined ? undefined : Array.isArray(podCIDR) ? podCIDR : [podCIDR];
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, annotations },
    ...(cidrs ? { spec: { podCIDR: cidrs[0], podCIDRs: cidrs } } : {}),
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

/** A fully annotated peer as a vxlan node publishes itself. */
export function vxlanPeer(name: string, ip: string, podCIDR: string | string[], mac: string, extra: Record<string, string> = {}): Node {
  return node(name, ip, podCIDR, { 'podnet.io/backend': 'vxlan', 'podnet.io/vtep-mac': mac, 'podnet.io/vni': '1', 'podnet.io/vxlan-port': '8472', ...extra });
}

export function local(overrides: Partial<LocalNode> = {}): LocalNode {
  return {
    name: 'n1', endpoint: '198.18.0.11', endpointFamily: 4,
    uplink: { name: 'eth0', index: 2, mtu: 1500, prefixLen: 24 },
    podCidrs: ['10.244.1.0/24'], vtepMac: '02:00:00:00:00:01',
    ...overrides,
  };
}
