/**
 * @module lb/speakerSightings — which speakers are alive, from when each one's lease was last renewed. Pure: time
 * is passed in (monotonic ms, plus the wall-clock age of the lease's renewTime when it was read). A speaker is due
 * for a check `deadAfterMs` after its last renewal; the caller then reads the lease fresh from the store (a watch
 * can lag: a file store sees other processes' writes only after its next scan) and reports what it read with
 * `confirm`. The renewal time is the writer's renewTime as the reader's clock sees it, clamped to [now − deadAfter,
 * now]: a lagging watch does not delay detection, and a writer clock ahead of ours cannot keep a dead node alive
 * longer than deadAfter after we last saw it renew. Clock skew (nodes run NTP) shortens the deadline by the skew.
 */

export interface Sighting {
  holder: string;
  /** What changes on every renewal (the lease's renewTime + resourceVersion). */
  version: string;
  seenAtMs: number;
}

export interface SeenLease {
  name: string;
  holder: string;
  version: string;
  /** Wall-clock age of the lease's renewTime when read, ms. */
  wallAgeMs: number;
}

export type FreshRead =
  | { name: string; present: false }
  | { name: string; present: true; holder: string; version: string; wallAgeMs: number };

export class SpeakerSightings {
  readonly deadAfterMs: number;
  /** Server-enforced expiry (etcd): a lease that exists is alive even when its object did not change. */
  readonly existenceIsLiveness: boolean;
  #alive = new Map<string, Sighting>();

  constructor(deadAfterMs: number, existenceIsLiveness: boolean) {
    this.deadAfterMs = deadAfterMs;
    this.existenceIsLiveness = existenceIsLiveness;
  }

  /** A watch/list showed the lease. Returns true when the alive set changed. */
  seen(l: SeenLease, nowMs: number): boolean {
    const prev = this.#alive.get(l.name);
    if (prev && prev.version === l.version && prev.holder === l.holder) return false;
    // A watch that lags can deliver a renewal from before a node died after we dropped it: already past the
    // deadline, it must not bring the node back for a moment.
    if (!prev && !this.existenceIsLiveness && this.#age(l.wallAgeMs) >= this.deadAfterMs) return false;
    this.#alive.set(l.name, { holder: l.holder, version: l.version, seenAtMs: nowMs - this.#age(l.wallAgeMs) });
    return !prev || prev.holder !== l.holder;
  }

  /** The lease was deleted (released, or expired on etcd). */
  gone(name: string): boolean {
    return this.#alive.delete(name);
  }

  /** Names whose deadline has passed: read them fresh and `confirm`. */
  overdue(nowMs: number): string[] {
    return [...this.#alive].filter(([, s]) => nowMs - s.seenAtMs >= this.deadAfterMs).map(([n]) => n);
  }

  /** When the next speaker comes due, or undefined. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const s of this.#alive.values()) next = Math.min(next ?? Infinity, s.seenAtMs + this.deadAfterMs);
    return next;
  }

  /** The fresh read of an overdue lease. Returns true when the alive set changed. */
  confirm(r: FreshRead, nowMs: number): boolean {
    const prev = this.#alive.get(r.name);
    if (!prev) return false;
    if (!r.present) return this.gone(r.name);
    const renewed = r.version !== prev.version || r.holder !== prev.holder;
    if (renewed || this.existenceIsLiveness) {
      this.#alive.set(r.name, { holder: r.holder, version: r.version, seenAtMs: nowMs - this.#age(r.wallAgeMs) });
      return r.holder !== prev.holder;
    }
    if (nowMs - prev.seenAtMs < this.deadAfterMs) return false;
    return this.gone(r.name);
  }

  /** How long ago the renewal was, bounded; on etcd renewTime is the acquire time, so it says nothing. */
  #age(wallAgeMs: number): number {
    if (this.existenceIsLiveness) return 0;
    return Math.min(Math.max(0, Number.isFinite(wallAgeMs) ? wallAgeMs : this.deadAfterMs), this.deadAfterMs);
  }

  holders(): Set<string> {
    return new Set([...this.#alive.values()].map((s) => s.holder));
  }
}
