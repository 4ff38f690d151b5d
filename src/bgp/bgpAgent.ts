/**
 * @module bgp/bgpAgent — BGP as podnetd's routing backend (`backend: bgp`): informers on Nodes, MetalLB BGPPeers
 * and BFDProfiles (and Services + EndpointSlices when service addresses are advertised) feed the pure planner
 * (bgpAgentPlan.ts); its result goes to the Speaker (setPeers / setLocalRoutes) and the BFD manager; the
 * speaker's kernel events go to the KernelApplier (proto 159, ECMP multipath) through BgpKernelSync.
 *
 * Restarts (issue 8, kube-router#675): stop() closes the sessions without a NOTIFICATION and sends BFD AdminDown,
 * so peers keep our routes for the graceful-restart time; kernel routes are left in place. On start, finding
 * proto-159 routes in the kernel means we are restarting: the OPEN carries the R and F bits, and nothing is
 * pruned until the speaker has converged (End-of-RIB from every peer). After kill -9 the kernel's FIN closes
 * the sessions: peers treat that as a restart too (BFD going down afterwards no longer resets them).
 */
import { existsSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { describeError, PodnetError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { Rtnetlink } from '../netlink/index.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';
import type { KindName, Node } from '../store/types.ts';
import { ensureMasquerade } from '../routing/masquerade.ts';
import { compileServiceModel, LABEL_ZONE, type ServicePortView } from '../services/serviceModel.ts';
import { attachToSpeaker, BfdManager } from './bfdManager.ts';
import type { BgpAgentSettings } from './bgpAgentConfig.ts';
import { planBgp, type BgpPlan } from './bgpAgentPlan.ts';
import { BfdPeerSet } from './bfdPeerSet.ts';
import { BgpKernelSync } from './bgpKernelSync.ts';
import { BgpMetrics } from './bgpMetrics.ts';
import { peerStatuses, startStatusServer, type BgpStatusDocument, type StatusServer } from './bgpStatus.ts';
import { BGP_ROUTE_PROTO, KernelApplier } from './kernelApplier.ts';
import { nativeSocketHooks } from './nativeSocketHooks.ts';
import { Speaker } from './speaker.ts';

export interface BgpAgentOptions {
  store: Store;
  nodeName: string;
  settings: BgpAgentSettings;
  /** Pod ranges: masqueraded when leaving them (same rule as the other backends). */
  clusterCidrs: string[];
  serviceCidrs: string[];
  masquerade: boolean;
  resyncMs?: number;
  logger?: Logger;
  /** Per-peer metrics go here (the agent's /metrics). */
  registry?: Registry;
  /** BFD UDP port (3784). */
  bfdPort?: number;
  convergeTimeoutMs?: number;
}

/** How long to wait for the first list of BGPPeers, BFDProfiles, Services and EndpointSlices. */
const OPTIONAL_SYNC_MS = 30_000;

export class BgpAgent {
  readonly #o: BgpAgentOptions;
  readonly #log: Logger;
  readonly #rtnl: Rtnetlink;
  readonly #sync: BgpKernelSync;
  readonly #informers: { [K in 'Node' | 'BGPPeer' | 'BFDProfile' | 'Service' | 'EndpointSlice']?: Informer<K> } = {};
  readonly restarting: boolean;
  speaker: Speaker | undefined;
  bfd: BfdManager | undefined;
  lastPlan: BgpPlan | undefined;
  #bfdPeers: BfdPeerSet | undefined;
  #planning: Promise<void> | undefined;
  #again = false;
  #waiting = '';
  #problems = new Set<string>();
  #masqTimer: NodeJS.Timeout | undefined;
  #status: StatusServer | undefined;
  #stopped = false;
  #synced = false;
  #fatal: PodnetError | undefined;

  static async start(o: BgpAgentOptions): Promise<BgpAgent> {
    const rtnl = await Rtnetlink.open({ maxInFlight: 1024 });
    let agent: BgpAgent | undefined;
    try {
      const kept = await rtnl.routes.list({ protocol: BGP_ROUTE_PROTO });
      agent = new BgpAgent(o, rtnl, kept.length);
      await agent.#begin();
      return agent;
    } catch (err) {
      if (agent) await agent.stop(); else rtnl.close();
      throw err;
    }
  }

  private constructor(o: BgpAgentOptions, rtnl: Rtnetlink, keptRoutes: number) {
    this.#o = o;
    this.#rtnl = rtnl;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'bgp-agent', node: o.nodeName });
    this.restarting = keptRoutes > 0;
    if (this.restarting) this.#log.info({ event: 'bgpRestarting', keptRoutes }, `BGP: ${keptRoutes} route(s) from a previous run kept in the kernel; restarting gracefully (R bit), pruning only after convergence`);
    this.#sync = new BgpKernelSync({
      applier: new KernelApplier(rtnl.routes), desired: () => this.speaker?.rib.kernelRoutes() ?? [], resyncMs: o.resyncMs ?? 10_000, log: this.#log,
    });
    // Nothing of ours in the kernel: nothing to keep for convergence, so drift repair can run from the start.
    if (!this.restarting) this.#sync.onConverged('fresh start: no routes of ours in the kernel');
  }

  async #begin(): Promise<void> {
    const a = this.#o.settings.advertise;
    const kinds: KindName[] = ['Node', 'BGPPeer', 'BFDProfile', ...(a.externalIPs || a.loadBalancerIPs ? ['Service', 'EndpointSlice'] as const : [])];
    for (const kind of kinds) {
      const inf = new Informer(this.#o.store, kind, { resyncMs: this.#o.resyncMs ?? 10_000, logger: this.#o.logger });
      inf.on({ add: () => this.replan(), update: (old, obj) => { if (old !== obj) this.replan(); }, delete: () => this.replan() });
      (this.#informers as Record<string, unknown>)[kind] = inf;
      inf.start();
    }
    await this.#informers.Node!.synced();
    await Promise.all((['BGPPeer', 'BFDProfile', 'Service', 'EndpointSlice'] as const).map((k) => this.#optionalSync(k)));
    // Only a complete view may be planned from: a partial one would start the speaker with too few peers, which
    // converges at once and prunes the kernel routes a restart is meant to keep.
    this.#synced = true;
    if (this.#o.settings.statusAddress) this.#status = await startStatusServer(this.#o.settings.statusAddress, () => this.status());
    this.replan();
    await this.settled();
    if (this.#fatal) throw this.#fatal;
    if (this.#o.masquerade) {
      await this.#ensureMasquerade();
      this.#masqTimer = setInterval(() => void this.#ensureMasquerade(), this.#o.resyncMs ?? 10_000);
      this.#masqTimer.unref();
    }
  }

  /**
   * Wait for an informer's first list, but not forever: a Kubernetes API without MetalLB's CRDs never lists
   * BGPPeers. Nodes are required; without the others the agent runs on what it has and picks them up later.
   */
  async #optionalSync(kind: 'BGPPeer' | 'BFDProfile' | 'Service' | 'EndpointSlice'): Promise<void> {
    const inf = this.#informers[kind] as Informer<typeof kind> | undefined;
    if (!inf) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      inf.synced().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), OPTIONAL_SYNC_MS); }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.#log.warn({ event: 'informerNotSynced', kind }, `BGP: ${kind} objects could not be listed within ${OPTIONAL_SYNC_MS / 1000} s; starting without them (they are picked up when the list succeeds)`);
  }

  /** Resolves when planning and kernel updates have caught up with every event so far. */
  async settled(): Promise<void> {
    while (this.#planning) await this.#planning;
    await this.#sync.idle();
  }

  get converged(): boolean {
    return this.#sync.converged;
  }

  /** For /healthz: the speaker runs and the last kernel pass had no failures. */
  healthy(): boolean {
    return this.speaker !== undefined && !this.#sync.last?.failed.length;
  }

  replan(): void {
    if (this.#stopped || !this.#synced) return;
    if (this.#planning) { this.#again = true; return; }
    this.#planning = (async () => {
      do {
        this.#again = false;
        await this.#planOnce().catch((err) => this.#log.error({ event: 'planFailed', err: describeError(err) }, `BGP: planning failed: ${describeError(err)}`));
      } while (this.#again && !this.#stopped);
    })().finally(() => { this.#planning = undefined; });
  }

  #list<K extends 'Node' | 'BGPPeer' | 'BFDProfile' | 'Service' | 'EndpointSlice'>(kind: K) {
    return (this.#informers[kind] as Informer<K> | undefined)?.list() ?? [];
  }

  #servicePorts(self: Node): ServicePortView[] {
    if (!this.#informers.Service) return [];
    const zone = self.metadata.labels?.[LABEL_ZONE];
    return compileServiceModel({
      services: this.#list('Service'), slices: this.#list('EndpointSlice'),
      node: { name: self.metadata.name, ...(zone ? { zone } : {}), nodePortIPs: [] },
    }).ports;
  }

  async #planOnce(): Promise<void> {
    const self = this.#informers.Node!.get(this.#o.nodeName);
    const plan = self
      ? planBgp({
        self, nodes: this.#list('Node'), peers: this.#list('BGPPeer'), bfdProfiles: this.#list('BFDProfile'),
        settings: this.#o.settings, serviceCidrs: this.#o.serviceCidrs, servicePorts: this.#servicePorts(self),
      })
      : { error: `waiting for Node ${this.#o.nodeName} to be registered` };
    if ('error' in plan) {
      if (plan.error !== this.#waiting) this.#log.warn({ event: 'waiting' }, `BGP: ${plan.error}`);
      this.#waiting = plan.error;
      return;
    }
    this.#waiting = '';
    this.lastPlan = plan;
    const problems = [...plan.problems];
    const speaker = this.speaker ?? this.#createSpeaker(plan);
    if (speaker.config.routerId !== plan.routerId) {
      problems.push(`the node's address changed from ${speaker.config.routerId} to ${plan.routerId}: restart podnetd to use it as the BGP router id`);
    }
    speaker.setPeers(plan.peers);
    const invalid = speaker.setLocalRoutes(plan.localRoutes);
    if (invalid.length) problems.push(`not prefixes, not advertised: ${invalid.join(', ')}`);
    if (!this.#speakerStarted) {
      this.#speakerStarted = true;
      try {
        await speaker.start();
      } catch (err) {
        // Nothing works without the listener (e.g. port taken): podnetd must fail to start, not run idle.
        this.#fatal = new PodnetError('PODNET_BGP_START_FAILED', `BGP: cannot start the speaker on port ${this.#o.settings.port}: ${describeError(err)}`);
        throw this.#fatal;
      }
      this.#log.info({ event: 'bgpStarted', routerId: plan.routerId, asn: plan.localAs, peers: plan.peers.length, restarting: this.restarting }, `BGP: speaker ${plan.routerId} AS ${plan.localAs} started with ${plan.peers.length} peer(s)`);
    }
    problems.push(...await this.#bfdPeers!.reconcile(speaker.config.routerId, plan.bfdPeers));
    this.#reportProblems(problems);
  }

  #speakerStarted = false;

  #createSpeaker(plan: BgpPlan): Speaker {
    const s = this.#o.settings;
    const { hooks, missing } = nativeSocketHooks();
    if (missing) this.#log.info({ event: 'nativeAddonMissing' }, `BGP: native addon not loaded (${missing}): TCP MD5 and TTL settings unavailable`);
    // '::' takes IPv4 and IPv6 connections alike; a namespace without IPv6 only has 0.0.0.0.
    const address = existsSync('/proc/net/if_inet6') ? '::' : '0.0.0.0';
    const speaker = new Speaker({
      localAs: plan.localAs, routerId: plan.routerId, listen: { address, port: s.port }, peers: [], hooks,
      gracefulRestart: { restartTime: s.gracefulRestartTimeSeconds, restarting: this.restarting },
      ...(this.#o.convergeTimeoutMs ? { convergeTimeoutMs: this.#o.convergeTimeoutMs } : {}),
      ...(s.routeReflectorServer ? { routeReflector: s.routeReflectorServer } : {}),
      logger: this.#o.logger,
    });
    speaker.on('kernel', (changes) => this.#sync.apply(changes));
    speaker.on('converged', (why) => this.#sync.onConverged(why));
    this.bfd = new BfdManager({ localAddress: plan.routerId, ...(this.#o.bfdPort ? { port: this.#o.bfdPort } : {}), logger: this.#o.logger });
    attachToSpeaker(this.bfd, speaker);
    this.#bfdPeers = new BfdPeerSet(this.bfd, this.#log);
    if (this.#o.registry) new BgpMetrics(this.#o.registry).observe(speaker, this.bfd);
    this.speaker = speaker;
    return speaker;
  }

  /** Log each problem once when it appears and once when it clears. */
  #reportProblems(problems: string[]): void {
    const now = new Set(problems);
    for (const p of now) if (!this.#problems.has(p)) this.#log.error({ event: 'bgpProblem' }, `BGP: ${p}`);
    for (const p of this.#problems) if (!now.has(p)) this.#log.info({ event: 'bgpProblemCleared' }, `BGP: resolved: ${p}`);
    this.#problems = now;
  }

  async #ensureMasquerade(): Promise<void> {
    try {
      if (await ensureMasquerade(this.#o.clusterCidrs)) this.#log.info({ event: 'masqueradeApplied', clusterCidrs: this.#o.clusterCidrs }, 'routing: masquerade table inet podnet-nat applied');
    } catch (err) {
      this.#log.error({ event: 'masqueradeFailed', err: describeError(err) }, `routing: masquerade: ${describeError(err)}`);
    }
  }

  status(): BgpStatusDocument {
    const sp = this.speaker;
    return {
      node: this.#o.nodeName, routerId: sp?.config.routerId ?? '', localAs: this.#o.settings.asn, converged: this.converged, restarting: this.restarting,
      ...(this.#o.settings.routeReflectorServer ? { routeReflectorClusterId: this.#o.settings.routeReflectorServer.clusterId } : {}),
      localRoutes: this.lastPlan?.localRoutes.map((r) => r.prefix) ?? [],
      peers: sp ? peerStatuses(sp, (p) => this.bfd?.state(p)) : [],
      ...(this.bfd ? { bfdTiming: this.bfd.timing.document() } : {}),
    };
  }

  /**
   * Stop without withdrawing anything: sessions close without NOTIFICATION (graceful restart keeps our routes on
   * the peers), BFD says AdminDown (not a path failure), kernel routes stay for the next run to adopt.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#masqTimer);
    for (const inf of Object.values(this.#informers)) inf.stop();
    while (this.#planning) await this.#planning;
    this.#sync.close();
    await this.speaker?.stop({ notify: false });
    await this.bfd?.stop();
    await this.#status?.close();
    this.#rtnl.close();
  }
}
