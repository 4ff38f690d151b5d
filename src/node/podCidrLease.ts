/**
 * @module node/podCidrLease — lease a pod CIDR for this node, flannel-style: one store lease per subnet, taken by
 * compare-and-swap, so two nodes never hold the same subnet even when they start at the same moment. A node
 * asks for its previous subnet first (from node.json or its Node object) and gets it back after a restart,
 * because a lease already held under its own name is taken over.
 */
import type { HeldLease, Store } from '../store/store.ts';
import { LEASE_NAMESPACE } from '../store/store.ts';
import { PodnetError } from '../common/errors.ts';
import { candidateOrder, isInPool, leaseNameFor, parseClusterCidr, poolSize, poolSubnetAt } from './podCidrPool.ts';

export interface PodCidrRequest {
  nodeName: string;
  /** One family's cluster CIDR (a dual-stack node calls leasePodCidr once per family). */
  clusterCIDR: string;
  /** Prefix length of each node's subnet (24; 64 for IPv6). */
  subnetBits: number;
  ttlSeconds: number;
  /** Subnets this node held before (node.json, Node.spec.podCIDR), tried first. */
  previous?: string[];
}

export interface LeasedPodCidr {
  cidr: string;
  lease: HeldLease;
}

export class PodCidrExhaustedError extends PodnetError {
  constructor(cluster: string, bits: number) {
    super('PODNET_PODCIDR_EXHAUSTED', `no free /${bits} left in cluster CIDR ${cluster}: every subnet is leased by another node`);
  }
}

export async function leasePodCidr(store: Store, req: PodCidrRequest): Promise<LeasedPodCidr> {
  const cluster = parseClusterCidr(req.clusterCIDR, 'clusterCIDR');
  const count = poolSize(cluster, req.subnetBits);
  for (const prev of req.previous ?? []) {
    if (!isInPool(cluster, req.subnetBits, prev)) continue;
    const lease = await store.acquireLease(leaseNameFor(prev), req.nodeName, req.ttlSeconds);
    if (lease) return { cidr: prev, lease };
  }
  // Skip subnets whose lease we can already see; the acquire below is what decides races.
  const taken = new Set((await store.list('Lease', { namespace: LEASE_NAMESPACE })).items
    .filter((l) => l.spec?.holderIdentity && l.spec.holderIdentity !== req.nodeName)
    .map((l) => l.metadata.name));
  for (const pass of [true, false]) {
    for (const i of candidateOrder(count, req.nodeName)) {
      const cidr = poolSubnetAt(cluster, req.subnetBits, i);
      const name = leaseNameFor(cidr);
      if (pass && taken.has(name)) continue; // second pass retries them: some may have expired
      const lease = await store.acquireLease(name, req.nodeName, req.ttlSeconds);
      if (lease) return { cidr, lease };
    }
  }
  throw new PodCidrExhaustedError(req.clusterCIDR, req.subnetBits);
}
