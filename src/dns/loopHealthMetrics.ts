/**
 * @module dns/loopHealthMetrics — how long the answering thread's event loop was blocked, and its heap, as metrics:
 * `podnet_dns_event_loop_delay_seconds{quantile="0.99"|"max"}` since the previous scrape (perf_hooks'
 * monitorEventLoopDelay at 1 ms resolution, reset on every collect) and `podnet_dns_heap_used_bytes`.
 *
 * Why: a DNS answer is never slower than the longest stall of the loop that sends it, so this is the figure that
 * says whether store work (informer events, index updates) reaches the answering thread. prom-client's default
 * `nodejs_eventloop_lag_*` samples at 10 ms, too coarse for a 2 ms p99 target.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

export interface LoopHealth {
  /** Stop sampling (the histogram keeps a timer alive otherwise). */
  stop(): void;
}

export function registerLoopHealthMetrics(registry: Registry): LoopHealth {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  new Gauge({
    name: 'podnet_dns_event_loop_delay_seconds', help: 'Event loop delay of the answering thread since the previous scrape.',
    labelNames: ['quantile'], registers: [registry],
    collect() {
      this.set({ quantile: '0.99' }, h.count ? h.percentile(99) / 1e9 : 0);
      this.set({ quantile: 'max' }, h.count ? h.max / 1e9 : 0);
      h.reset();
    },
  });
  new Gauge({
    name: 'podnet_dns_heap_used_bytes', help: 'V8 heap in use by the answering thread.', registers: [registry],
    collect() { this.set(process.memoryUsage().heapUsed); },
  });
  return { stop: () => h.disable() };
}
