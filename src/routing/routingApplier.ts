/**
 * @module routing/routingApplier — make the kernel match the desired routing state and keep it there.
 *
 * Level-triggered with one owner loop (MetalLB's Session.Set shape): `setDesired()` replaces the whole desired
 * state and wakes the loop; triggers arriving while it runs are coalesced into one more pass. Each pass diffs the
 * desired state against the last known kernel state and sends only the difference. The known state is re-read
 * from the kernel (a) at start, so a restart adopts what is there instead of flushing it, (b) after any failed
 * operation, (c) when a netlink event contradicts the desired state (someone deleted a route, a neighbour, or the
 * device: repaired within one pass, milliseconds), and (d) on the periodic full check, which heals whatever an
 * event could not reveal (IPv4 routes vanish silently with their device; event buffers can overflow).
 *
 * `undefined` desired state means "not known yet": nothing is touched. An empty desired state means "own
 * nothing": podnet's devices and routes are removed.
 */
import { describeError, UnsupportedKernelError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import type { Rtnetlink, RtnetlinkEvents } from '../netlink/index.ts';
import { readKernelState } from './kernelSnapshot.ts';
import { diffRouting, opCount, type KernelState } from './routingDiff.ts';
import { DriftDetector } from './driftDetector.ts';
import type { DesiredLink, DesiredState } from './routingModel.ts';
import { runPhases } from './routingOps.ts';

export interface ApplyReport {
  reason: string;
  ops: number;
  counts: Record<string, number>;
  ms: number;
  errors: string[];
}

export interface RoutingApplierOptions {
  rtnl: Rtnetlink;
  /** Event subscription in the same namespace; without it only the periodic check repairs drift. */
  events?: RtnetlinkEvents;
  logger?: Logger;
  /** Full check against the kernel this often; default 10 s (flannel's routeCheck). */
  resyncMs?: number;
  /** Wait after a failed pass; doubles to 30 s. Default 500 ms. */
  retryMs?: number;
  /** Called once per tunnel device instance (after creation or adoption), e.g. to turn TX checksum offload off. */
  prepareDevice?: (link: DesiredLink) => Promise<void>;
  onApplied?: (report: ApplyReport) => void;
}

export class RoutingApplier {
  readonly #o: RoutingApplierOptions;
  readonly #log: Logger;
  #desired: DesiredState | undefined;
  #known: KernelState | undefined;
  #drift = new DriftDetector();
  #reasons = new Set<string>();
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs: number;
  #preparedIndex: number | undefined;
  #closed = false;
  #fatal: Error | undefined;
  last: ApplyReport | undefined;

  constructor(opts: RoutingApplierOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'routing' });
    this.#retryMs = opts.retryMs ?? 500;
    opts.events?.on('link', (action, link) => this.#onEvent(this.#drift.link(action, link)));
    opts.events?.on('route', (action, route) => this.#onEvent(this.#drift.route(action, route)));
    opts.events?.on('neighbour', (action, n) => this.#onEvent(this.#drift.neighbour(action, n)));
    opts.events?.on('overflow', () => this.#onEvent('events lost (overflow)'));
    this.#timer = setInterval(() => this.#invalidate('periodic check'), opts.resyncMs ?? 10_000);
    this.#timer.unref();
  }

  /** A failure no retry can fix (a kernel without the backend's module), if one happened. */
  get fatal(): Error | undefined {
    return this.#fatal;
  }

  setDesired(state: DesiredState): void {
    this.#desired = state;
    this.#drift.setDesired(state);
    this.#schedule('desired state changed');
  }

  /** Resolves when no pass is running or queued (for tests, benchmarks and start-up). */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop;
  }

  /** Re-read the kernel and repair, now. */
  async check(reason = 'requested check'): Promise<ApplyReport | undefined> {
    this.#invalidate(reason);
    await this.idle();
    return this.last;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
  }

  #onEvent(contradiction: string | undefined): void {
    if (contradiction) this.#invalidate(contradiction);
  }

  #invalidate(reason: string): void {
    this.#known = undefined;
    this.#schedule(reason);
  }

  #schedule(reason: string): void {
    if (this.#closed) return;
    this.#reasons.add(reason);
    this.#loop ??= this.#drain().finally(() => { this.#loop = undefined; });
  }

  async #drain(): Promise<void> {
    await Promise.resolve(); // let triggers of the same tick coalesce
    while (this.#reasons.size && !this.#closed) {
      const reason = [...this.#reasons].join('; ');
      this.#reasons.clear();
      await this.#pass(reason);
    }
  }

  async #pass(reason: string): Promise<void> {
    const desired = this.#desired;
    if (!desired) return;
    const t0 = performance.now();
    try {
      this.#known ??= await readKernelState(this.#o.rtnl, desired.link?.name);
    } catch (err) {
      this.#failed(reason, t0, [err as Error], {});
      return;
    }
    const phases = diffRouting(desired, this.#known);
    const tunnelNow = this.#known.links.find((l) => l.name === desired.link?.name)?.index;
    const res = opCount(phases) ? await runPhases(this.#o.rtnl, phases, desired.link?.name, tunnelNow) : { tunnelIndex: tunnelNow, created: false, errors: [], counts: {} };
    this.#drift.setTunnelIndex(res.tunnelIndex);
    const prepErr = await this.#prepare(desired.link, res.tunnelIndex);
    const errors = prepErr ? [...res.errors, prepErr] : res.errors;
    if (errors.length) { this.#failed(reason, t0, errors, res.counts); return; }
    this.#known = materialize(desired, res.tunnelIndex);
    this.#retryMs = this.#o.retryMs ?? 500;
    const report: ApplyReport = { reason, ops: opCount(phases), counts: res.counts, ms: performance.now() - t0, errors: [] };
    this.last = report;
    if (report.ops) this.#log.info({ event: 'applied', reason, ops: report.ops, counts: res.counts, ms: Math.round(report.ms * 10) / 10 }, `routing: ${report.ops} kernel changes in ${report.ms.toFixed(1)} ms (${reason})`);
    this.#o.onApplied?.(report);
  }

  async #prepare(link: DesiredLink | undefined, index: number | undefined): Promise<Error | undefined> {
    if (!link || index === undefined || index === this.#preparedIndex || !this.#o.prepareDevice) return undefined;
    try {
      await this.#o.prepareDevice(link);
      this.#preparedIndex = index;
      return undefined;
    } catch (err) {
      return new Error(`preparing ${link.name}: ${describeError(err)}`);
    }
  }

  #failed(reason: string, t0: number, errors: Error[], counts: Record<string, number>): void {
    this.#known = undefined;
    const msgs = errors.map(describeError);
    this.last = { reason, ops: 0, counts, ms: performance.now() - t0, errors: msgs };
    this.#fatal ??= errors.find((e) => e instanceof UnsupportedKernelError);
    this.#log.error({ event: 'applyFailed', reason, errors: msgs.slice(0, 5), failed: msgs.length, retryMs: this.#retryMs }, `routing: ${msgs.length} kernel changes failed: ${msgs[0]}`);
    this.#o.onApplied?.(this.last);
    if (this.#fatal) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#schedule('retry after failure'), this.#retryMs);
    this.#retry.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
  }
}

/** The kernel state after every operation of a pass succeeded: exactly the desired state. */
function materialize(d: DesiredState, tunnelIndex: number | undefined): KernelState {
  const link = d.link;
  return {
    links: link && tunnelIndex !== undefined ? [{
      name: link.name, index: tunnelIndex, kind: link.kind, up: true, mtu: link.mtu, mac: link.kind === 'vxlan' ? link.mac : undefined,
      local: link.local, uplinkIndex: link.uplinkIndex, ...(link.kind === 'vxlan' ? { vni: link.vni, port: link.port, learning: false } : {}),
    }] : [],
    addresses: [...d.addresses],
    neighbours: [...d.neighbours],
    fdb: [...d.fdb],
    routes: d.routes.map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev === 'tunnel' ? tunnelIndex : r.dev, onlink: r.onlink })),
  };
}
