/**
 * @module node/nodeAgentPart — node registration as a part of `podnetd agent`: registers the Node object, leases
 * the pod CIDR (renewed for as long as the part runs) and writes node.json. Every other part reads what this one
 * wrote, so the agent starts it first and the rest only once `start` has resolved.
 */
import type { AgentPart } from '../common/agentPart.ts';
import { NodeRegistrar } from './nodeRegistrar.ts';
import { NODE_ANNOTATIONS } from './nodeObject.ts';
import { derivedVtepMac } from '../routing/vtepMac.ts';

export function nodeAgentPart(): AgentPart {
  let reg: NodeRegistrar | undefined;
  let done = false;
  return {
    name: 'node',
    async start({ store, nodeName, config: c, logger }) {
      const annotations: Record<string, string> = {
        [NODE_ANNOTATIONS.backend]: c.backend,
        [NODE_ANNOTATIONS.tunnelEndpoint]: c.tunnelEndpoint ?? c.nodeIP,
        ...(c.backend === 'vxlan' ? { [NODE_ANNOTATIONS.vtepMac]: c.vtepMAC ?? derivedVtepMac(nodeName) } : {}),
        ...(c.bgpASN ? { [NODE_ANNOTATIONS.bgpAsn]: String(c.bgpASN) } : {}),
      };
      reg = new NodeRegistrar({
        store, nodeName, nodeIP: c.nodeIP, nodeIPs: c.nodeIPs, clusterCIDR: c.clusterCIDR, clusterCIDRs: c.clusterCIDRs, serviceCIDR: c.serviceCIDR, subnetBits: c.podSubnetLength, subnetBits6: c.podSubnetLength6,
        mtu: c.mtu, leaseTtlSeconds: c.podCIDRLeaseTTLSeconds, nodeStateFile: c.nodeStateFile, annotations, backend: c.backend,
        clusterDNS: c.clusterDNS, clusterDomain: c.clusterDomain, logger,
      });
      await reg.start();
      done = true;
    },
    async stop() { reg?.stop(); },
    healthy: () => done,
  };
}
