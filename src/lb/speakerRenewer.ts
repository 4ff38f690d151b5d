/**
 * @module lb/speakerRenewer — the holder side of speaker liveness: keep `podnet-lb-speaker-<node>` renewed on a
 * fixed beat. Renewals are due at start + k × renewMs (not "renewMs after the last one finished", so a slow write
 * or a late timer never pushes every later renewal back); a renewal that comes due while the previous is still in
 * flight is issued the moment that one completes. They never overlap: on object leases two in-flight
 * compare-and-swap writes of the same lease would fail each other and look like a loss. Every renewal's lateness
 * (timer) and latency (store) are recorded; one in flight longer than `deadlineMs` is logged while it still
 * runs, and a loss is counted (podnet_lease_losses_total{lease="lb-speaker"}) and logged with how long it had been
 * since the last successful renewal and how late and slow the failing one was.
 */
import { describeError } from '../common/errors.ts';
import { recordLeaseLoss } from '../common/leaseLosses.ts';
import type { Logger } from '../common/logger.ts';
import type { HeldLease, Store } from '../store/store.ts';
import { RenewStats } from './renewStats.ts';

export interface RenewerOptions {
  store: Store;
  leaseName: string;
  holder: string;
  ttlSeconds: number;
  renewMs: number;
  /** Warn about a renewal still in flight after this long (well inside the TTL). */
  deadlineMs: number;
  logger: Logger;
  /** Held → not held or back: the liveness view counts this node alive only while it holds its lease. */
  onHeldChange(held: boolean): void;
}

export class SpeakerRenewer {
  readonly stats = new RenewStats();
  #o: RenewerOptions;
  #lease: HeldLease | undefined;
  #dueAt = 0;
  #lastOkAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;

  constructor(o: RenewerOptions) {
    this.#o = o;
  }

  get held(): boolean {
    return this.#lease !== undefined;
  }

  /** Acquire (or re-acquire) once, then keep the beat. */
  async start(): Promise<void> {
    this.#dueAt = performance.now();
    await this.#beat();
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    const firedAt = performance.now();
    const lateMs = Math.max(0, firedAt - this.#dueAt);
    this.stats.late.add(lateMs);
    this.#inFlight = this.#renewOnce(firedAt, lateMs);
    await this.#inFlight;
    this.#inFlight = undefined;
    if (this.#stopped) return;
    const now = performance.now();
    this.#dueAt += this.#o.renewMs;
    // Behind by more than a beat (a long stall): renew now, then keep the beat from here rather than bursting.
    if (this.#dueAt < now) this.#dueAt = now;
    this.#timer = setTimeout(() => void this.#beat(), this.#dueAt - now);
  }

  async #renewOnce(firedAt: number, lateMs: number): Promise<void> {
    const o = this.#o;
    const watchdog = setTimeout(() => {
      o.logger.warn({ event: 'speakerRenewSlow', lease: o.leaseName, inFlightMs: Math.round(performance.now() - firedAt), ttlSeconds: o.ttlSeconds },
        `renewing ${o.leaseName} has taken over ${o.deadlineMs} ms`);
    }, o.deadlineMs);
    try {
      if (this.#lease) {
        await this.#lease.renew();
      } else {
        this.#lease = await o.store.acquireLease(o.leaseName, o.holder, o.ttlSeconds);
        if (this.#lease) o.onHeldChange(true);
      }
      if (this.#lease) {
        this.stats.took.add(performance.now() - firedAt);
        this.#lastOkAt = performance.now();
      }
    } catch (err) {
      if ((err as { reason?: string }).reason === 'LeaseLost' && !this.#stopped) this.#lost(err, firedAt, lateMs);
      else if (!this.#stopped) o.logger.warn({ event: 'speakerLeaseError', err: describeError(err) }, 'renewing the speaker lease failed; retrying');
    } finally {
      clearTimeout(watchdog);
    }
  }

  #lost(err: unknown, firedAt: number, lateMs: number): void {
    const o = this.#o;
    this.#lease = undefined;
    this.stats.losses += 1;
    recordLeaseLoss('lb-speaker');
    const sinceOk = this.#lastOkAt ? Math.round(performance.now() - this.#lastOkAt) : undefined;
    o.logger.warn({
      event: 'speakerLeaseLost', lease: o.leaseName, err: describeError(err), msSinceLastRenewal: sinceOk,
      renewalLateMs: Math.round(lateMs), renewalTookMs: Math.round(performance.now() - firedAt), ttlSeconds: o.ttlSeconds, renewMs: o.renewMs,
    }, `own speaker lease lapsed ${sinceOk ?? '?'} ms after the last renewal (this renewal fired ${Math.round(lateMs)} ms late); re-acquiring`);
    o.onHeldChange(false);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release().catch(() => undefined);
  }
}
