/**
 * @module bgp/bgpKernelSync — keeps the kernel's proto-159 routes equal to the speaker's RIB, safely across a
 * restart (RFC 4724 as the restarting speaker): until the speaker is `converged` (End-of-RIB from every peer, or
 * its timeout) changes are only applied incrementally, so the routes a previous podnetd left in the kernel keep
 * forwarding; at convergence one `resync` adopts what is still wanted and prunes the rest; after that a periodic
 * resync repairs drift (a route deleted by hand). Batches are applied one after another, in order.
 */
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { KernelRoute } from './rib.ts';
import type { ApplyResult, KernelApplier } from './kernelApplier.ts';
import type { KernelChange } from './speaker.ts';

export interface KernelSyncOptions {
  applier: KernelApplier;
  /** The full desired set, read at resync time. */
  desired(): KernelRoute[];
  resyncMs: number;
  log: Logger;
}

export class BgpKernelSync {
  readonly #o: KernelSyncOptions;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  converged = false;
  last: ApplyResult | undefined;

  constructor(o: KernelSyncOptions) {
    this.#o = o;
  }

  apply(changes: KernelChange[]): void {
    this.#enqueue('apply', () => this.#o.applier.apply(changes));
  }

  /** The speaker converged: prune what it did not re-learn, then keep checking. */
  onConverged(why: string): void {
    if (this.converged) return;
    this.converged = true;
    this.#o.log.info({ event: 'bgpConverged', why }, `BGP kernel routes in steady state (${why}): routes not in the RIB are pruned from now on`);
    this.resync();
    this.#timer = setInterval(() => this.resync(), this.#o.resyncMs);
    this.#timer.unref();
  }

  resync(): void {
    this.#enqueue('resync', () => this.#o.applier.resync(this.#o.desired()));
  }

  #enqueue(what: string, run: () => Promise<ApplyResult>): void {
    if (this.#closed) return;
    this.#queue = this.#queue.then(run).then((r) => {
      this.last = r;
      if (r.failed.length) {
        this.#o.log.error({ event: 'kernelRouteFailed', what, failed: r.failed.slice(0, 5), count: r.failed.length }, `BGP: ${r.failed.length} kernel route(s) failed, e.g. ${r.failed[0]!.prefix}: ${r.failed[0]!.error}`);
      }
      if (what === 'resync' && (r.removed || r.installed) && this.#o.log.isLevelEnabled('debug')) {
        this.#o.log.debug({ event: 'kernelResync', installed: r.installed, removed: r.removed }, 'BGP kernel resync');
      }
    }, (err: unknown) => {
      this.#o.log.error({ event: 'kernelSyncFailed', what, err: describeError(err) }, `BGP: kernel ${what} failed: ${describeError(err)}`);
    });
  }

  /** Resolves when every queued batch is done. */
  async idle(): Promise<void> {
    let q: Promise<unknown>;
    do { q = this.#queue; await q; } while (q !== this.#queue);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }
}
