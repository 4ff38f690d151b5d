/**
 * bench/controllerBench — the endpoints controller and the informer at cluster size, on the memory store (no
 * I/O: what is measured is podnet's own work). Runs with no arguments, bounded (--timeout-s, default 900).
 *
 * controller: N Services (default 10,000; bench/controllerBenchData.ts) loaded before the controller starts;
 *   time, CPU and the longest event-loop block until every selector Service's slice holds all its pods and every
 *   Service lacking a clusterIP has one; then the cost of one pod added and of one Service added (median of 5),
 *   and the CPU of an idle window holding one periodic resync (--resync-ms, default 20 s; podnetd's is 60 s).
 * informer: 20,000 Services reaching an informer whose handler does ~JSON.stringify work per event, once as the
 *   initial list and once as a watch burst (written in store batches of 1,000, as an etcd watch response
 *   carries them); the longest event-loop block (monitorEventLoopDelay max) and the time to deliver all.
 * The same file runs against an older tree (copy it there) to measure before/after.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MemoryStore } from '../src/store/memoryStore.ts';
import { Informer } from '../src/store/informer.ts';
import { EndpointsController } from '../src/controller/endpointsController.ts';
import { LeaderElector } from '../src/controller/leaderElector.ts';
import type { AnyKube, Store } from '../src/store/store.ts';
import type { EndpointSlice, Service } from '../src/store/types.ts';
import { benchCluster, benchPod, benchService } from './controllerBenchData.ts';

const cfg = { serviceCIDR: '10.96.0.0/16', nodePortRange: [30000, 32767] as [number, number], reserved: ['10.96.0.10'] };

/** Watches the controller's writes: which slices hold how many endpoints, which Services got a clusterIP. */
class WriteLog {
  endpoints = new Map<string, number>();
  allocated = new Set<string>();
  writes = 0;
  #waiters: Array<() => boolean> = [];

  wrap(store: MemoryStore): Store {
    const record = (o: AnyKube) => {
      this.writes += 1;
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      if (o.kind === 'EndpointSlice') this.endpoints.set(`${o.metadata.namespace}/${(o as EndpointSlice).metadata.labels?.['kubernetes.io/service-name']}`, (o as EndpointSlice).endpoints.length);
      if (o.kind === 'Service' && (o as Service).spec.clusterIP) this.allocated.add(key);
      this.#waiters = this.#waiters.filter((w) => !w());
    };
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        if (prop === 'create' || prop === 'update') {
          return async (o: AnyKube) => { const r = await (target[prop] as (x: AnyKube) => Promise<AnyKube>).call(target, o); record(r); return r; };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Store;
  }

  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(() => { if (!cond()) return false; resolve(); return true; }));
  }
}

/**
 * The longest stretch without a timer turn, counted in this process's CPU time rather than wall time: on a busy
 * machine the OS deschedules the process and monitorEventLoopDelay's max grows with the load; the CPU spent
 * between two consecutive 1 ms timer ticks is the work that really held the loop.
 */
