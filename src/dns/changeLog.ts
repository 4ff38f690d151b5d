/**
 * @module dns/changeLog — the bounded log behind ZoneIndex.changesSince: which names each generation touched, or
 * "all" for a change whose effect reaches other names. A reader further behind than the log drops everything.
 */
import type { ChangedNames } from './zoneIndex.ts';

/** Changes remembered; a reader further behind drops everything. */
const CHANGE_LOG_LIMIT = 256;

export class ChangeLog {
  generation = 0;
  readonly #log: Array<{ generation: number; names: readonly string[] | null }> = [];

  /** Record one change (`null` = all names); returns the new generation. */
  add(names: readonly string[] | null): number {
    this.generation++;
    this.#log.push({ generation: this.generation, names });
    if (this.#log.length > CHANGE_LOG_LIMIT) this.#log.shift();
    return this.generation;
  }

  since(generation: number): ChangedNames {
    if (generation === this.generation) return new Set();
    const first = this.#log[0];
    if (!first || first.generation > generation + 1) return 'all';
    const out = new Set<string>();
    for (const e of this.#log) {
      if (e.generation <= generation) continue;
      if (e.names === null) return 'all';
      for (const n of e.names) out.add(n);
    }
    return out;
  }
}
