/**
 * @module controller/boundedWork — run async work over many items with at most `limit` in flight, giving the
 * event loop a turn (setImmediate) whenever a few milliseconds of synchronous work have gone by. With a fast
 * store (memory, a local etcd) awaits resolve as microtasks, which never let timers run: without the explicit
 * yield a pass over 10,000 Services would starve the leader lease renewal (issue 14 item 4).
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export const SLICE_MS = 4;

export async function runBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>,
  stopped: () => boolean = () => false): Promise<void> {
  let next = 0;
  let sliceStart = performance.now();
  // One turn shared by every worker: the clock restarts once per real turn of the loop, not once per worker
  // (16 workers each restarting it would hold the loop for 16 slices in one check phase).
  let turn: Promise<void> | undefined;
  const pause = (): Promise<void> => (turn ??= yieldToLoop().then(() => { turn = undefined; sliceStart = performance.now(); }));
  const worker = async (): Promise<void> => {
    while (next < items.length && !stopped()) {
      if (performance.now() - sliceStart > SLICE_MS) {
        await pause();
        continue;
      }
      await work(items[next++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** `fn` over every item, synchronously, with a turn for the event loop every few ms. */
export async function forEachYielding<T>(items: readonly T[], fn: (item: T) => void, stopped: () => boolean = () => false): Promise<void> {
  let sliceStart = performance.now();
  for (const item of items) {
    if (stopped()) return;
    fn(item);
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
}
