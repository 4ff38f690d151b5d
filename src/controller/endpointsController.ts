/**
 * @module controller/endpointsController — the control-plane bookkeeping podnet does where no API server does it
 * (file and etcd stores; off with `kube`): EndpointSlices from Pods and Service selectors, clusterIP and nodePort
 * allocation. Level-triggered: events only mark Services dirty; one worker recomputes each dirty Service from the
 * informer caches and writes only the difference, so missed or repeated events are harmless, and a periodic
 * resync heals whatever drifted. It only ever writes slices labelled as its own (managed-by podnet).
 * Run it under a LeaderElector: one instance per cluster, not one per node.
 */
import type { Store } from '../store/store.ts';
import { retryUpdate } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import type { EndpointSlice, Pod, Service } from '../store/types.ts';
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { isManagedSlice, planEndpointSlices, sameSlice, selectorMatches, SERVICE_NAME_LABEL } from './endpointSlicePlanner.ts';
import { planServiceAllocations, type Allocation, type AllocatorConfig } from './serviceAllocator.ts';
import { explicitClusterIPs } from './ipFamilyPolicy.ts';

export interface EndpointsControllerOptions extends AllocatorConfig {
  store: Store;
  logger?: Logger;
  resyncMs?: number;
}

export class EndpointsController {
  #o: EndpointsControllerOptions;
  #log: Logger;
  #services: Informer<'Service'>;
  #pods: Informer<'Pod'>;
  #slices: Informer<'EndpointSlice'>;
  #dirty = new Set<string>();
  #allocate = false;
  #wake: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #reported = new Set<string>();
  /** Completed sync passes (tests wait on it rather than on time). */
  passes = 0;

  constructor(opts: EndpointsControllerOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'endpoints-controller' });
    const informerOpts = { logger: this.#log, resyncMs: opts.resyncMs ?? 60_000 };
    this.#services = new Informer(opts.store, 'Service', informerOpts);
    this.#pods = new Informer(opts.store, 'Pod', informerOpts);
    this.#slices = new Informer(opts.store, 'EndpointSlice', informerOpts);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    const svcKey = (s: Service) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
    const touchService = (s: Service) => { this.#dirty.add(svcKey(s)); this.#allocate = true; this.#kick(); };
    // A pod matters only to the services that select it (by its old or new labels): O(services) per pod event,
    // not O(services × pods) per pass.
    const touchPod = (p: Pod) => {
      const ns = p.metadata.namespace ?? 'default';
      for (const s of this.#services.list()) {
        if ((s.metadata.namespace ?? 'default') === ns && s.spec.selector && selectorMatches(s.spec.selector, p.metadata.labels)) this.#dirty.add(svcKey(s));
      }
      this.#kick();
    };
    const touchSlice = (e: EndpointSlice) => {
      const svc = e.metadata.labels?.[SERVICE_NAME_LABEL];
      if (isManagedSlice(e) && svc) { this.#dirty.add(`${e.metadata.namespace ?? 'default'}/${svc}`); this.#kick(); }
    };
    this.#services.on({ add: touchService, update: (_o, s) => touchService(s), delete: touchService });
    this.#pods.on({ add: touchPod, update: (o, p) => { touchPod(o); touchPod(p); }, delete: touchPod });
    this.#slices.on({ add: touchSlice, update: (_o, e) => touchSlice(e), delete: touchSlice });
    for (const inf of [this.#services, this.#pods, this.#slices]) inf.start();
    await Promise.all([this.#services.synced(), this.#pods.synced(), this.#slices.synced()]);
    this.#allocate = true;
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#wake);
    for (const inf of [this.#services, this.#pods, this.#slices]) inf.stop();
    await this.#running;
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
    if (this.#allocate) {
      this.#allocate = false;
      await this.#allocatePass();
    }
    const keys = [...this.#dirty];
    this.#dirty.clear();
    // Indexes built once per pass, so a pass over S services costs O(S + pods + slices), not O(S × slices).
    const podsByNs = groupBy(this.#pods.list(), (p) => p.metadata.namespace ?? 'default');
    const slicesByService = groupBy(this.#slices.list().filter(isManagedSlice),
      (e) => `${e.metadata.namespace ?? 'default'}/${e.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`);
    for (const key of keys) {
      if (this.#stopped) return;
      try {
        await this.#syncService(key, podsByNs, slicesByService.get(key) ?? []);
      } catch (err) {
        this.#log.warn({ event: 'syncFailed', service: key, err: describeError(err) }, `syncing EndpointSlices of ${key} failed; will retry`);
        this.#dirty.add(key);
      }
    }
    this.passes += 1;
    if (this.#dirty.size > 0) setTimeout(() => this.#kick(), 500).unref();
  }

  async #syncService(key: string, podsByNs: Map<string, Pod[]>, existing: EndpointSlice[]): Promise<void> {
    const ns = key.split('/')[0]!;
    const svc = this.#services.get(key);
    const desired = svc ? planEndpointSlices(svc, podsByNs.get(ns) ?? []) : [];
    const byName = new Map(existing.map((e) => [e.metadata.name, e]));
    const { store } = this.#o;
    for (const d of desired) {
      const cur = byName.get(d.metadata.name);
      byName.delete(d.metadata.name);
      if (!cur) {
        const foreign = await store.get('EndpointSlice', d.metadata.name, ns);
        if (foreign && !isManagedSlice(foreign)) {
          this.#report(`EndpointSlice ${ns}/${d.metadata.name} exists and is not managed by podnet; leaving it alone (Service ${key})`);
          continue;
        }
        if (foreign) { await store.update({ ...d, metadata: { ...d.metadata, resourceVersion: foreign.metadata.resourceVersion! } }); continue; }
        await store.create(d);
      } else if (!sameSlice(cur, d)) {
        await store.update({ ...d, metadata: { ...d.metadata, resourceVersion: cur.metadata.resourceVersion! } });
      }
    }
    for (const stale of byName.values()) {
      await store.delete('EndpointSlice', stale.metadata.name, ns).catch((err: { reason?: string }) => {
        if (err.reason !== 'NotFound') throw err;
      });
    }
  }

  async #allocatePass(): Promise<void> {
    const plan = planServiceAllocations(this.#services.list(), this.#o);
    for (const p of plan.problems) this.#report(p);
    for (const a of plan.allocations) {
      try {
        await retryUpdate(this.#o.store, 'Service', a.name, a.namespace, (cur) => (cur ? applyAllocation(cur, a) : undefined));
        this.#log.info({ event: 'allocated', service: `${a.namespace}/${a.name}`, clusterIPs: a.clusterIPs, nodePorts: [...a.nodePorts.values()] }, `allocated for Service ${a.namespace}/${a.name}`);
      } catch (err) {
        this.#log.warn({ event: 'allocateFailed', service: `${a.namespace}/${a.name}`, err: describeError(err) }, `allocating for Service ${a.namespace}/${a.name} failed; will retry`);
        this.#allocate = true;
      }
    }
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

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
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
