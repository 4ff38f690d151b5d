/**
 * @module lb/announcer — the layer-2 announcer of one node (MetalLB's internal/layer2 Announce): a declarative
 * `setDesired(announcements)` replaces the whole set of (IP, service, interfaces) this node answers for; one
 * InterfaceResponder per eligible interface answers ARP/NDP from that set. An IP that enters the set is
 * announced at once with gratuitous ARP / an unsolicited NA and again every 1.1 s for 5 s (MetalLB's cadence,
 * metallb/metallb#64 and announcer.go: clients and switches that miss or rate-limit the first burst still
 * converge, #2009), and every acquisition and release is logged as an ownership change. Interfaces are rescanned
 * every 10 s and on every setDesired, so a link that comes up later gets its responder.
 * An empty desired set means "announce nothing"; before the first setDesired nothing is announced either.
 */
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import type { OpenFrameSocket } from './frameSocket.ts';
import { InterfaceResponder } from './interfaceResponder.ts';
import type { LbMetrics } from './lbMetrics.ts';
import { eligibleInterfaces, type LinkLister } from './linkScan.ts';

export interface Announcement {
  ip: string;
  service: string;
  /** Interface names to answer on; undefined = every eligible interface. */
  interfaces: string[] | undefined;
  /** Why this node got it, for the ownership log line: 'elected', 'failover' (previous announcer died)... */
  cause?: string;
}

export interface AnnouncerOptions {
  node: string;
  links: LinkLister;
  openSocket: OpenFrameSocket;
  logger?: Logger;
  metrics?: LbMetrics;
  /** MetalLB: 1.1 s between bursts, for 5 s after a change. */
  garpIntervalMs?: number;
  garpWindowMs?: number;
  rescanMs?: number;
}

interface Owned extends Announcement {
  since: number;
  timer: NodeJS.Timeout | undefined;
}

export class Announcer {
  #o: Required<Pick<AnnouncerOptions, 'garpIntervalMs' | 'garpWindowMs' | 'rescanMs'>> & AnnouncerOptions;
  #log: Logger;
  #owned = new Map<string, Owned>();
  #responders = new Map<string, InterfaceResponder>();
  #rescan: NodeJS.Timeout | undefined;
  #scanning: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(o: AnnouncerOptions) {
    this.#o = { garpIntervalMs: 1100, garpWindowMs: 5000, rescanMs: 10_000, ...o };
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'lb-announcer', node: o.node });
  }

  start(): void {
    this.#rescan = setInterval(() => void this.#syncInterfaces(), this.#o.rescanMs);
    this.#rescan.unref();
  }

  /** What this node answers for now, with the interfaces actually open. */
  announcements(): Array<Announcement & { openInterfaces: string[] }> {
    return [...this.#owned.values()].map((a) => ({
      ip: a.ip, service: a.service, interfaces: a.interfaces, cause: a.cause,
      openInterfaces: [...this.#responders.keys()].filter((i) => !a.interfaces || a.interfaces.includes(i)),
    }));
  }

  owns = (ip: string, ifname: string): 'yes' | 'otherInterface' | 'no' => {
    const a = this.#owned.get(ip);
    if (!a) return 'no';
    return !a.interfaces || a.interfaces.includes(ifname) ? 'yes' : 'otherInterface';
  };

  /** Replace the desired set; resolves once responders exist for the interfaces it needs. */
  async setDesired(list: readonly Announcement[]): Promise<void> {
    if (this.#stopped) return;
    const next = new Map(list.map((a) => [a.ip, a]));
    for (const [ip, a] of this.#owned) {
      if (next.has(ip)) continue;
      clearTimeout(a.timer);
      this.#owned.delete(ip);
      this.#o.metrics?.ownershipChanges.inc({ change: 'released' });
      this.#log.info({ event: 'ipReleased', ip, service: a.service }, `${this.#o.node} stopped announcing ${ip} (${a.service})`);
    }
    const acquired: string[] = [];
    for (const a of list) {
      const had = this.#owned.get(a.ip);
      if (had) { Object.assign(had, { service: a.service, interfaces: a.interfaces }); continue; }
      this.#owned.set(a.ip, { ...a, since: Date.now(), timer: undefined });
      acquired.push(a.ip);
    }
    this.#o.metrics?.announcedIps.set(this.#owned.size);
    await this.#syncInterfaces();
    for (const ip of acquired) this.#acquire(ip);
  }

  #acquire(ip: string): void {
    const a = this.#owned.get(ip);
    if (!a) return;
    const cause = a.cause ?? 'elected';
    this.#o.metrics?.ownershipChanges.inc({ change: 'acquired' });
    if (cause === 'failover') this.#o.metrics?.failovers.inc();
    const ifaces = this.announcements().find((x) => x.ip === ip)?.openInterfaces ?? [];
    this.#log.info({ event: 'ipAcquired', ip, service: a.service, cause, interfaces: ifaces },
      `${this.#o.node} now announces ${ip} (${a.service}) on ${ifaces.join(', ') || 'no interface'} (${cause})`);
    this.#burst(ip);
  }

  /** Send one gratuitous burst and schedule the next while inside the window. */
  #burst(ip: string): void {
    const a = this.#owned.get(ip);
    if (!a || this.#stopped) return;
    for (const [name, r] of this.#responders) if (!a.interfaces || a.interfaces.includes(name)) r.announce(ip);
    if (Date.now() - a.since + this.#o.garpIntervalMs <= this.#o.garpWindowMs) {
      a.timer = setTimeout(() => this.#burst(ip), this.#o.garpIntervalMs);
    } else {
      a.timer = undefined;
    }
  }

  #wantedInterfaces(): string[] | undefined {
    const all = [...this.#owned.values()];
    // Nothing owned: keep every eligible interface open, so a takeover does not wait for socket setup.
    if (all.length === 0 || all.some((a) => !a.interfaces)) return undefined;
    return [...new Set(all.flatMap((a) => a.interfaces ?? []))];
  }

  #syncInterfaces(): Promise<void> {
    this.#scanning = this.#scanning.then(() => this.#doSync()).catch((err) => {
      this.#log.warn({ event: 'interfaceScanFailed', err: describeError(err) }, 'listing interfaces failed; retrying at the next scan');
    });
    return this.#scanning;
  }

  async #doSync(): Promise<void> {
    if (this.#stopped) return;
    const want = eligibleInterfaces(await this.#o.links(), this.#wantedInterfaces());
    const names = new Set(want.map((w) => w.ifname));
    for (const [name, r] of this.#responders) {
      const w = want.find((x) => x.ifname === name);
      if (names.has(name) && w && w.ifindex === r.info.ifindex && w.mac === r.info.mac) continue;
      r.close();
      this.#responders.delete(name);
      this.#log.info({ event: 'interfaceClosed', interface: name }, `stopped answering on ${name}`);
    }
    for (const w of want) {
      if (this.#responders.has(w.ifname)) continue;
      try {
        this.#responders.set(w.ifname, new InterfaceResponder(w, this.#o.openSocket, this.owns, this.#log, this.#o.metrics));
        this.#log.info({ event: 'interfaceOpened', interface: w.ifname, mac: w.mac }, `answering ARP/NDP on ${w.ifname} (${w.mac})`);
      } catch (err) {
        this.#log.warn({ event: 'interfaceOpenFailed', interface: w.ifname, err: describeError(err) }, `cannot answer on ${w.ifname}`);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#rescan);
    await this.#scanning;
    for (const a of this.#owned.values()) clearTimeout(a.timer);
    for (const r of this.#responders.values()) r.close();
    this.#responders.clear();
  }
}
