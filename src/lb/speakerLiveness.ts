/**
 * @module lb/speakerLiveness — fast node liveness for the layer-2 election, from the store alone. Every speaker
 * holds the lease `podnet-lb-speaker-<node>` (TTL 2 s) and renews it every 250 ms on a fixed beat
 * (speakerRenewer.ts). Every speaker watches the speaker leases (one Lease informer, no polling) and counts a
 * node dead `deadAfterMs` = 1.5 s after that node's last renewal (its renewTime), once a fresh read of the lease
 * confirms no renewal came meanwhile (speakerSightings.ts); a released lease (clean stop) or one etcd expired
 * counts as dead at once.
 *
 * Why these numbers (target: the new announcer's first gratuitous ARP ≤ 2 s after a kill -9, with margin against
 * event-loop stalls of a few hundred ms on a shared 2-core node):
 * - kill → failover is deadAfter minus the time since the killed node's last renewal (0–250 ms) plus detection
 *   (a timer, one fresh lease read, one plan: tens of ms) ≈ 1.3–1.6 s, 0.4 s inside the target.
 * - A holder whose loop stalls keeps its IPs while the stall is under deadAfter − renewMs = 1.25 s (peers), and
 *   keeps its lease under TTL − renewMs = 1.75 s (itself). Before: TTL 1 s / renew 250 ms / poll 200 ms tolerated
 *   0.75 s, and at 10,000 Services the poll's full-directory list made renewals queue: leases lapsed once a minute.
 * - The TTL is a whole number of seconds (Lease.spec.leaseDurationSeconds is an integer; etcd rounds its minimum
 *   TTL, ≈ 1.5 s with default election settings, up to 2 s), so 1 s was the only TTL under 2 s: peers therefore
 *   decide from sightings, not from the TTL. A peer that decides early (deadAfter < TTL) is harmless: the node it
 *   dropped is by then 1.25 s behind on renewals, and its next renewal brings it back.
 * - memberlist (MetalLB) gossips probes with a 1 s-ish suspicion timeout; one store write per 250 ms per node is
 *   cheaper to build and debug than a second membership protocol, and fine for tens of nodes.
 * On etcd a keepalive does not change the object, so peers learn a death from etcd's DELETED event when the
 * server expires the lease: failover there is the etcd TTL (2 s) plus detection. Object-lease backends compare the
 * writer's renewTime with the reader's clock (bounded: see speakerSightings.ts), so nodes run NTP, as Kubernetes
 * leader election assumes.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { Informer } from '../store/informer.ts';
import { LEASE_NAMESPACE, type Store } from '../store/store.ts';
import type { KindMap } from '../store/types.ts';
import { SpeakerRenewer } from './speakerRenewer.ts';
import { SpeakerSightings, type FreshRead } from './speakerSightings.ts';
import type { RenewStats } from './renewStats.ts';

export const SPEAKER_LEASE_PREFIX = 'podnet-lb-speaker-';
export const SPEAKER_LEASE_TTL_SECONDS = 2;
export const SPEAKER_RENEW_MS = 250;
export const SPEAKER_DEAD_AFTER_MS = 1500;

export interface LivenessOptions {
  store: Store;
  node: string;
  ttlSeconds?: number;
  renewMs?: number;
  /** A peer is dead this long after its lease was last seen renewed (and a fresh read agrees). */
  deadAfterMs?: number;
  logger?: Logger;
  /** Called when the set of alive speakers changes (also the first time it is known). */
  onChange(alive: ReadonlySet<string>): void;
}

type Lease = KindMap['Lease'];

