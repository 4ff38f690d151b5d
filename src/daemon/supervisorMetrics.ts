/**
 * @module daemon/supervisorMetrics — the agent's /metrics: every child's registry (its part's metrics merged with
 * its lease-loss counter) fetched over IPC and aggregated with prom-client's AggregatorRegistry, plus the
 * supervisor's own view of its children. Aggregation (not concatenation) because a metric several children
 * export — `podnet_lease_losses_total{lease}` is in every one — must appear once, summed per label set.
 */
import { AggregatorRegistry, Counter, Gauge, Registry, prometheusContentType } from 'prom-client';
import type { MetricsSource } from '../common/opsServer.ts';
import type { AgentSupervisor } from './agentSupervisor.ts';

export function supervisorMetrics(supervisor: AgentSupervisor, timeoutMs: number): MetricsSource {
  const own = new Registry();
  new Gauge({
    name: 'podnet_agent_part_up', help: 'Whether the part\'s child process is running (1) or down, waiting for its restart (0)', labelNames: ['part'] as const, registers: [own],
    collect() { for (const [part, pid] of Object.entries(supervisor.pids())) this.set({ part }, pid === undefined ? 0 : 1); },
  });
  new Counter({
    name: 'podnet_agent_part_restarts_total', help: 'Times the agent restarted a part\'s child process after it died', labelNames: ['part'] as const, registers: [own],
    collect() {
      this.reset();
      for (const [part, n] of Object.entries(supervisor.restarts())) this.inc({ part }, n);
    },
  });
  return {
    contentType: prometheusContentType,
    async metrics() {
      const children = await supervisor.metrics(timeoutMs);
      return AggregatorRegistry.aggregate([...children, await own.getMetricsAsJSON()]).metrics();
    },
  };
}
