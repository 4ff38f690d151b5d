/**
 * @module lb/allocController — the LB address allocator as a store controller: exactly one runs at a time (the
 * holder of the `podnet-lb-allocator` store lease), keeps an Allocator (lb/allocator.ts) in memory and writes each
 * LoadBalancer Service's status. On becoming leader it first adopts every address already written in a status
 * (oldest service first), so a new leader never hands out an address the previous one gave away; then it
 * reconciles every service. One serial loop: triggers only mark keys dirty, so concurrent events never race.
 * Failures (exhausted pool, unknown pool, address in use...) become a log line naming pool and service, a
 * `podnet.io/LoadBalancerAllocated=False` condition on the Service, and a record in `recentEvents()`.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { LeaderElector } from '../controller/leaderElector.ts';
import { Informer } from '../store/informer.ts';
import { retryUpdate, type Store } from '../store/store.ts';
import { objectKey, type Service } from '../store/types.ts';
import { adoptHolding, Allocator, type AllocationResult } from './allocator.ts';
import { carriesOurAllocation, ingressIps, withAllocation } from './allocationStatus.ts';
import type { LbMetrics } from './lbMetrics.ts';
import { compileLbConfig, type LbConfig } from './pools.ts';
import { allocationRequestOf, wantsLoadBalancer } from './serviceRequest.ts';

export const ALLOCATOR_LEASE = 'podnet-lb-allocator';

export interface AllocationEvent {
  time: string;
  service: string;
  pool: string | undefined;
  reason: string;
  message: string;
}

export interface LbInformers {
  services: Informer<'Service'>;
  pools: Informer<'IPAddressPool'>;
  advertisements: Informer<'L2Advertisement'>;
  configMaps: Informer<'ConfigMap'>;
  namespaces: Informer<'Namespace'>;
}

export function startLbInformers(store: Store, logger: Logger = silentLogger): LbInformers {
  const opts = { logger, resyncMs: 30_000 };
  return {
    services: new Informer(store, 'Service', opts).start(),
    pools: new Informer(store, 'IPAddressPool', opts).start(),
    advertisements: new Informer(store, 'L2Advertisement', opts).start(),
    configMaps: new Informer(store, 'ConfigMap', { ...opts, namespace: 'metallb-system' }).start(),
    namespaces: new Informer(store, 'Namespace', opts).start(),
  };
}

export function stopLbInformers(inf: LbInformers): void {
  for (const i of Object.values(inf)) (i as Informer<'Service'>).stop();
}

export function configFromInformers(inf: LbInformers): LbConfig {
  return compileLbConfig({ pools: inf.pools.list(), advertisements: inf.advertisements.list(), configMaps: inf.configMaps.list() });
}

export interface AllocControllerOptions {
  store: Store;
  informers: LbInformers;
  identity: string;
  logger?: Logger;
  metrics?: LbMetrics;
  leaseTtlSeconds?: number;
}

export class AllocController {
  #o: AllocControllerOptions;
  #log: Logger;
  #alloc: Allocator;
  #elector: LeaderElector;
  #leading = false;
  #dirty = new Set<string>();
  #all = false;
  #running: Promise<void> | undefined;
  #events: AllocationEvent[] = [];
  #unsubscribe: Array<() => void> = [];
  #reportedProblems = new Set<string>();

  constructor(o: AllocControllerOptions) {
    this.#o = o;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'lb-allocator' });
    this.#alloc = new Allocator((ns) => o.informers.namespaces.get(ns)?.metadata.labels ?? {});
    this.#elector = new LeaderElector({
      store: o.store, leaseName: ALLOCATOR_LEASE, identity: o.identity, ttlSeconds: o.leaseTtlSeconds ?? 6, logger: o.logger,
      onStartedLeading: () => { this.#leading = true; this.#markAll(); },
      onStoppedLeading: () => { this.#leading = false; },
    });
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The last failures, newest last (bounded). */
  recentEvents(): AllocationEvent[] {
    return [...this.#events];
  }

  start(): void {
    const i = this.#o.informers;
    this.#unsubscribe.push(i.services.on({
      add: (s) => this.#mark(objectKey(s)), update: (_o, s) => this.#mark(objectKey(s)), delete: (s) => this.#mark(objectKey(s)),
    }));
    for (const inf of [i.pools, i.advertisements, i.configMaps, i.namespaces] as Array<Informer<'ConfigMap'>>) {
      this.#unsubscribe.push(inf.on({ add: () => this.#markAll(), update: (a, b) => { if (a !== b) this.#markAll(); }, delete: () => this.#markAll() }));
    }
    this.#elector.start();
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    await this.#elector.stop();
    await this.#running;
  }

  /** Resolves when no work is pending (tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #mark(key: string): void {
    this.#dirty.add(key);
    this.#kick();
  }

  #markAll(): void {
    this.#all = true;
    this.#kick();
  }

  #kick(): void {
    if (!this.#leading || this.#running) return;
    this.#running = this.#drain().finally(() => { this.#running = undefined; if (this.#leading && (this.#all || this.#dirty.size)) this.#kick(); });
  }

  async #drain(): Promise<void> {
    const inf = this.#o.informers;
    await Promise.all([inf.services.synced(), inf.pools.synced(), inf.advertisements.synced(), inf.configMaps.synced(), inf.namespaces.synced()]);
    while (this.#leading && (this.#all || this.#dirty.size)) {
      if (this.#all) {
        this.#all = false;
        this.#dirty.clear();
        this.#rebuild();
        for (const s of this.#ordered()) await this.#reconcile(objectKey(s));
        continue;
      }
      const key = this.#dirty.values().next().value as string;
      this.#dirty.delete(key);
      await this.#reconcile(key);
    }
  }

  #ordered(): Service[] {
    const ts = (s: Service) => s.metadata.creationTimestamp ?? '';
    return this.#o.informers.services.list().filter(wantsLoadBalancer)
      .sort((a, b) => ts(a).localeCompare(ts(b)) || objectKey(a).localeCompare(objectKey(b)));
  }

  /** New config or new leadership: start from the statuses as written, oldest service first. */
  #rebuild(): void {
    const config = configFromInformers(this.#o.informers);
    this.#reportProblems(config);
    this.#alloc = new Allocator((ns) => this.#o.informers.namespaces.get(ns)?.metadata.labels ?? {});
    this.#alloc.setConfig(config);
    for (const s of this.#ordered()) adoptHolding(this.#alloc, allocationRequestOf(s), ingressIps(s));
  }

  #reportProblems(config: LbConfig): void {
    for (const p of config.problems) {
      const line = `${p.object}: ${p.field}: ${p.message}`;
      if (this.#reportedProblems.has(line)) continue;
      this.#reportedProblems.add(line);
      this.#log.warn({ event: 'poolMisconfigured', object: p.object, field: p.field }, line);
    }
  }

  async #reconcile(key: string): Promise<void> {
    const svc = this.#o.informers.services.get(key);
    if (!svc || !wantsLoadBalancer(svc)) {
      const had = this.#alloc.holding(key);
      this.#alloc.release(key);
      if (had) this.#log.info({ event: 'ipReleased', service: key, ips: had.ips, pool: had.pool }, `released ${had.ips.join(', ')} of ${key}`);
      // Clear only what we wrote: a Service of another loadBalancerClass has its own controller's status.
      if (svc && carriesOurAllocation(svc)) await this.#write(svc, undefined);
      return;
    }
    const res = this.#alloc.allocate(allocationRequestOf(svc));
    if (res.ok && res.changed) this.#log.info({ event: 'ipAllocated', service: key, ips: res.ips, pool: res.pool }, `allocated ${res.ips.join(', ')} from pool "${res.pool}" to ${key}`);
    if (!res.ok) this.#recordFailure(key, res);
    await this.#write(svc, res);
  }

  #recordFailure(key: string, res: Extract<AllocationResult, { ok: false }>): void {
    const pool = res.pool === undefined ? '' : ` (pool "${res.pool}")`;
    this.#log.warn({ event: 'allocationFailed', service: key, pool: res.pool, reason: res.reason }, `cannot allocate an address to ${key}${pool}: ${res.message}`);
    this.#events.push({ time: new Date().toISOString(), service: key, pool: res.pool, reason: res.reason, message: res.message });
    if (this.#events.length > 100) this.#events.shift();
  }

  async #write(svc: Service, res: AllocationResult | undefined): Promise<void> {
    const [ns, name] = [svc.metadata.namespace ?? 'default', svc.metadata.name];
    try {
      let changed = false;
      await retryUpdate(this.#o.store, 'Service', name, ns, (cur) => {
        if (!cur) return undefined;
        const next = withAllocation(cur, wantsLoadBalancer(cur) ? res : undefined);
        changed = next !== undefined;
        return next;
      });
      if (changed) this.#o.metrics?.allocations.inc({ result: res === undefined ? 'released' : res.ok ? 'allocated' : res.reason });
    } catch (err) {
      this.#log.warn({ event: 'statusWriteFailed', service: `${ns}/${name}`, err: describeError(err) }, `writing the load-balancer status of ${ns}/${name} failed; will retry`);
      setTimeout(() => this.#mark(`${ns}/${name}`), 1000).unref();
    }
  }
}
