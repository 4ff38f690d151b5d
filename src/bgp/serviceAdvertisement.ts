/**
 * @module bgp/serviceAdvertisement — which service addresses this node announces over BGP (pure), from the same
 * service model the proxy compiles (src/services/serviceModel.ts), so both agree on what "a ready local endpoint"
 * means:
 *
 * - `serviceClusterIPs`: the service range as one prefix from every node (Calico's serviceClusterIPs); the
 *   fabric spreads ClusterIP traffic over all nodes by ECMP and each node's proxy handles it.
 * - `externalIPs` / `loadBalancerIPs`: one /32 (/128) per address. With externalTrafficPolicy Local only from
 *   nodes with a ready local endpoint (a node without one would drop the traffic: calico, MetalLB, kube-router
 *   all do this); with Cluster from every node.
 *
 * Rejected: aggregating LB IPs into their pool's CIDR (MetalLB's aggregationLength): Local policy needs per-IP
 * withdrawal, and pools are not the agent's to know.
 */
import { canonicalPrefix } from './bgpPrefix.ts';
import type { BgpAdvertise } from './bgpAgentConfig.ts';
import type { LocalRoute } from './ribImport.ts';
import type { ServicePortView } from '../services/serviceModel.ts';

function hostPrefix(ip: string): string | null {
  return canonicalPrefix(`${ip}/${ip.includes(':') ? 128 : 32}`);
}

/** The prefixes to originate for services, sorted, each once. */
export function serviceRoutes(input: { advertise: BgpAdvertise; serviceCidrs: string[]; ports: readonly ServicePortView[] }): LocalRoute[] {
  const { advertise: a } = input;
  const out = new Set<string>();
  if (a.serviceClusterIPs) for (const c of input.serviceCidrs) { const p = canonicalPrefix(c); if (p) out.add(p); }
  if (a.externalIPs || a.loadBalancerIPs) {
    for (const v of input.ports) {
      // Several ports share an address: announced when any of its ports may be served from this node.
      if (v.externalLocal && v.localReadyCount === 0) continue;
      const ips = [...(a.externalIPs ? v.externalIPs : []), ...(a.loadBalancerIPs ? v.loadBalancerIPs : [])];
      for (const ip of ips) { const p = hostPrefix(ip); if (p) out.add(p); }
    }
  }
  return [...out].sort().map((prefix) => ({ prefix }));
}
