/**
 * @module lab/kubeletScheduler — the lab's stand-in for kube-scheduler: a Pod without `spec.nodeName` is bound to
 * a node, round robin over the lab's nodes, by writing nodeName back to the store (the kubelets then see it).
 *
 * One scheduler per lab (it runs inside n1's kubelet process), so two never bind one pod differently; the write
 * is a conditional update (only while nodeName is still unset), so a pod bound by hand meanwhile is left alone.
 * Round robin starts at the node with the fewest pods in the store, so a restarted scheduler keeps spreading.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { Informer } from '../store/informer.ts';
import { retryUpdate, type Store } from '../store/store.ts';
import type { Pod } from '../store/types.ts';
import { podKey } from './kubeletPodNames.ts';

/** Pure: the node at `cursor` and the cursor for the pod after it. */
export function pickNode(nodes: readonly string[], cursor: number): { node: string; cursor: number } {
  const node = nodes[cursor % nodes.length]!;
  return { node, cursor: (cursor + 1) % nodes.length };
}

export class LabScheduler {
  readonly #store: Store;
  readonly #nodes: readonly string[];
  readonly #log: Logger;
  readonly #pods: Informer<'Pod'>;
  #cursor = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(o: { store: Store; nodes: readonly string[]; logger?: Logger }) {
    if (o.nodes.length === 0) throw new Error('lab scheduler: no nodes to place pods on');
    this.#store = o.store;
    this.#nodes = o.nodes;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'scheduler' });
    this.#pods = new Informer(o.store, 'Pod', { resyncMs: 30_000, logger: this.#log });
  }

  async start(): Promise<void> {
    const consider = (p: Pod) => { if (!p.spec.nodeName && !p.metadata.deletionTimestamp) this.#chain = this.#chain.then(() => this.#bind(p)); };
    this.#pods.on({ add: consider, update: (_o, p) => consider(p) });
    this.#pods.start();
    await this.#pods.synced();
    // Start the rotation at the node with the fewest pods, rather than piling a restart's pods on n1.
    const counts = this.#nodes.map((n) => this.#pods.list().filter((p) => p.spec.nodeName === n).length);
    this.#cursor = counts.indexOf(Math.min(...counts));
    for (const p of this.#pods.list()) consider(p);
  }

  stop(): Promise<void> {
    this.#pods.stop();
    return this.#chain;
  }

  async #bind(pod: Pod): Promise<void> {
    const key = podKey(pod);
    const { node, cursor } = pickNode(this.#nodes, this.#cursor);
    try {
      const bound = await retryUpdate(this.#store, 'Pod', pod.metadata.name, pod.metadata.namespace, (cur) => {
        if (!cur || cur.spec.nodeName || cur.metadata.uid !== pod.metadata.uid) return undefined;
        return { ...cur, spec: { ...cur.spec, nodeName: node } };
      });
      if (bound?.spec.nodeName === node) {
        this.#cursor = cursor;
        this.#log.info({ event: 'podBound', pod: key, node }, `pod ${key} → ${node}`);
      }
    } catch (err) {
      this.#log.warn({ event: 'bindFailed', pod: key, err: describeError(err) }, `binding pod ${key}: ${describeError(err)}`);
    }
  }
}
