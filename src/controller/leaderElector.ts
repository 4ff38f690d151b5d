/**
 * @module controller/leaderElector — one holder of a named store lease at a time (Kubernetes leader election on
 * top of Store.acquireLease). Candidates retry every ttl/3; the leader renews every ttl/3 and steps down the
 * moment a renewal says the lease is lost, so two leaders overlap at most until the old one's next renewal.
 */
import type { HeldLease, Store } from '../store/store.ts';
import { describeError } from '../common/errors.ts';
import { recordLeaseLoss } from '../common/leaseLosses.ts';
import { silentLogger, type Logger } from '../common/logger.ts';

export interface LeaderElectorOptions {
  store: Store;
  leaseName: string;
  identity: string;
  ttlSeconds: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  logger?: Logger;
}

export class LeaderElector {
  #o: LeaderElectorOptions;
  #log: Logger;
  #lease: HeldLease | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: LeaderElectorOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'leader', lease: opts.leaseName });
  }

  get isLeader(): boolean {
    return this.#lease !== undefined;
  }

  start(): void {
    void this.#tick();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (this.#lease) await this.#lease.renew();
      else {
        this.#lease = await this.#o.store.acquireLease(this.#o.leaseName, this.#o.identity, this.#o.ttlSeconds);
        if (this.#lease) {
          this.#log.info({ event: 'startedLeading', identity: this.#o.identity }, `${this.#o.identity} is now the leader`);
          this.#o.onStartedLeading();
        }
      }
    } catch (err) {
      if (this.#lease && (err as { reason?: string }).reason === 'LeaseLost') this.#stepDown(err);
      else this.#log.warn({ event: 'leaseError', err: describeError(err) }, 'leader lease request failed; retrying');
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), (this.#o.ttlSeconds * 1000) / 3);
  }

  #stepDown(err: unknown): void {
    this.#lease = undefined;
    recordLeaseLoss(`leader:${this.#o.leaseName}`);
    this.#log.warn({ event: 'stoppedLeading', err: describeError(err) }, `${this.#o.identity} lost the leader lease`);
    this.#o.onStoppedLeading();
  }

  /**
   * Stop campaigning. A leader releases the lease so another instance takes over without waiting for the TTL;
   * `release: false` leaves it to expire (what a crash does; tests use it).
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const lease = this.#lease;
    if (lease) {
      this.#lease = undefined;
      this.#o.onStoppedLeading();
      if (opts.release !== false) await lease.release().catch(() => undefined);
    }
  }
}