export class SpeakerLiveness {
  #o: LivenessOptions;
  #log: Logger;
  #renewer: SpeakerRenewer;
  #sightings: SpeakerSightings;
  #informer: Informer<'Lease'>;
  #alive = new Set<string>();
  #known = false;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(o: LivenessOptions) {
    this.#o = o;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'lb-liveness', node: o.node });
    const ttlSeconds = o.ttlSeconds ?? SPEAKER_LEASE_TTL_SECONDS;
    const renewMs = o.renewMs ?? SPEAKER_RENEW_MS;
    this.#renewer = new SpeakerRenewer({
      store: o.store, leaseName: SPEAKER_LEASE_PREFIX + o.node, holder: o.node, ttlSeconds, renewMs,
      deadlineMs: Math.min(ttlSeconds * 500, 4 * renewMs), logger: this.#log, onHeldChange: () => this.#publish(),
    });
    this.#sightings = new SpeakerSightings(o.deadAfterMs ?? SPEAKER_DEAD_AFTER_MS, o.store.backend === 'etcd');
    this.#informer = new Informer(o.store, 'Lease', { namespace: LEASE_NAMESPACE, logger: o.logger });
  }

  get alive(): ReadonlySet<string> {
    return this.#alive;
  }

  /** Renewal lateness/latency and losses of this node's own lease so far. */
  get renewStats(): RenewStats {
    return this.#renewer.stats;
  }

  /** How long a node may go unseen before it is dropped (the speaker's startup grace is derived from it). */
  get deadAfterMs(): number {
    return this.#sightings.deadAfterMs;
  }

  async start(): Promise<void> {
    await this.#renewer.start();
    this.#unsubscribe = this.#informer.on({
      add: (l) => this.#seen(l),
      update: (_old, l) => this.#seen(l),
      delete: (l) => { if (isSpeakerLease(l) && this.#sightings.gone(l.metadata.name)) this.#publish(); },
    });
    this.#informer.start();
    await this.#informer.synced();
    this.#publish();
  }

  #seen(l: Lease): void {
    if (!isSpeakerLease(l) || !l.spec?.holderIdentity) return;
    const renewTime = l.spec.renewTime ?? '';
    const changed = this.#sightings.seen({ name: l.metadata.name, holder: l.spec.holderIdentity, version: renewTime, wallAgeMs: wallAge(renewTime) }, performance.now());
    if (changed) this.#publish();
    else this.#arm();
  }

  #arm(): void {
    if (this.#stopped || this.#checking) return;
    clearTimeout(this.#timer);
    const next = this.#sightings.nextDeadlineMs();
    if (next === undefined) return;
    this.#timer = setTimeout(() => {
      // After a stall the timers run before the poll phase delivers what arrived meanwhile: let it run first.
      setImmediate(() => void this.#check());
    }, Math.max(0, next - performance.now()) + 1);
  }

  async #check(): Promise<void> {
    if (this.#stopped || this.#checking) return;
    this.#checking = true;
    let changed = false;
    try {
      const due = this.#sightings.overdue(performance.now());
      const reads = await Promise.all(due.map(async (name): Promise<FreshRead> => {
        const r = await this.#o.store.getLease(name);
        return r ? { name, present: true, holder: r.holder, version: r.renewTime, wallAgeMs: wallAge(r.renewTime) } : { name, present: false };
      }));
      for (const r of reads) changed = this.#sightings.confirm(r, performance.now()) || changed;
    } catch (err) {
      // Unable to read: keep the last known set rather than drop everyone for a store hiccup.
      this.#log.warn({ event: 'livenessCheckFailed', err: describeError(err) }, 'reading speaker leases failed; keeping the last known set');
    } finally {
      this.#checking = false;
    }
    if (changed) this.#publish();
    else this.#arm();
  }

  #publish(): void {
    if (this.#stopped) return;
    this.#arm();
    if (!this.#informer.hasSynced()) return;
    const alive = this.#sightings.holders();
    // We count ourselves alive only while we hold our lease: a node cut off from the store stops announcing.
    if (this.#renewer.held) alive.add(this.#o.node);
    else alive.delete(this.#o.node);
    const changed = !this.#known || alive.size !== this.#alive.size || [...alive].some((n) => !this.#alive.has(n));
    if (!changed) return;
    const gone = [...this.#alive].filter((n) => !alive.has(n));
    const came = [...alive].filter((n) => !this.#alive.has(n));
    this.#alive = alive;
    this.#known = true;
    this.#log.info({ event: 'speakersChanged', alive: [...alive].sort(), gone, came }, `alive speakers: ${[...alive].sort().join(', ') || 'none'}`);
    this.#o.onChange(alive);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    this.#informer.stop();
    await this.#renewer.stop();
  }
}

/** NaN (treated as "as old as it may be") when the time does not parse. */
function wallAge(renewTime: string): number {
  return Date.now() - Date.parse(renewTime);
}

function isSpeakerLease(l: Lease): boolean {
  return l.metadata.name.startsWith(SPEAKER_LEASE_PREFIX);
}
