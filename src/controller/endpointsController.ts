/**
 * @module controller/endpointsController — the control-plane bookkeeping podnet does where no API server does it
 * (file and etcd stores; off with `kube`): EndpointSlices from Pods and Service selectors, clusterIP and nodePort
 * allocation. Level-triggered: events only mark Services dirty; one worker recomputes each dirty Service from the
 * informer caches and writes only the difference, so missed or repeated events are harmless, and a periodic
 * resync heals whatever drifted. It only ever writes slices labelled as its own (managed-by podnet).
 * Run it under a LeaderElector: one instance per cluster, not one per node.
 *
 * Work is proportional to the change (issue 14 item 2): a pod event finds the Services that can select it
 * through a selector index, a Service's pods come from a label index, its slices from a slice index, and the
 * allocation ledger keeps the used clusterIPs and nodePorts across events, so one event costs O(what it
 * touches), not O(Services). Writes go out 16 at a time, and the event loop gets a turn every few ms of work.
 */
import type { Store } from '../store/store.ts';
import { retryUpdate } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import type { EndpointSlice, Pod, Service } from '../store/types.ts';
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { isManagedSlice, managesService, planEndpointSlices, sameSlice, selectorMatches } from './endpointSlicePlanner.ts';
import type { Allocation, AllocatorConfig } from './serviceAllocator.ts';
import { AllocationLedger } from './allocationLedger.ts';
import { explicitClusterIPs } from './ipFamilyPolicy.ts';
import {
  labelPairKey, podLabelKeys, serviceSelectorKeys, sliceServiceKeys, trimPod, trimService, trimSlice,
} from './controllerCaches.ts';
import { forEachYielding, runBounded } from './boundedWork.ts';

export interface EndpointsControllerOptions extends AllocatorConfig {
  store: Store;
  logger?: Logger;
  resyncMs?: number;
}

/** Writes in flight at once: enough to hide a store round trip, few enough not to flood it. */
const WRITES_IN_FLIGHT = 16;

const keyOf = (m: { name: string; namespace?: string }): string => `${m.namespace ?? 'default'}/${m.name}`;

export class EndpointsController {
  #o: EndpointsControllerOptions;
  #log: Logger;
  #services: Informer<'Service'>;
  #pods: Informer<'Pod'>;
  #slices: Informer<'EndpointSlice'>;
  #ledger: AllocationLedger;
  /** Services whose slices to recompute, and whose allocation to re-plan. */
  #dirty = new Set<string>();
  #allocDirty = new Set<string>();
  #wake: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #reported = new Set<string>();
  /** Slice key → resourceVersion of the write we made, until its event arrives. */
  #ownWrites = new Map<string, string>();
  /** Completed sync passes (tests wait on it rather than on time). */
  passes = 0;
  /** Store writes issued (slices created, updated, deleted; Services allocated): a resync must not add any. */
  writes = 0;

