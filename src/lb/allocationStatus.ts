/**
 * @module lb/allocationStatus — the Service fields the allocator writes: status.loadBalancer.ingress, the
 * `metallb.io/ip-allocated-from-pool` annotation, and a condition `podnet.io/LoadBalancerAllocated` that carries
 * the failure reason and message (the event-like record a user sees with `podnetctl describe service`). Pure:
 * `withAllocation` returns the updated copy, or undefined when nothing changes (so no write happens).
 */
import type { Service } from '../store/types.ts';
import type { AllocationResult } from './allocator.ts';

export const POOL_ANNOTATION = 'metallb.io/ip-allocated-from-pool';
export const ALLOCATED_CONDITION = 'podnet.io/LoadBalancerAllocated';

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export function ingressIps(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string');
}

function conditionsOf(svc: Service): Condition[] {
  return (svc.status?.conditions ?? []) as Condition[];
}

function desiredCondition(res: AllocationResult | undefined): Condition | undefined {
  if (!res) return undefined;
  if (res.ok) return { type: ALLOCATED_CONDITION, status: 'True', reason: 'Allocated', message: `allocated from pool "${res.pool}"` };
  return { type: ALLOCATED_CONDITION, status: 'False', reason: res.reason, message: res.message };
}

/** `res` undefined = the service is no longer ours (deleted class/type change): clear everything we wrote. */
export function withAllocation(svc: Service, res: AllocationResult | undefined, now = new Date()): Service | undefined {
  const ips = res?.ok ? res.ips : [];
  const pool = res?.ok ? res.pool : undefined;
  const cond = desiredCondition(res);
  const oldCond = conditionsOf(svc).find((c) => c.type === ALLOCATED_CONDITION);
  const sameCond = cond?.status === oldCond?.status && cond?.reason === oldCond?.reason && cond?.message === oldCond?.message;
  const samePool = svc.metadata.annotations?.[POOL_ANNOTATION] === pool;
  if (ingressIps(svc).join() === ips.join() && sameCond && samePool) return undefined;
  const next = structuredClone(svc);
  next.status ??= {};
  next.status.loadBalancer = ips.length ? { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' as const })) } : {};
  const others = conditionsOf(svc).filter((c) => c.type !== ALLOCATED_CONDITION);
  const stamped = cond ? [{ ...cond, lastTransitionTime: sameCond ? oldCond?.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z') }] : [];
  next.status.conditions = [...others, ...stamped];
  const annotations = { ...(next.metadata.annotations ?? {}) };
  if (pool) annotations[POOL_ANNOTATION] = pool;
  else delete annotations[POOL_ANNOTATION];
  next.metadata.annotations = annotations;
  return next;
}

/** Whether the allocator wrote this service's LB status (so clearing it cannot erase another implementation's). */
export function carriesOurAllocation(svc: Service): boolean {
  return svc.metadata.annotations?.[POOL_ANNOTATION] !== undefined || conditionsOf(svc).some((c) => c.type === ALLOCATED_CONDITION);
}
