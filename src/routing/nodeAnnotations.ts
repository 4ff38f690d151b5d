/**
 * @module routing/nodeAnnotations — what a Node object tells routing about its node, and what this node
 * advertises. Keys (the contract with src/node, which registers the Node and leases its pod CIDR):
 *
 *   podnet.io/backend          vxlan | host-gw | cross-subnet | ipip
 *   podnet.io/tunnel-endpoint  underlay address peers send to (else the first InternalIP)
 *   podnet.io/vtep-mac         MAC of the node's podnet.1, persisted so a restart keeps it (flannel#1795)
 *   podnet.io/vni              VXLAN network identifier (written by routing)
 *   podnet.io/vxlan-port       VXLAN UDP port (written by routing)
 *
 * Pure: Node in, PeerNode or a reason out.
 */
import type { Node } from '../store/types.ts';
import { canonicalPrefix } from '../common/ipPrefix.ts';
import type { PeerNode, PeerProblem, RoutingSettings } from './routingModel.ts';
import { ipFamilyOf } from '../common/ipAddress.ts';

export const ANNOTATION = {
  backend: 'podnet.io/backend',
  tunnelEndpoint: 'podnet.io/tunnel-endpoint',
  vtepMac: 'podnet.io/vtep-mac',
  vni: 'podnet.io/vni',
  port: 'podnet.io/vxlan-port',
} as const;

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function podCidrsOf(node: Node): string[] {
  const list = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return list.map((c) => canonicalPrefix(c));
}

/** The address peers reach the node at: the annotation, else its first InternalIP. */
export function endpointOf(node: Node): string | undefined {
  const annotated = node.metadata.annotations?.[ANNOTATION.tunnelEndpoint];
  if (annotated) return annotated;
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

function optionalInt(node: Node, key: string): number | undefined | PeerProblem {
  const raw = node.metadata.annotations?.[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    return { node: node.metadata.name, code: 'badAnnotation', message: `node ${node.metadata.name}: annotation ${key}="${raw}" is not a non-negative integer` };
  }
  return n;
}

const isProblem = (v: unknown): v is PeerProblem => typeof v === 'object' && v !== null && 'code' in v;

// Informers hand out the same object until the Node changes, so a re-plan over 1,000 nodes parses only the new one.
const parsed = new WeakMap<Node, PeerNode | PeerProblem>();

/** Parse a remote Node; a problem when it cannot be used (yet). Results are cached per object (do not mutate). */
export function parsePeer(node: Node): PeerNode | PeerProblem {
  let result = parsed.get(node);
  if (!result) parsed.set(node, (result = parseUncached(node)));
  return result;
}

function parseUncached(node: Node): PeerNode | PeerProblem {
  const name = node.metadata.name;
  const ann = node.metadata.annotations ?? {};
  let podCidrs: string[];
  try {
    podCidrs = podCidrsOf(node);
  } catch {
    return { node: name, code: 'badAnnotation', message: `node ${name}: spec.podCIDR(s) ${JSON.stringify(node.spec?.podCIDRs ?? node.spec?.podCIDR)} is not a CIDR` };
  }
  const endpoint = endpointOf(node);
  if (podCidrs.length === 0 || !endpoint) {
    return { node: name, code: 'notReady', message: `node ${name} has no ${podCidrs.length === 0 ? 'pod CIDR' : 'tunnel endpoint or InternalIP'} yet` };
  }
  const family = ipFamilyOf(endpoint);
  if (family !== 4 && family !== 6) {
    return { node: name, code: 'badAnnotation', message: `node ${name}: tunnel endpoint "${endpoint}" is not an IP address` };
  }
  const mac = ann[ANNOTATION.vtepMac]?.toLowerCase();
  if (mac !== undefined && !MAC.test(mac)) {
    return { node: name, code: 'badAnnotation', message: `node ${name}: annotation ${ANNOTATION.vtepMac}="${mac}" is not a MAC address` };
  }
  const vni = optionalInt(node, ANNOTATION.vni);
  const port = optionalInt(node, ANNOTATION.port);
  if (isProblem(vni)) return vni;
  if (isProblem(port)) return port;
  const other = otherFamilyAddressOf(node, family);
  return { name, endpoint, endpointFamily: family, ...(other ? { otherFamilyAddress: other } : {}), podCidrs,
    backend: ann[ANNOTATION.backend], vni, port, vtepMac: mac };
}

/** The node's first InternalIP of the family other than `family` (a dual-stack node publishes one of each). */
export function otherFamilyAddressOf(node: Node, family: 4 | 6): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP' && ipFamilyOf(a.address) === (family === 4 ? 6 : 4))?.address;
}

/** The annotations this node publishes for its peers. */
export function identityAnnotations(settings: RoutingSettings, endpoint: string, vtepMac: string | undefined): Record<string, string> {
  const out: Record<string, string> = { [ANNOTATION.backend]: settings.backend, [ANNOTATION.tunnelEndpoint]: endpoint };
  // Only the VXLAN-carrying backends have a VTEP; host-gw and ipip peers need nothing but the endpoint.
  if (settings.backend === 'vxlan' || settings.backend === 'cross-subnet') {
    if (vtepMac) out[ANNOTATION.vtepMac] = vtepMac;
    out[ANNOTATION.vni] = String(settings.vni);
    out[ANNOTATION.port] = String(settings.port);
  }
  return out;
}
