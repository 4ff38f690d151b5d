/**
 * @module services/proxyRunner — when to sync: store events → debounced syncs (minSyncPeriod, start to start,
 * like kube-proxy's BoundedFrequencyRunner), a drift check every `syncPeriod`, a full resync at least every
 * `fullSyncPeriod`, conntrack cleanup after each successful sync, and the health verdict for /healthz.
 * Never throws out of the loop: a failed sync is logged, counted, makes /healthz 503 and the next sync full.
 */
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import type { HealthReport } from '../common/opsServer.ts';
import type { ProxyBackend } from './backend.ts';
import type { ServiceModel } from './serviceModel.ts';
import type { ProxyMetrics } from './proxyMetrics.ts';
import { planConntrackCleanup, applyConntrackCleanup } from './conntrackCleanup.ts';

export interface ProxyRunnerOptions {
  backend: ProxyBackend;
  /** Compile the current model from the informer caches (called once per sync). */
  model: () => ServiceModel;
  metrics: ProxyMetrics;
  logger: Logger;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  fullSyncPeriodMs: number;
  /** /healthz turns 503 when a queued change waits longer than this (kube-proxy: 2 × syncPeriod). */
  healthTimeoutMs: number;
  conntrack: boolean;
  netns?: string;
  /** Called after each successful sync with the model (health-check node ports, etc.). */
  afterSync?: (model: ServiceModel) => void;
}

export class ProxyRunner {
  #o: ProxyRunnerOptions;
  #committed: ServiceModel | null = null;
  #lastStart = 0;
  #lastSuccess = 0;
  #lastFull = 0;
  #queuedAt = 0;
  #failing = false;
  #running: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #driftTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  syncs = 0;

  constructor(opts: ProxyRunnerOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#driftTimer = setInterval(() => void this.#checkDrift(), this.#o.syncPeriodMs);
    this.#driftTimer.unref();
    this.trigger();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#driftTimer);
  }

  /** A store event: sync soon, at most once per minSyncPeriod. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#queuedAt === 0) {
      this.#queuedAt = Date.now();
      this.#o.metrics.lastQueued.set(this.#queuedAt / 1000);
    }
    if (this.#timer || this.#running) return;
    const wait = Math.max(0, this.#lastStart + this.#o.minSyncPeriodMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, wait);
  }

  /** Wait for the sync in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running || this.#timer) await (this.#running ?? new Promise((r) => setTimeout(r, 5)));
  }

  async #run(): Promise<void> {
    this.#running = this.#syncOnce();
    await this.#running;
    this.#running = null;
    if (this.#queuedAt !== 0) this.trigger(); // changes arrived during the sync
  }

  async #syncOnce(): Promise<void> {
    this.#lastStart = Date.now();
    const queued = this.#queuedAt;
    this.#queuedAt = 0;
    const full = this.#lastFull === 0 || Date.now() - this.#lastFull >= this.#o.fullSyncPeriodMs;
    const t0 = performance.now();
    try {
      const model = this.#o.model();
      const r = await this.#o.backend.sync(model, { full });
      const secs = (performance.now() - t0) / 1000;
      this.#record(r.kind, secs, r.chainsWritten, r.elementsChanged, model);
      if (r.kind === 'full') this.#lastFull = Date.now();
      if (this.#o.conntrack) await this.#cleanConntrack(model);
      this.#committed = model;
      this.#o.afterSync?.(model);
    } catch (err) {
      this.#failing = true;
      if (this.#queuedAt === 0) this.#queuedAt = queued || Date.now();
      this.#lastFull = 0;
      this.#o.metrics.failures.inc({ mode: this.#o.backend.mode });
      this.#o.logger.error({ op: 'sync', err: describeError(err) }, 'syncing proxy rules failed; retrying with a full sync');
    }
  }

  #record(kind: string, secs: number, chains: number, elements: number, model: ServiceModel): void {
    const m = this.#o.metrics;
    this.syncs++;
    this.#failing = false;
    this.#lastSuccess = Date.now();
    m.lastSync.set(this.#lastSuccess / 1000);
    m.syncDuration.observe(secs);
    (kind === 'full' ? m.fullSyncDuration : m.partialSyncDuration).observe(secs);
    m.chainsWritten.inc(chains);
    m.elementsChanged.inc(elements);
    m.servicePorts.set(model.ports.length);
    this.#o.logger.debug({ op: 'sync', kind, seconds: secs, chains, elements }, 'proxy rules synced');
  }

  async #cleanConntrack(model: ServiceModel): Promise<void> {
    const r = await applyConntrackCleanup(planConntrackCleanup(this.#committed, model), this.#o.netns ? { netns: this.#o.netns } : {});
    this.#o.metrics.conntrackDeleted.inc(r.deleted);
    for (const e of r.errors) this.#o.logger.warn({ op: 'conntrack', err: e }, 'deleting stale UDP conntrack entries failed');
  }

  async #checkDrift(): Promise<void> {
    if (this.#running || this.#stopped) return;
    try {
      if (await this.#o.backend.driftDetected()) {
        this.#o.metrics.driftRepairs.inc();
        this.#o.logger.warn({ op: 'driftCheck', event: 'rulesChanged' }, 'proxy rules were changed behind our back; resyncing in full');
        this.#lastFull = 0;
        this.trigger();
      }
    } catch (err) {
      this.#o.logger.warn({ op: 'driftCheck', err: describeError(err) }, 'drift check failed');
    }
  }

  /** kube-proxy's rule: healthy unless a sync failed, or a queued change has waited longer than healthTimeout. */
  health(): HealthReport {
    const now = Date.now();
    const stale = this.#queuedAt !== 0 && now - this.#queuedAt > this.#o.healthTimeoutMs;
    const healthy = !this.#failing && !stale && this.#lastSuccess > 0;
    return {
      healthy,
      detail: {
        lastUpdated: this.#lastSuccess ? new Date(this.#lastSuccess).toISOString() : null,
        currentTime: new Date(now).toISOString(),
        failing: this.#failing,
        mode: this.#o.backend.mode,
      },
    };
  }
}
