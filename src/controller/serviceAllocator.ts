/**
 * @module controller/serviceAllocator — what an API server allocates for Services, where there is none (file and
 * etcd stores): `spec.clusterIP(s)` from the service CIDRs and `nodePort`s from 30000-32767. Pure: all Services
 * in, the allocations to write and the problems to log out.
 *
 * Dual-stack: one pool per service CIDR (the API server's `--service-cluster-ip-range=IPv4,IPv6`); which families
 * a Service gets follows its ipFamilyPolicy/ipFamilies (ipFamilyPolicy.ts), `clusterIPs` in family order, primary
 * first, `clusterIP` = `clusterIPs[0]`. A PreferDualStack Service that has only its primary address gets the
 * secondary one added (the upgrade Kubernetes allows); nothing is ever removed.
 *
 * Explicit values are honoured; a value another Service already holds is a clash: the older Service keeps it and
 * the newer one is reported by name and left unallocated. The first address (network), the second (the
 * `kubernetes` Service's by convention), the last, and the DNS address (10.96.0.10 by default) are never handed
 * out dynamically, only when asked for explicitly. Dynamic addresses come from above the static band (the lowest
 * 1/16 of the range, at least 16 and at most 256 addresses), as Kubernetes does since 1.27, so explicit
 * low addresses stay free.
 */
import type { IPFamily, Service } from '../store/types.ts';
import type { AllocatorConfig } from './servicePools.ts';
import type { IpFamilyPolicy } from './ipFamilyPolicy.ts';
import { AllocationLedger } from './allocationLedger.ts';
import { serviceKey } from './servicePools.ts';

export { servicePools, type AllocatorConfig, type Pool } from './servicePools.ts';

export interface Allocation {
  namespace: string;
  name: string;
  /** The primary clusterIP, when this allocation sets the Service's addresses. */
  clusterIP?: string;
  /** The complete clusterIPs (explicit ones kept, new ones appended), with the families and policy they follow. */
  clusterIPs?: string[];
  ipFamilies?: IPFamily[];
  ipFamilyPolicy?: IpFamilyPolicy;
  /** port index → node port */
  nodePorts: Map<number, number>;
}

export interface AllocationPlan {
  allocations: Allocation[];
  problems: string[];
}

/**
 * Every allocation `services` need, all at once: every explicit value is recorded first, then Services are
 * planned oldest first, so the older one keeps a clashing value and dynamic values avoid every explicit one.
 * The controller does the same incrementally with one AllocationLedger kept across events.
 */
export function planServiceAllocations(services: readonly Service[], cfg: AllocatorConfig): AllocationPlan {
  const ledger = new AllocationLedger(cfg);
  for (const s of services) ledger.observe(s);
  const ordered = [...services].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || serviceKey(a).localeCompare(serviceKey(b)));
  const plans = ordered.map((s) => ledger.plan(serviceKey(s)));
  return {
    allocations: plans.flatMap((p) => (p.allocation ? [p.allocation] : [])),
    problems: [...plans.flatMap((p) => p.claimProblems), ...plans.flatMap((p) => p.allocProblems)],
  };
}
