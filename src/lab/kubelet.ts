/**
 * @module lab/kubelet — the lab's kubelet: the part of a real node that turns Pod objects into running pods.
 * One per node (`podnetctl lab kubelet --node n1`, started by `lab up`), so podnet's CNI plugin is exercised
 * exactly as a container runtime would exercise it.
 *
 * Level-triggered, one pod at a time per key: on any Pod event (and for every record on start) it compares
 * "should run here" (spec.nodeName = this node, not being deleted) with "runs here" (a sandbox record of the
 * same uid) and creates or destroys the sandbox (kubeletSandbox.ts), then makes the Pod's status say what is
 * true: podIP/podIPs, hostIP, phase Running, Ready. A failed create is retried with a growing delay and
 * reported in the Pod's status (phase Pending, Ready False, reason and message), never left half-made.
 * A restarted kubelet adopts the pods its records describe instead of re-creating them.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { Informer } from '../store/informer.ts';
import { retryUpdate, type Store } from '../store/store.ts';
import type { Pod, PodCondition } from '../store/types.ts';
import { podKey } from './kubeletPodNames.ts';
import { PodSandboxes, type PodRecord, type SandboxOptions } from './kubeletSandbox.ts';
import { isRunning } from './labProcesses.ts';

export interface KubeletOptions extends SandboxOptions {
  store: Store;
  nodeName: string;
  logger?: Logger;
}

type PodStatus = NonNullable<Pod['status']>;

// A real kubelet backs off from 10 s; shorter here so a lab user who fixes the cause sees the pod start soon.
const RETRY_MS = [2000, 4000, 8000, 16_000];

export class LabKubelet {
  readonly #o: KubeletOptions;
  readonly #log: Logger;
  readonly #sandboxes: PodSandboxes;
  readonly #pods: Informer<'Pod'>;
  readonly #queue = new Map<string, Promise<void>>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(o: KubeletOptions) {
    this.#o = o;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'kubelet', node: o.nodeName });
    this.#sandboxes = new PodSandboxes(o);
    this.#pods = new Informer(o.store, 'Pod', { resyncMs: 30_000, logger: this.#log });
  }

  async start(): Promise<void> {
    this.#pods.on({ add: (p) => this.enqueue(podKey(p)), update: (_o, p) => this.enqueue(podKey(p)),
      delete: (p) => this.enqueue(podKey(p)) });
    this.#pods.start();
    await this.#pods.synced();
    for (const r of this.#sandboxes.records()) this.enqueue(r.key);
    for (const p of this.#pods.list()) this.enqueue(podKey(p));
  }

  /** Stop watching; running pods stay (like a kubelet restart) — `lab down` or Pod deletes remove them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pods.stop();
    for (const t of this.#timers) clearTimeout(t);
    await Promise.allSettled([...this.#queue.values()]);
  }

  /** Wait until no pod work is queued (tests, and `lab kubelet --once`). */
  async idle(): Promise<void> {
    while (this.#queue.size > 0) await Promise.allSettled([...this.#queue.values()]);
  }

  enqueue(key: string): void {
    if (this.#stopped) return;
    if (this.#queue.has(key)) { this.#dirty.add(key); return; }
    const run = this.#sync(key)
      .catch((err) => this.#log.error({ event: 'syncFailed', pod: key, err: describeError(err) }, `pod ${key}: ${describeError(err)}`))
      .finally(() => {
        this.#queue.delete(key);
        if (this.#dirty.delete(key)) this.enqueue(key);
      });
    this.#queue.set(key, run);
  }

  #wanted(pod: Pod | undefined): pod is Pod {
    return pod !== undefined && pod.spec.nodeName === this.#o.nodeName && !pod.metadata.deletionTimestamp;
  }

  async #sync(key: string): Promise<void> {
    const pod = this.#pods.get(key);
    let rec = this.#sandboxes.record(key);
    if (rec && (!this.#wanted(pod) || rec.uid !== (pod.metadata.uid ?? '') || !rec.complete)) {
      try {
        await this.#sandboxes.destroy(rec);
      } catch (err) {
        this.#retryLater(key, `removing pod ${key}: ${describeError(err)}`);
        return;
      }
      this.#log.info({ event: 'podRemoved', pod: key }, `pod ${key}: stopped, CNI DEL, namespace ${rec.netns} removed`);
      rec = undefined;
    }
    if (!this.#wanted(pod)) { this.#failures.delete(key); return; }
    if (!rec) {
      try {
        rec = await this.#sandboxes.create(pod, (ns) => this.#sandboxes.records().some((r) => r.netns === ns && r.key === key));
      } catch (err) {
        await this.#reportFailure(pod, err);
        return;
      }
      this.#failures.delete(key);
      this.#log.info({ event: 'podStarted', pod: key, ips: rec.podIPs }, `pod ${key}: ${rec.podIPs.join(', ')} in ${rec.netns}`);
    }
    await this.#writeStatus(pod, runningStatus(rec, this.#o.nodeIP, pod.status));
  }

  async #reportFailure(pod: Pod, err: unknown): Promise<void> {
    const status: PodStatus = { phase: 'Pending', hostIP: this.#o.nodeIP, reason: 'SandboxCreateFailed',
      message: describeError(err), conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date().toISOString() }] };
    await this.#writeStatus(pod, status).catch(() => undefined);
    this.#retryLater(podKey(pod), `pod ${podKey(pod)}: ${describeError(err)}`);
  }

  /** Try the key again after a growing delay (per key, reset by a success). */
  #retryLater(key: string, why: string): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    const delay = RETRY_MS[Math.min(n, RETRY_MS.length - 1)]!;
    this.#log.warn({ event: 'podFailed', pod: key, retryMs: delay }, why);
    const t = setTimeout(() => { this.#timers.delete(t); this.enqueue(key); }, delay);
    this.#timers.add(t);
  }

  async #writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    if (sameStatus(pod.status, status)) return;
    await retryUpdate(this.#o.store, 'Pod', pod.metadata.name, pod.metadata.namespace, (cur) => {
      if (!cur || cur.metadata.uid !== pod.metadata.uid || sameStatus(cur.status, status)) return undefined;
      return { ...cur, status };
    });
  }
}

/** The status of a pod whose sandbox exists: Running and Ready while its processes live, else Failed. */
export function runningStatus(rec: PodRecord, hostIP: string, prev: Pod['status']): PodStatus {
  const alive = rec.processes.every(isRunning);
  const ready: PodCondition['status'] = alive ? 'True' : 'False';
  const prevReady = prev?.conditions?.find((c) => c.type === 'Ready');
  const lastTransitionTime = prevReady?.status === ready && prevReady.lastTransitionTime
    ? prevReady.lastTransitionTime : new Date().toISOString();
  return {
    phase: alive ? 'Running' : 'Failed', hostIP,
    ...(rec.podIPs[0] ? { podIP: rec.podIPs[0], podIPs: rec.podIPs.map((ip) => ({ ip })) } : {}),
    conditions: [{ type: 'Ready', status: ready, lastTransitionTime }],
  };
}

/** Equal apart from transition times (so a resync does not rewrite an unchanged status). */
export function sameStatus(a: Pod['status'], b: Pod['status']): boolean {
  const strip = (s: Pod['status']) => JSON.stringify({ ...s, conditions: s?.conditions?.map((c) => ({ ...c, lastTransitionTime: undefined })) });
  return strip(a) === strip(b);
}
