/**
 * @module lb/speaker — the layer-2 speaker of one node: liveness (speakerLiveness), the pure planner
 * (announcePlanner/election) and the announcer, wired to store informers. Level-triggered: any event of any
 * input, and any change of the alive set, schedules one re-plan of the whole table (coalesced), whose rows for
 * this node become the announcer's desired set; a 5 s timer re-plans too, so a missed event heals.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { Informer } from '../store/informer.ts';
import { LEASE_NAMESPACE, retryUpdate, type Store } from '../store/store.ts';
import { configFromInformers, type LbInformers } from './allocController.ts';
import { planAnnouncements, type PlannedIp } from './announcePlanner.ts';
import type { Announcement, Announcer } from './announcer.ts';
import { reportName, reportObject } from './speakerReport.ts';
import { SpeakerLiveness, type LivenessOptions } from './speakerLiveness.ts';

export interface SpeakerInformers extends LbInformers {
  slices: Informer<'EndpointSlice'>;
  nodes: Informer<'Node'>;
}

export function startSpeakerInformers(base: LbInformers, store: Store, logger?: Logger): SpeakerInformers {
  return {
    ...base,
    slices: new Informer(store, 'EndpointSlice', { logger, resyncMs: 30_000 }).start(),
    nodes: new Informer(store, 'Node', { logger, resyncMs: 30_000 }).start(),
  };
}

export interface SpeakerOptions {
  store: Store;
  node: string;
  informers: SpeakerInformers;
  announcer: Announcer;
  logger?: Logger;
  liveness?: Partial<Pick<LivenessOptions, 'ttlSeconds' | 'renewMs' | 'deadAfterMs'>>;
  replanMs?: number;
  /**
   * After start, announce nothing for this long (default: the liveness deadline, 1.5 s): every peer alive before
   * us, or starting with us, has written its lease by then, so a fresh start never has two nodes answering at once.
   * Failover is unaffected: the survivors are long past their grace.
   */
  startupGraceMs?: number;
}

export class Speaker {
  #o: SpeakerOptions;
  #log: Logger;
  #liveness: SpeakerLiveness;
  #lastOwner = new Map<string, string | undefined>();
  #table: PlannedIp[] = [];
  #pending = false;
  #planning: Promise<void> = Promise.resolve();
  #unsubscribe: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #announceFrom = Number.POSITIVE_INFINITY;

  constructor(o: SpeakerOptions) {
    this.#o = o;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'lb-speaker', node: o.node });
    this.#liveness = new SpeakerLiveness({ store: o.store, node: o.node, logger: o.logger, ...o.liveness, onChange: () => this.schedule() });
  }

  /** The last planned table (every LB IP and who announces it). */
  table(): PlannedIp[] {
    return this.#table;
  }

  async start(): Promise<void> {
    const i = this.#o.informers;
    for (const inf of Object.values(i) as Array<Informer<'Service'>>) {
      this.#unsubscribe.push(inf.on({ add: () => this.schedule(), update: (a, b) => { if (a !== b) this.schedule(); }, delete: () => this.schedule() }));
    }
    await Promise.all((Object.values(i) as Array<Informer<'Service'>>).map((inf) => inf.synced()));
    await this.#liveness.start();
    const grace = this.#o.startupGraceMs ?? this.#liveness.deadAfterMs;
    this.#announceFrom = Date.now() + grace;
    setTimeout(() => this.schedule(), grace + 10).unref();
    this.#timer = setInterval(() => this.schedule(), this.#o.replanMs ?? 5000);
    this.#timer.unref();
    this.schedule();
  }

  schedule(): void {
    if (this.#pending || this.#stopped) return;
    this.#pending = true;
    this.#planning = this.#planning.then(async () => {
      this.#pending = false;
      await this.#plan();
    }).catch((err) => this.#log.error({ event: 'planFailed', err: describeError(err) }, 'planning announcements failed'));
  }

  /** Resolves after the plan scheduled so far has been applied (tests). */
  async settled(): Promise<void> {
    await this.#planning;
  }

  async #plan(): Promise<void> {
    if (this.#stopped) return;
    const i = this.#o.informers;
    const alive = this.#liveness.alive;
    const table = planAnnouncements({
      services: i.services.list(), slices: i.slices.list(), nodes: i.nodes.list(), alive, config: configFromInformers(i),
    });
    const inGrace = Date.now() < this.#announceFrom;
    const mine: Announcement[] = inGrace ? [] : table.filter((r) => r.node === this.#o.node).map((r) => {
      const prev = this.#lastOwner.get(r.ip);
      const cause = prev && prev !== this.#o.node && !alive.has(prev) ? 'failover' : prev === this.#o.node ? 'kept' : 'elected';
      return { ip: r.ip, service: r.services.join(','), interfaces: r.interfaces, cause };
    });
    this.#lastOwner = new Map(table.map((r) => [r.ip, r.node]));
    this.#table = table;
    await this.#o.announcer.setDesired(mine);
    await this.#report();
  }

  async #report(): Promise<void> {
    const list = this.#o.announcer.announcements().map((a) => ({ ip: a.ip, services: a.service.split(','), interfaces: a.openInterfaces }));
    try {
      await retryUpdate(this.#o.store, 'ConfigMap', reportName(this.#o.node), LEASE_NAMESPACE, (cur) => reportObject(this.#o.node, list, cur));
    } catch (err) {
      this.#log.warn({ event: 'reportFailed', err: describeError(err) }, 'publishing the announcement report failed');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const u of this.#unsubscribe) u();
    await this.#planning;
    await this.#liveness.stop();
    await this.#o.announcer.stop();
    // Withdraw the report: after a clean stop this node announces nothing.
    await retryUpdate(this.#o.store, 'ConfigMap', reportName(this.#o.node), LEASE_NAMESPACE, (cur) => reportObject(this.#o.node, [], cur)).catch(() => undefined);
  }
}
