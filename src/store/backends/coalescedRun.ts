/**
 * @module store/backends/coalescedRun — one pass of some work at a time; a request made while a pass runs
 * returns that pass's promise and asks for exactly one more pass after it (requests coalesce, none is lost).
 */
export class CoalescedRun {
  #work: () => Promise<void>;
  #stopped: () => boolean;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(work: () => Promise<void>, stopped: () => boolean) {
    this.#work = work;
    this.#stopped = stopped;
  }

  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#work();
      } while (this.#again && !this.#stopped());
    })().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  /** The pass running now, if any (to wait for it on close). */
  get running(): Promise<void> | undefined {
    return this.#running;
  }
}
