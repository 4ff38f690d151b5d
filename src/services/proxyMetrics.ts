/**
 * Proxy metrics with the names a kube-proxy operator already graphs, `kubeproxy_` → `podnet_`
 * (kubernetes pkg/proxy/metrics/metrics.go): sync durations (full / partial), last sync and last queued
 * timestamps, failures, and what each sync programmed.
 */
import { Registry, Histogram, Gauge, Counter } from 'prom-client';

const BUCKETS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384, 32.768, 65.536];

export class ProxyMetrics {
  readonly registry: Registry;
  readonly syncDuration: Histogram;
  readonly fullSyncDuration: Histogram;
  readonly partialSyncDuration: Histogram;
  readonly lastSync: Gauge;
  readonly lastQueued: Gauge;
  readonly failures: Counter;
  readonly chainsWritten: Counter;
  readonly elementsChanged: Counter;
  readonly driftRepairs: Counter;
  readonly conntrackDeleted: Counter;
  readonly servicePorts: Gauge;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    this.syncDuration = new Histogram({ name: 'podnet_sync_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds (full and partial)', buckets: BUCKETS, registers: r });
    this.fullSyncDuration = new Histogram({ name: 'podnet_sync_full_proxy_rules_duration_seconds', help: 'Full SyncProxyRules latency in seconds', buckets: BUCKETS, registers: r });
    this.partialSyncDuration = new Histogram({ name: 'podnet_sync_partial_proxy_rules_duration_seconds', help: 'Partial SyncProxyRules latency in seconds', buckets: BUCKETS, registers: r });
    this.lastSync = new Gauge({ name: 'podnet_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers: r });
    this.lastQueued = new Gauge({ name: 'podnet_sync_proxy_rules_last_queued_timestamp_seconds', help: 'The last time a sync of proxy rules was queued', registers: r });
    this.failures = new Counter({ name: 'podnet_sync_proxy_rules_failures_total', help: 'Syncs whose rules could not be applied', labelNames: ['mode'], registers: r });
    this.chainsWritten = new Counter({ name: 'podnet_sync_proxy_rules_chains_written_total', help: 'Chains (re)written by syncs', registers: r });
    this.elementsChanged = new Counter({ name: 'podnet_sync_proxy_rules_elements_changed_total', help: 'Map and set elements added or deleted by syncs', registers: r });
    this.driftRepairs = new Counter({ name: 'podnet_sync_proxy_rules_drift_repairs_total', help: 'Full resyncs caused by rules changed behind our back', registers: r });
    this.conntrackDeleted = new Counter({ name: 'podnet_conntrack_reconciler_deleted_entries_total', help: 'Stale UDP conntrack entries deleted', registers: r });
    this.servicePorts = new Gauge({ name: 'podnet_proxy_service_ports', help: 'Service ports (per IP family) programmed', registers: r });
  }
}
