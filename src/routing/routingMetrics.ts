/**
 * @module routing/routingMetrics — Prometheus metrics of the routing part: peers programmed, peers with
 * problems by reason, kernel operations by kind, passes by outcome and their duration.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApplyReport } from './routingApplier.ts';
import type { RoutingPlan } from './routingModel.ts';

export class RoutingMetrics {
  readonly registry = new Registry();
  readonly #peers = new Gauge({ name: 'podnet_routing_peers', help: 'Remote nodes whose pod CIDRs are programmed', registers: [this.registry] });
  readonly #problems = new Gauge({ name: 'podnet_routing_peer_problems', help: 'Remote nodes not programmed, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly #ops = new Counter({ name: 'podnet_routing_kernel_ops_total', help: 'Kernel changes made, by operation', labelNames: ['op'], registers: [this.registry] });
  readonly #passes = new Counter({ name: 'podnet_routing_passes_total', help: 'Reconcile passes that changed the kernel, by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly #duration = new Histogram({ name: 'podnet_routing_pass_seconds', help: 'Duration of reconcile passes that changed the kernel', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });

  plan(p: RoutingPlan): void {
    this.#peers.set(p.peers.length);
    this.#problems.reset();
    for (const pr of p.problems) this.#problems.inc({ reason: pr.code });
  }

  applied(r: ApplyReport): void {
    if (!r.ops && !r.errors.length) return;
    for (const [op, n] of Object.entries(r.counts)) this.#ops.inc({ op }, n);
    this.#passes.inc({ outcome: r.errors.length ? 'failed' : 'ok' });
    this.#duration.observe(r.ms / 1000);
  }
}
