/**
 * This node as the proxy sees it: name, zone label, and the addresses NodePorts answer on.
 *
 * `nodePortAddresses` follows kube-proxy's nftables default (KEP-3866 "NodePort Addresses"): `primary` = the
 * node's first InternalIP of each family; CIDRs = the node's known addresses (Node status plus local interface
 * addresses the caller passes) inside them. Loopback never qualifies (CVE-2020-8558).
 */
import type { Node } from '../store/types.ts';
import { ConfigError } from '../common/errors.ts';
import { AddressError } from '../common/errors.ts';
import { tryParseIp } from '../common/ipAddress.ts';
import { parsePrefix, prefixContains, type IpPrefix } from '../common/ipPrefix.ts';
import { familyOf, isLoopback, LABEL_ZONE, type ProxyNodeInfo } from './serviceModel.ts';

export type NodePortAddresses = 'primary' | IpPrefix[];

export function parseNodePortAddresses(values: readonly string[], field = '--nodeport-addresses'): NodePortAddresses {
  if (values.length === 0 || (values.length === 1 && values[0] === 'primary')) return 'primary';
  return values.map((v) => {
    try {
      return parsePrefix(v, { hostBits: 'clear', bareAddress: true });
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      throw new ConfigError(`"${v}" is not a CIDR: ${err.reason} (expected e.g. 198.18.0.0/24, or "primary")`, { field });
    }
  });
}

export function proxyNodeInfo(name: string, node: Node | undefined, npa: NodePortAddresses, localAddresses: readonly string[] = []): ProxyNodeInfo {
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  const statusIPs = (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP');
  let ips: string[];
  if (npa === 'primary') {
    const internal = statusIPs.filter((a) => a.type === 'InternalIP').map((a) => a.address);
    const v4 = internal.find((ip) => familyOf(ip) === 'IPv4');
    const v6 = internal.find((ip) => familyOf(ip) === 'IPv6');
    ips = [v4, v6].filter((x): x is string => x !== undefined);
  } else {
    const all = [...new Set([...statusIPs.map((a) => a.address), ...localAddresses])];
    ips = all.filter((ip) => {
      const a = tryParseIp(ip);
      return a !== undefined && npa.some((c) => prefixContains(c, a));
    });
  }
  return { name, ...(zone ? { zone } : {}), nodePortIPs: ips.filter((ip) => !isLoopback(ip)) };
}