  constructor(opts: EndpointsControllerOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'endpoints-controller' });
    this.#ledger = new AllocationLedger(opts);
    const logger = this.#log;
    // Only Services resync: each one recomputed re-reads its pods and slices, so that heals everything.
    this.#services = new Informer(opts.store, 'Service', { logger, resyncMs: opts.resyncMs ?? 60_000,
      transform: trimService, indexers: { selector: serviceSelectorKeys } });
    this.#pods = new Informer(opts.store, 'Pod', { logger, transform: trimPod, indexers: { labels: podLabelKeys } });
    this.#slices = new Informer(opts.store, 'EndpointSlice', { logger, transform: trimSlice, indexers: { service: sliceServiceKeys } });
  }

  async start(): Promise<void> {
    this.#stopped = false;
    const observed = (s: Service) => { this.#markAlloc(this.#ledger.observe(s)); this.#dirty.add(keyOf(s.metadata)); this.#kick(); };
    this.#services.on({
      add: observed,
      update: (old, s) => { if (old === s) { this.#dirty.add(keyOf(s.metadata)); this.#kick(); } else observed(s); },
      delete: (s) => { this.#markAlloc(this.#ledger.forget(keyOf(s.metadata))); this.#dirty.add(keyOf(s.metadata)); this.#kick(); },
    });
    this.#pods.on({ add: (p) => this.#touchPod(p), update: (o, p) => { this.#touchPod(o); this.#touchPod(p); }, delete: (p) => this.#touchPod(p) });
    const touchSlice = (e: EndpointSlice) => { for (const k of sliceServiceKeys(e)) { this.#dirty.add(k); this.#kick(); } };
    // The echo of our own write says nothing new: recomputing 5,000 Services after writing their slices would
    // only find them right (anyone else's change to the slice has another resourceVersion).
    const changedSlice = (e: EndpointSlice) => {
      const key = keyOf(e.metadata);
      const ours = this.#ownWrites.get(key);
      if (ours !== undefined) this.#ownWrites.delete(key);
      if (ours !== e.metadata.resourceVersion) touchSlice(e);
    };
    this.#slices.on({ add: changedSlice, update: (_o, e) => changedSlice(e), delete: (e) => { this.#ownWrites.delete(keyOf(e.metadata)); touchSlice(e); } });
    for (const inf of [this.#services, this.#pods, this.#slices]) inf.start();
    await Promise.all([this.#services.synced(), this.#pods.synced(), this.#slices.synced()]);
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#wake);
    for (const inf of [this.#services, this.#pods, this.#slices]) inf.stop();
    await this.#running;
  }

  /** The Services that can select `p` (by the index of their first selector pair), checked in full. */
  #touchPod(p: Pod): void {
    const ns = p.metadata.namespace ?? 'default';
    for (const [k, v] of Object.entries(p.metadata.labels ?? {})) {
      for (const s of this.#services.byIndex('selector', labelPairKey(ns, k, v))) {
        if (selectorMatches(s.spec.selector!, p.metadata.labels)) this.#dirty.add(keyOf(s.metadata));
      }
    }
    this.#kick();
  }

  #markAlloc(keys: Iterable<string>): void {
    for (const k of keys) this.#allocDirty.add(k);
  }

  #kick(): void {
    if (this.#stopped || this.#wake) return;
    // Coalesce bursts (a Deployment's pods arrive together) into one pass.
    this.#wake = setTimeout(() => {
      this.#wake = undefined;
      if (this.#running) { this.#kick(); return; }
      this.#running = this.#pass().finally(() => { this.#running = undefined; });
    }, 20);
  }

  async #pass(): Promise<void> {
    if (!this.#services.hasSynced() || !this.#pods.hasSynced() || !this.#slices.hasSynced()) return;
    let failed = await this.#allocatePass();
    const keys = [...this.#dirty];
    this.#dirty.clear();
    await runBounded(keys, WRITES_IN_FLIGHT, async (key) => {
      // A Service whose allocation is on its way is recomputed when its update arrives (its families may change).
      if (this.#ledger.isPending(key)) return;
      try {
        await this.#syncService(key);
      } catch (err) {
        this.#log.warn({ event: 'syncFailed', service: key, err: describeError(err) }, `syncing EndpointSlices of ${key} failed; will retry`);
        this.#dirty.add(key);
        failed = true;
      }
    }, () => this.#stopped);
    this.passes += 1;
    if (failed) setTimeout(() => this.#kick(), 500).unref();
  }

  /** The pods `svc` can select: those under the least common of its selector's pairs. */
  #candidatePods(svc: Service): Pod[] {
    const ns = svc.metadata.namespace ?? 'default';
    let best: string | undefined;
    let bestCount = Infinity;
    for (const [k, v] of Object.entries(svc.spec.selector ?? {})) {
      const key = labelPairKey(ns, k, v);
      const n = this.#pods.indexCount('labels', key);
      if (n < bestCount) { best = key; bestCount = n; }
    }
    return best === undefined || bestCount === 0 ? [] : this.#pods.byIndex('labels', best);
  }

  async #syncService(key: string): Promise<void> {
    const ns = key.split('/')[0]!;
    const svc = this.#services.get(key);
    const desired = svc && managesService(svc) ? planEndpointSlices(svc, this.#candidatePods(svc)) : [];
    const byName = new Map(this.#slices.byIndex('service', key).map((e) => [e.metadata.name, e]));
    const { store } = this.#o;
    for (const d of desired) {
      const cur = byName.get(d.metadata.name);
      byName.delete(d.metadata.name);
      if (cur && sameSlice(cur, d)) continue;
      // Not ours by index: another object may hold the name (the cache knows every slice, ours or not).
      const holder = cur ?? this.#slices.get(`${ns}/${d.metadata.name}`);
      if (holder && !isManagedSlice(holder)) {
        this.#report(`EndpointSlice ${ns}/${d.metadata.name} exists and is not managed by podnet; leaving it alone (Service ${key})`);
        continue;
      }
      this.writes += 1;
      const stored = holder
        ? await store.update({ ...d, metadata: { ...d.metadata, resourceVersion: holder.metadata.resourceVersion! } })
        : await store.create(d);
      // Unless its event already came (then the cache holds this version), the event still to come is our echo.
      const sliceKey = `${ns}/${d.metadata.name}`;
      if (this.#slices.get(sliceKey)?.metadata.resourceVersion !== stored.metadata.resourceVersion) this.#ownWrites.set(sliceKey, stored.metadata.resourceVersion!);
    }
    for (const stale of byName.values()) {
      this.writes += 1;
      await store.delete('EndpointSlice', stale.metadata.name, ns).catch((err: { reason?: string }) => {
        if (err.reason !== 'NotFound') throw err;
      });
    }
  }

  /** Plan the dirty Services' allocations (oldest first) and write them; true when a write failed. */
  async #allocatePass(): Promise<boolean> {
    const keys = this.#ledger.oldestFirst([...this.#allocDirty]);
    this.#allocDirty.clear();
    const todo: Allocation[] = [];
    // Planning is synchronous; events delivered between slices only mark more work for the next pass.
    await forEachYielding(keys, (key) => {
      const plan = this.#ledger.plan(key);
      for (const p of [...plan.claimProblems, ...plan.allocProblems]) this.#report(p);
      if (plan.allocation) todo.push(plan.allocation);
    }, () => this.#stopped);
    let failed = false;
    await runBounded(todo, WRITES_IN_FLIGHT, async (a) => {
      const key = `${a.namespace}/${a.name}`;
      try {
        let changed = false;
        this.writes += 1;
        const stored = await retryUpdate(this.#o.store, 'Service', a.name, a.namespace, (cur) => {
          const next = cur ? applyAllocation(cur, a) : undefined;
          changed = next !== undefined;
          return next;
        });
        this.#markAlloc(this.#ledger.settle(key, changed ? stored?.metadata.resourceVersion : undefined));
        if (changed) this.#log.info({ event: 'allocated', service: key, clusterIPs: a.clusterIPs, nodePorts: [...a.nodePorts.values()] }, `allocated for Service ${key}`);
        else this.#dirty.add(key); // someone else set it: recompute its slices once its update arrives, or now
      } catch (err) {
        this.#log.warn({ event: 'allocateFailed', service: key, err: describeError(err) }, `allocating for Service ${key} failed; will retry`);
        this.#markAlloc(this.#ledger.settle(key, undefined));
        this.#allocDirty.add(key);
        this.#dirty.add(key);
        failed = true;
      }
    }, () => this.#stopped);
    return failed;
  }

  #report(line: string): void {
    if (this.#reported.has(line)) return;
    this.#reported.add(line);
    this.#log.error({ event: 'rejected' }, line);
  }

  /** Problems reported so far (clashes, foreign slices), for tests and `describe`. */
  get problems(): string[] {
    return [...this.#reported];
  }
}

/** The Service with the allocation filled in, or undefined when it no longer needs it (someone else set it). */
function applyAllocation(cur: Service, a: Allocation): Service | undefined {
  let changed = false;
  // Only on top of what the plan saw: the Service's current addresses must lead the planned list.
  const have = explicitClusterIPs(cur);
  if (a.clusterIPs && have.every((ip, i) => a.clusterIPs![i] === ip) && have.length < a.clusterIPs.length) {
    cur.spec.clusterIP = a.clusterIPs[0]!;
    cur.spec.clusterIPs = [...a.clusterIPs];
    cur.spec.ipFamilies = a.ipFamilies ?? cur.spec.ipFamilies ?? ['IPv4'];
    cur.spec.ipFamilyPolicy = a.ipFamilyPolicy ?? cur.spec.ipFamilyPolicy ?? 'SingleStack';
    changed = true;
  } else if (!a.clusterIPs && a.ipFamilies && !cur.spec.ipFamilies?.length) {
    // A headless Service on a dual-stack cluster: its families decide its EndpointSlices.
    cur.spec.ipFamilies = a.ipFamilies;
    cur.spec.ipFamilyPolicy ??= a.ipFamilyPolicy;
    changed = true;
  }
  for (const [i, port] of a.nodePorts) {
    const p = cur.spec.ports?.[i];
    if (p && p.nodePort === undefined) { p.nodePort = port; changed = true; }
  }
  return changed ? cur : undefined;
}
