/**
 * @module common/sampleRing — the last N samples of a duration (ms) with p50/p99/max, for "how late did this
 * timer fire" and "how long did that renewal take" figures that status output and logs show. Bounded memory; the
 * max and count cover every sample ever added, the percentiles the last `capacity`.
 */

export interface TimingSummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const tenth = (ms: number): number => Math.round(ms * 10) / 10;

export class SampleRing {
  readonly capacity: number;
  #samples: number[] = [];
  #next = 0;
  #count = 0;
  #max = 0;

  constructor(capacity = 4096) {
    this.capacity = capacity;
  }

  add(ms: number): void {
    if (this.#samples.length < this.capacity) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.capacity;
    this.#count += 1;
    this.#max = Math.max(this.#max, ms);
  }

  summary(): TimingSummary {
    const s = [...this.#samples].sort((a, b) => a - b);
    const at = (q: number) => (s.length === 0 ? 0 : tenth(s[Math.min(s.length - 1, Math.floor(q * s.length))]!));
    return { count: this.#count, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: tenth(this.#max) };
  }
}
