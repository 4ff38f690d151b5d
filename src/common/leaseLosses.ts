/**
 * @module common/leaseLosses — one counter for every lease a podnetd process holds and loses (pod CIDR leases,
 * the controller's and the LB allocator's leader leases, LB speaker liveness leases). A lease lost while the
 * cluster is steady is a bug (issue 14), so it is counted, not only logged: `podnet_lease_losses_total{lease}`.
 * The registry is per process; each process's /metrics merges it with its parts' own.
 */
import { Counter, Registry } from 'prom-client';

export const leaseLossRegistry = new Registry();

const losses = new Counter({
  name: 'podnet_lease_losses_total',
  help: 'Leases this process held and lost (expired or taken over) before it released them, by lease kind',
  labelNames: ['lease'] as const,
  registers: [leaseLossRegistry],
});

/** `lease` is the kind of lease (`pod-cidr`, `leader:<name>`, `lb-speaker`), not one object's name: bounded labels. */
export function recordLeaseLoss(lease: string): void {
  losses.inc({ lease });
}

/** Total so far in this process (tests and status output). */
export async function leaseLossCount(lease?: string): Promise<number> {
  const m = await losses.get();
  return m.values.filter((v) => lease === undefined || v.labels.lease === lease).reduce((a, v) => a + v.value, 0);
}
