/**
 * @module store/informerDelivery — the informers' event queues: events are queued as they arrive and handed to
 * consumers in chunks, with a setImmediate between chunks, so a burst (a 20,000-object apply, a relist) never
 * holds the event loop for longer than one chunk: DNS answers, BFD/BGP timers and lease renewals run between
 * chunks (issue 14 item 2). Order is kept per queue and every event is delivered exactly once.
 *
 * One scheduler serves every queue in the process: a turn of the loop spends at most the budget (4 ms) across
 * all of them, round-robin, so ten informers bursting together still yield every 4 ms, not every 40. Within a
 * queue a chunk also ends at a count limit that adapts to what its chunks cost (it bounds the work handed to
 * batch consumers, whose cost the queue only sees per chunk). Rejected: delivering synchronously from the watch
 * callback (the whole burst in one turn of the loop: the 15 % DNS loss in issue 14), and a microtask per chunk
 * (microtasks run before timers and I/O, so they would not yield at all).
 */
import { performance } from 'node:perf_hooks';

/** What one turn of the event loop may spend delivering events, across every informer. */
export const TURN_BUDGET_MS = 4;
const MIN_LIMIT = 8;
const MAX_LIMIT = 65_536;

const active = new Set<ChunkedDelivery<unknown>>();
let scheduled: NodeJS.Immediate | undefined;

function schedule(): void {
  if (scheduled || active.size === 0) return;
  scheduled = setImmediate(runTurn);
}

function runTurn(): void {
  scheduled = undefined;
  const start = performance.now();
  const queues = [...active];
  for (const q of queues) {
    if (performance.now() - start >= TURN_BUDGET_MS) break;
    q.runChunk(start);
    if (q.pending === 0 || q.paused) active.delete(q);
  }
  // Round-robin: the next turn starts with the next queue, so one busy informer cannot keep the others waiting.
  const first = queues[0];
  if (first && active.has(first)) { active.delete(first); active.add(first); }
  schedule();
}

export class ChunkedDelivery<T> {
  #items: T[] = [];
  #head = 0;
  #paused = false;
  #limit = 512;
  #deliverOne: (item: T) => void;
  #endChunk: (chunk: readonly T[]) => void;

  /**
   * `deliverOne` runs for each item in order; `endChunk` once per chunk with the chunk's items (for batch
   * consumers), after every deliverOne of that chunk.
   */
  constructor(deliverOne: (item: T) => void, endChunk: (chunk: readonly T[]) => void) {
    this.#deliverOne = deliverOne;
    this.#endChunk = endChunk;
  }

  get pending(): number {
    return this.#items.length - this.#head;
  }

  get paused(): boolean {
    return this.#paused;
  }

  push(item: T): void {
    this.#items.push(item);
    if (!this.#paused) this.#activate();
  }

  /** Hold delivery (a stopped informer); queued items stay and go out after resume(). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    if (this.pending > 0) this.#activate();
  }

  #activate(): void {
    active.add(this as ChunkedDelivery<unknown>);
    schedule();
  }

  /** Deliver one chunk, stopping when the turn that began at `turnStart` has spent its budget. */
  runChunk(turnStart: number): void {
    const start = performance.now();
    const from = this.#head;
    const end = Math.min(this.#items.length, from + this.#limit);
    let i = from;
    // Checking the clock per item costs ~50 ns; one expensive event then cuts the chunk short instead of
    // stretching it to the full count.
    while (i < end && !this.#paused) {
      this.#deliverOne(this.#items[i]!);
      i += 1;
      if (performance.now() - turnStart >= TURN_BUDGET_MS) break;
    }
    this.#head = i;
    this.#endChunk(this.#items.slice(from, i));
    this.#adapt(i - from, performance.now() - start);
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  #adapt(count: number, ms: number): void {
    if (ms > TURN_BUDGET_MS * 1.5) this.#limit = Math.max(MIN_LIMIT, Math.floor((count * TURN_BUDGET_MS) / ms));
    else if (count === this.#limit && ms < TURN_BUDGET_MS / 2) this.#limit = Math.min(MAX_LIMIT, this.#limit * 2);
  }
}
