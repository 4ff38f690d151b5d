/**
 * @module node/nodeObject — the Node object this node registers (pure): its InternalIP and Hostname addresses,
 * podnet's annotations (the contract with src/routing/nodeAnnotations.ts) and, where podnet hands out pod
 * CIDRs (file and etcd stores), spec.podCIDR(s). Fields it does not own (other annotations, labels, taints)
 * are kept. On the kube store the kubelet owns status and the controller-manager owns spec.podCIDR, so only
 * annotations are written there.
 */
import type { Node } from '../store/types.ts';

export const NODE_ANNOTATIONS = {
  vtepMac: 'podnet.io/vtep-mac',
  tunnelEndpoint: 'podnet.io/tunnel-endpoint',
  backend: 'podnet.io/backend',
  bgpAsn: 'podnet.io/bgp-asn',
} as const;

export interface NodeRegistration {
  nodeName: string;
  nodeIP: string;
  /** Every node address, primary first (dual-stack: one InternalIP per family, as the kubelet publishes). */
  nodeIPs?: string[];
  /** Set when podnet leased it (file/etcd); undefined on the kube store. */
  podCIDR?: string;
  /** Every leased pod CIDR, primary first (dual-stack: one per family); defaults to [podCIDR]. */
  podCIDRs?: string[];
  annotations: Record<string, string>;
  hostname?: string;
  /** false on the kube store: the kubelet owns status. */
  ownsStatus: boolean;
}

/** The Node to write, or undefined when `existing` already says all of it (no write, no event for watchers). */
export function desiredNode(existing: Node | undefined, reg: NodeRegistration): Node | undefined {
  const base: Node = existing ?? { apiVersion: 'v1', kind: 'Node', metadata: { name: reg.nodeName } };
  const next: Node = structuredClone(base);
  next.metadata.annotations = { ...next.metadata.annotations, ...reg.annotations };
  next.metadata.labels = { 'kubernetes.io/hostname': reg.nodeName, 'kubernetes.io/os': 'linux', ...next.metadata.labels };
  if (reg.podCIDR) next.spec = { ...next.spec, podCIDR: reg.podCIDR, podCIDRs: reg.podCIDRs ?? [reg.podCIDR] };
  if (reg.ownsStatus) {
    const internal = (reg.nodeIPs?.length ? reg.nodeIPs : [reg.nodeIP]).map((address) => ({ type: 'InternalIP' as const, address }));
    const addresses = [...internal, { type: 'Hostname' as const, address: reg.hostname ?? reg.nodeName }];
    const others = (next.status?.addresses ?? []).filter((a) => a.type !== 'InternalIP' && a.type !== 'Hostname');
    const ready = next.status?.conditions?.find((c) => c.type === 'Ready');
    next.status = {
      ...next.status,
      addresses: [...addresses, ...others],
      conditions: [
        ...(next.status?.conditions ?? []).filter((c) => c.type !== 'Ready'),
        ready?.status === 'True' ? ready : { type: 'Ready', status: 'True', reason: 'PodnetReady', message: 'podnetd registered the node', lastHeartbeatTime: new Date().toISOString() },
      ],
    };
  }
  if (existing && sameContent(existing, next)) return undefined;
  return next;
}

function sameContent(a: Node, b: Node): boolean {
  const strip = (n: Node) => JSON.stringify({ ...n, metadata: { ...n.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}
