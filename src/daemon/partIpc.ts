/**
 * @module daemon/partIpc — the messages between `podnetd agent` (the supervisor) and one part's child process,
 * over the Node IPC channel of child_process.fork. Health and metrics are request/response with an id so a reply
 * can never be taken for another request's; a child that does not reply in time counts as unresponsive.
 */
import type { Registry } from 'prom-client';
import type { HealthReport } from '../common/opsServer.ts';

/** A child's registry as `Registry.getMetricsAsJSON()` gives it: the supervisor aggregates these (AggregatorRegistry). */
export type PartMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Child → supervisor. `booted`: the process runs (before its part starts); `started`: the part's start resolved. */
export type ChildMessage =
  | { type: 'booted' }
  | { type: 'started' }
  | { type: 'startFailed'; error: string }
  | { type: 'reply'; id: number; health?: HealthReport; metrics?: PartMetrics };

/** Supervisor → child. */
export type SupervisorMessage = { type: 'request'; id: number; what: 'health' | 'metrics' };

export function isChildMessage(m: unknown): m is ChildMessage {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'booted' || t === 'started' || t === 'startFailed' || t === 'reply';
}

export function isSupervisorMessage(m: unknown): m is SupervisorMessage {
  const r = m as { type?: unknown; id?: unknown; what?: unknown } | null;
  return r?.type === 'request' && typeof r.id === 'number' && (r.what === 'health' || r.what === 'metrics');
}