class BlockProbe {
  max = 0;
  #last = process.cpuUsage();
  #timer: NodeJS.Timeout | undefined;
  start(): this {
    this.#last = process.cpuUsage();
    const tick = () => {
      const d = cpuMs(this.#last);
      this.#last = process.cpuUsage();
      if (d > this.max) this.max = d;
      this.#timer = setTimeout(tick, 1);
    };
    this.#timer = setTimeout(tick, 1);
    return this;
  }
  stop(): number { clearTimeout(this.#timer); return this.max; }
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function controllerBench(n: number, resyncMs: number): Promise<void> {
  const mem = new MemoryStore({ historyLimit: 200_000 });
  const cluster = benchCluster(n);
  for (const o of [...cluster.services, ...cluster.pods, ...cluster.slices]) await mem.create(o);
  const log = new WriteLog();
  const store = log.wrap(mem);
  // A leader lease of 3 s renewed every second (LeaderElector's ttl/3), as podnetd runs the controller.
  let leading = false; let leaseLosses = 0; let stopping = false;
  const elector = new LeaderElector({ store: mem, leaseName: 'bench-endpoints-controller', identity: 'bench', ttlSeconds: 3,
    onStartedLeading: () => { leading = true; }, onStoppedLeading: () => { if (!stopping) leaseLosses += 1; } });
  elector.start();
  while (!leading) await new Promise((r) => setTimeout(r, 10));
  const ctl = new EndpointsController({ store, ...cfg, resyncMs });
  let settledSlices = 0;
  const isRight = (k: string) => log.endpoints.get(k) === cluster.expected.get(k);
  const converged = () => {
    settledSlices = [...cluster.expected.keys()].filter(isRight).length;
    return settledSlices === cluster.expected.size && log.allocated.size >= cluster.unallocated;
  };
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let probe = new BlockProbe().start();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await ctl.start();
  const lossesUntilSynced = leaseLosses;
  const syncBlock = h.max;
  const syncBlockCpu = probe.stop();
  probe = new BlockProbe().start();
  h.reset();
  // Checking convergence on every write would be O(N) each; a coarse poll is enough at this scale.
  while (!converged()) await new Promise((r) => setTimeout(r, 50));
  const convergeMs = performance.now() - t0;
  const convergeCpu = cpuMs(c0);
  h.disable();
  const heap = process.memoryUsage();
  console.log(`controller converge: services=${n} pods=${cluster.pods.length} slices-written=${cluster.expected.size} allocations=${cluster.unallocated} `
    + `ms=${Math.round(convergeMs)} cpuMs=${Math.round(convergeCpu)} maxBlockCpuMs: until synced=${r1(syncBlockCpu)} after=${r1(probe.stop())} maxLoopDelayMs: until synced=${r1(syncBlock / 1e6)} after=${r1(h.max / 1e6)} writes=${log.writes} leaseLosses: until synced=${lossesUntilSynced} after=${leaseLosses - lossesUntilSynced} rssMB=${Math.round(heap.rss / 2 ** 20)} heapMB=${Math.round(heap.heapUsed / 2 ** 20)} (memory store included)`);
  await new Promise((r) => setTimeout(r, 500));

  const podMs: number[] = []; const podCpu: number[] = [];
  for (let k = 0; k < 5; k++) {
    const svc = 2 * k * 101 + 1; // an odd (selector) Service
    const key = `bench-${svc % 10}/svc-${svc}`;
    const want = cluster.expected.get(key)! + 1;
    cluster.expected.set(key, want);
    const t = performance.now(); const c = process.cpuUsage();
    await store.create(benchPod(svc, 100, 60_000 + k));
    await log.until(() => log.endpoints.get(key) === want);
    podMs.push(performance.now() - t); podCpu.push(cpuMs(c));
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`controller one pod added: medianMs=${r1(median(podMs))} medianCpuMs=${r1(median(podCpu))} all=${podMs.map(Math.round).join(',')}`);

  const svcMs: number[] = []; const svcCpu: number[] = [];
  for (let k = 0; k < 5; k++) {
    const s = benchService(n + 2 * k + 1, false);
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const t = performance.now(); const c = process.cpuUsage();
    await store.create(s);
    await log.until(() => log.allocated.has(key) && log.endpoints.get(key) === 0);
    svcMs.push(performance.now() - t); svcCpu.push(cpuMs(c));
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`controller one service added: medianMs=${r1(median(svcMs))} medianCpuMs=${r1(median(svcCpu))} all=${svcMs.map(Math.round).join(',')}`);

  const writes = log.writes;
  // Long enough to hold at least one periodic resync (the controller's informers resync every resyncMs).
  const idleMs = resyncMs + 2000;
  const ci = process.cpuUsage();
  await new Promise((r) => setTimeout(r, idleMs));
  console.log(`controller idle ${idleMs / 1000} s (resync every ${resyncMs / 1000} s): cpuMs=${Math.round(cpuMs(ci))} cpu=${(cpuMs(ci) / idleMs * 100).toFixed(1)}% writes=${log.writes - writes}`);
  await ctl.stop();
  stopping = true;
  await elector.stop({ release: false });
  console.log(`controller leader lease losses over the whole run: ${leaseLosses}`);
}

/** ~15 µs of real work per event: what a consumer that serialises or hashes the object costs. */
function consume(s: Service): number {
  return JSON.stringify(s).length + JSON.stringify(s.spec).length;
}

/**
 * A store that only lists and watches, handing over prepared objects with no cost of its own, so the informer's
 * share of the loop is what is measured: a watch burst arrives as batches of 1,000 events, each batch in one
 * callback (as an etcd watch response or a kube watch chunk is parsed and dispatched).
 */
class BurstStore {
  readonly backend = 'memory' as const;
  #initial: Service[];
  #handler: ((o: Service) => void) | undefined;
  constructor(initial: Service[]) { this.#initial = initial; }
  async list(): Promise<{ items: Service[]; resourceVersion: string }> { return { items: this.#initial, resourceVersion: '1' }; }
  watch(_k: string, _o: unknown, h: { event(e: { type: 'ADDED'; object: Service }): void }): { stop(): void } {
    this.#handler = (o) => h.event({ type: 'ADDED', object: o });
    return { stop: () => { this.#handler = undefined; } };
  }
  async burst(objs: Service[], batch: number): Promise<void> {
    for (let i = 0; i < objs.length; i += batch) {
      for (const o of objs.slice(i, i + batch)) this.#handler?.(o);
      await yieldToLoop();
    }
  }
}

async function informerBench(n: number): Promise<void> {
  const objs = Array.from({ length: n }, (_, i) => ({ ...benchService(i, true), metadata: { ...benchService(i, true).metadata, resourceVersion: String(i + 2) } }));
  for (const mode of ['initial list', 'watch burst'] as const) {
    const store = new BurstStore(mode === 'initial list' ? objs : []);
    const inf = new Informer(store as unknown as Store, 'Service');
    let seen = 0; let sink = 0;
    inf.on({ add: (s) => { seen += 1; sink += consume(s); } });
    const h = monitorEventLoopDelay({ resolution: 1 });
    let t0 = performance.now();
    h.enable();
    let probe = new BlockProbe().start();
    inf.start();
    if (mode === 'watch burst') {
      await inf.synced();
      h.reset();
      probe.stop();
      probe = new BlockProbe().start();
      t0 = performance.now();
      await store.burst(objs, 1000);
    }
    while (seen < n) await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    h.disable();
    console.log(`informer ${mode}: objects=${n} deliveredMs=${Math.round(ms)} maxBlockCpuMs=${r1(probe.stop())} maxLoopDelayMs=${r1(h.max / 1e6)} p99LoopDelayMs=${r1(h.percentile(99) / 1e6)} (sink ${sink % 10})`);
    inf.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'resync-ms': { type: 'string' }, services: { type: 'string' }, objects: { type: 'string' }, only: { type: 'string' }, 'timeout-s': { type: 'string' } } });
  setTimeout(() => { console.error('controllerBench: timed out'); process.exit(2); }, Number(values['timeout-s'] ?? 900) * 1000).unref();
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (values.only !== 'controller') await informerBench(Number(values.objects ?? 20_000));
  if (values.only !== 'informer') await controllerBench(Number(values.services ?? 10_000), Number(values['resync-ms'] ?? 20_000));
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  process.exit(0);
}

await main();
