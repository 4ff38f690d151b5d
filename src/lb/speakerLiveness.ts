/**
 * @module lb/speakerLiveness — fast node liveness for the layer-2 election, from the store alone: every speaker
 * holds the lease `podnet-lb-speaker-<node>` with a 1 s TTL and renews it every 250 ms; every speaker polls the
 * speaker leases every 200 ms. A node killed with -9 stops renewing, its lease expires 0.75–1 s later and the
 * others see it within one poll, so the new announcer's first gratuitous ARP goes out ≈ 1–1.2 s after the kill
 * (target ≤ 2 s; MetalLB gets there with memberlist gossip, Cilium's default Lease timing takes 10–20 s). A
 * clean stop releases the lease at once.
 * Costs: each node writes 4 renewals/s and reads N leases 5 times/s — fine for tens of nodes on file/etcd stores;
 * beyond that a gossip heartbeat would be the better trade (rejected for now: a second membership protocol).
 * Expiry of object leases (file/memory/kube) uses the wall clocks of writer and reader: nodes must run NTP, as
 * Kubernetes leader election assumes. On etcd the server enforces a minimum TTL (about 2 s with default election
 * settings), so failover there is slower.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { LEASE_NAMESPACE, type HeldLease, type Store } from '../store/store.ts';

export const SPEAKER_LEASE_PREFIX = 'podnet-lb-speaker-';

export interface LivenessOptions {
  store: Store;
  node: string;
  ttlSeconds?: number;
  renewMs?: number;
  pollMs?: number;
  logger?: Logger;
  /** Called when the set of alive speakers changes (also the first time it is known). */
  onChange(alive: ReadonlySet<string>): void;
}

export class SpeakerLiveness {
  #o: LivenessOptions;
  #log: Logger;
  #lease: HeldLease | undefined;
  #alive = new Set<string>();
  #known = false;
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  #renewing = false;
  #polling = false;

  constructor(o: LivenessOptions) {
    this.#o = o;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'lb-liveness', node: o.node });
  }

  get alive(): ReadonlySet<string> {
    return this.#alive;
  }

  async start(): Promise<void> {
    await this.#renew();
    await this.#poll();
    this.#timers.push(setInterval(() => void this.#renew(), this.#o.renewMs ?? 250));
    this.#timers.push(setInterval(() => void this.#poll(), this.#o.pollMs ?? 200));
  }

  async #renew(): Promise<void> {
    if (this.#stopped || this.#renewing) return;
    this.#renewing = true;
    try {
      if (this.#lease) await this.#lease.renew();
      else this.#lease = await this.#o.store.acquireLease(SPEAKER_LEASE_PREFIX + this.#o.node, this.#o.node, this.#o.ttlSeconds ?? 1);
    } catch (err) {
      if ((err as { reason?: string }).reason === 'LeaseLost') {
        this.#log.warn({ event: 'speakerLeaseLost', err: describeError(err) }, 'own speaker lease expired; re-acquiring');
        this.#lease = undefined;
      } else {
        this.#log.warn({ event: 'speakerLeaseError', err: describeError(err) }, 'renewing the speaker lease failed; retrying');
      }
    } finally {
      this.#renewing = false;
    }
  }

  async #poll(): Promise<void> {
    if (this.#stopped || this.#polling) return;
    this.#polling = true;
    try {
      const { items } = await this.#o.store.list('Lease', { namespace: LEASE_NAMESPACE });
      const names = items.map((l) => l.metadata.name).filter((n) => n.startsWith(SPEAKER_LEASE_PREFIX));
      const records = await Promise.all(names.map((n) => this.#o.store.getLease(n)));
      const alive = new Set(records.filter((r) => r !== undefined).map((r) => r.holder));
      // We count ourselves alive only while we hold our lease: a node cut off from the store stops announcing.
      if (!this.#lease) alive.delete(this.#o.node);
      const changed = !this.#known || alive.size !== this.#alive.size || [...alive].some((n) => !this.#alive.has(n));
      if (changed) {
        const gone = [...this.#alive].filter((n) => !alive.has(n));
        const came = [...alive].filter((n) => !this.#alive.has(n));
        this.#alive = alive;
        this.#known = true;
        this.#log.info({ event: 'speakersChanged', alive: [...alive].sort(), gone, came }, `alive speakers: ${[...alive].sort().join(', ') || 'none'}`);
        this.#o.onChange(alive);
      }
    } catch (err) {
      this.#log.warn({ event: 'livenessPollFailed', err: describeError(err) }, 'reading speaker leases failed; keeping the last known set');
    } finally {
      this.#polling = false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#lease?.release().catch(() => undefined);
    this.#lease = undefined;
  }
}
