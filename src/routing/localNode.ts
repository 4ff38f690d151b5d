/**
 * @module routing/localNode — resolve this node's own routing facts: its tunnel endpoint (the
 * `podnet.io/tunnel-endpoint` annotation, else the Node's InternalIP, else the first global address of
 * `--iface`), the uplink link holding that address (its index, MTU and subnet), its pod CIDRs and VTEP MAC.
 */
import type { Rtnetlink } from '../netlink/index.ts';
import type { Node } from '../store/types.ts';
import { endpointOf, otherFamilyAddressOf, podCidrsOf } from './nodeAnnotations.ts';
import type { LocalNode } from './routingModel.ts';
import { vtepMacFor } from './nodeIdentity.ts';
import { ipFamilyOf } from '../common/ipAddress.ts';

/** LocalNode, or a sentence saying what is still missing. */
export async function resolveLocalNode(rtnl: Rtnetlink, node: Node, iface: string | undefined): Promise<LocalNode | string> {
  const podCidrs = podCidrsOf(node);
  if (!podCidrs.length) return `node ${node.metadata.name} has no pod CIDR yet (spec.podCIDR, leased by node registration)`;
  const addrs = await rtnl.addresses.list();
  const global = addrs.filter((a) => a.scope === 'universe');
  let endpoint = endpointOf(node);
  let uplinkIndex: number | undefined;
  if (iface !== undefined) {
    const link = await rtnl.links.find(iface);
    if (!link) return `--iface ${iface}: no such link in this namespace`;
    uplinkIndex = link.index;
    endpoint ??= global.find((a) => a.index === link.index)?.address;
  }
  if (!endpoint) return `node ${node.metadata.name} has no tunnel endpoint: no podnet.io/tunnel-endpoint annotation, no InternalIP, and no --iface`;
  const family = ipFamilyOf(endpoint);
  if (family !== 4 && family !== 6) return `tunnel endpoint "${endpoint}" is not an IP address`;
  const held = global.find((a) => a.address === endpoint && (uplinkIndex === undefined || a.index === uplinkIndex));
  if (!held) return `tunnel endpoint ${endpoint} is not an address of ${iface ?? 'any link'} in this namespace`;
  const link = await rtnl.links.get(held.index);
  const other = otherFamilyAddressOf(node, family);
  const otherHeld = other === undefined ? undefined : global.find((a) => a.address === other && a.index === held.index);
  return {
    name: node.metadata.name, endpoint, endpointFamily: family,
    uplink: { name: link.name, index: link.index, mtu: link.mtu ?? 1500, prefixLen: held.prefixLen },
    ...(otherHeld ? { otherFamilyAddress: { address: otherHeld.address, prefixLen: otherHeld.prefixLen } } : {}),
    podCidrs, vtepMac: vtepMacFor(node),
  };
}
