/**
 * @module routing/routeAgent — the routing part's wiring: a Node informer feeds the pure planner, whose desired
 * state goes to the applier; this node's identity is published on its Node object, the pod MTU written for the
 * CNI, masquerade kept in place. One agent per namespace (the daemon's own; tests run three in one process, one
 * per "node" namespace, against one shared store).
 */
import { describeError, UnsupportedKernelError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { Rtnetlink, RtnetlinkEvents, LinkKindUnsupportedError, isKernelError } from '../netlink/index.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';
import { ensureMasquerade } from './masquerade.ts';
import { setFeature, TX_CHECKSUM_FEATURE } from './ethtoolFeatures.ts';
import { resolveLocalNode } from './localNode.ts';
import { identityAnnotations } from './nodeAnnotations.ts';
import { missingAnnotations, publishIdentity } from './nodeIdentity.ts';
import { writeNodeMtu } from './nodeStateMtu.ts';
import { RoutingApplier } from './routingApplier.ts';
import { RoutingMetrics } from './routingMetrics.ts';
import type { DesiredLink, RoutingPlan, RoutingSettings } from './routingModel.ts';
import { planRouting } from './routingPlanner.ts';

/** Netlink requests the applier keeps in flight at once. */
export const APPLY_WINDOW = 1024;

export interface RouteAgentOptions {
  store: Store;
  nodeName: string;
  settings: RoutingSettings;
  clusterCidrs: string[];
  iface?: string;
  /** Namespace to manage (tests, lab); default: this process's. */
  netns?: string;
  masquerade: boolean;
  /** Where the pod MTU goes for the CNI; null = do not write. */
  nodeStateFile: string | null;
  resyncMs?: number;
  logger?: Logger;
}

export class RouteAgent {
  readonly applier: RoutingApplier;
  readonly metrics = new RoutingMetrics();
  readonly #o: RouteAgentOptions;
  readonly #log: Logger;
  readonly #rtnl: Rtnetlink;
  /** A second socket for the planner's reads: the kernel allows one dump at a time per socket (EBUSY). */
  readonly #reader: Rtnetlink;
  readonly #events: RtnetlinkEvents;
  readonly #nodes: Informer<'Node'>;
  #planning: Promise<void> | undefined;
  #again = false;
  #waiting = '';
  #problems = new Map<string, string>();
  #masqTimer: NodeJS.Timeout | undefined;
  lastPlan: RoutingPlan | undefined;

  static async start(o: RouteAgentOptions): Promise<RouteAgent> {
    // A wider window than the default 256: programming 1,000 nodes is 3,000 requests, and each window is one
    // event-loop round trip. 1,024 short ACKs (NETLINK_CAP_ACK) stay far below the 4 MiB receive buffer.
    const rtnl = await Rtnetlink.open({ ...(o.netns === undefined ? {} : { netns: o.netns }), maxInFlight: APPLY_WINDOW });
    const events = await RtnetlinkEvents.open({ ...(o.netns === undefined ? {} : { netns: o.netns }), topics: ['link', 'route', 'neighbour'] });
    const reader = await Rtnetlink.open(o.netns === undefined ? {} : { netns: o.netns });
    const agent = new RouteAgent(o, rtnl, reader, events);
    try {
      await agent.#preflight();
      await agent.#begin();
    } catch (err) {
      agent.stop();
      throw err;
    }
    return agent;
  }

  private constructor(o: RouteAgentOptions, rtnl: Rtnetlink, reader: Rtnetlink, events: RtnetlinkEvents) {
    this.#o = o;
    this.#reader = reader;
    this.#log = (o.logger ?? silentLogger).child({ subsystem: 'routing', node: o.nodeName });
    this.#rtnl = rtnl;
    this.#events = events;
    this.applier = new RoutingApplier({
      rtnl, events, logger: o.logger, resyncMs: o.resyncMs,
      prepareDevice: (link) => this.#prepareDevice(link),
      onApplied: (r) => this.metrics.applied(r),
    });
    this.#nodes = new Informer(o.store, 'Node', { resyncMs: o.resyncMs ?? 10_000, logger: o.logger });
  }

  /** A backend whose device kind the kernel lacks fails here, before anything is touched. */
  async #preflight(): Promise<void> {
    if (this.#o.settings.backend !== 'ipip') return;
    const probe = `pnprobe${process.pid % 10000}`;
    try {
      await this.#rtnl.links.create({ kind: 'ipip', name: probe });
      await this.#rtnl.links.delete(probe);
    } catch (err) {
      if (err instanceof LinkKindUnsupportedError) {
        throw new UnsupportedKernelError('routing backend "ipip"', 'ipip', `the kernel refused an ipip device (${describeError(err.cause ?? err)}); load it with \`modprobe ipip\` or choose --backend vxlan, host-gw or cross-subnet`);
      }
      if (!isKernelError(err, 'EEXIST')) throw err;
    }
  }

  async #begin(): Promise<void> {
    this.#nodes.on({ add: () => this.replan(), update: () => this.replan(), delete: () => this.replan() });
    this.#nodes.start();
    await this.#nodes.synced();
    // Only a complete view of the cluster may be planned from: a partial one would delete live routes.
    this.replan();
    await this.settled();
    if (this.#o.masquerade) {
      await this.#ensureMasquerade();
      this.#masqTimer = setInterval(() => void this.#ensureMasquerade(), this.#o.resyncMs ?? 10_000);
      this.#masqTimer.unref();
    }
  }

  /** Resolves when planning and applying have caught up with every event so far. */
  async settled(): Promise<void> {
    while (this.#planning) await this.#planning;
    await this.applier.idle();
  }

  replan(): void {
    if (this.#planning) { this.#again = true; return; }
    this.#planning = (async () => {
      do {
        this.#again = false;
        await this.#planOnce().catch((err) => this.#log.error({ event: 'planFailed', err: describeError(err) }, `routing: planning failed: ${describeError(err)}`));
      } while (this.#again);
    })().finally(() => { this.#planning = undefined; });
  }

  async #planOnce(): Promise<void> {
    const own = this.#nodes.get(this.#o.nodeName);
    const local = own ? await resolveLocalNode(this.#reader, own, this.#o.iface) : `waiting for Node ${this.#o.nodeName} to be registered`;
    if (typeof local === 'string') {
      if (local !== this.#waiting) this.#log.warn({ event: 'waiting' }, `routing: ${local}`);
      this.#waiting = local;
      return;
    }
    this.#waiting = '';
    const identity = identityAnnotations(this.#o.settings, local.endpoint, local.vtepMac);
    if (own && Object.keys(missingAnnotations(own, identity)).length) {
      await publishIdentity(this.#o.store, this.#o.nodeName, identity); // the informer's update replans
    }
    const plan = planRouting({ settings: this.#o.settings, local, nodes: this.#nodes.list() });
    this.lastPlan = plan;
    this.metrics.plan(plan);
    this.#reportProblems(plan);
    this.applier.setDesired(plan.desired);
    if (this.#o.nodeStateFile && writeNodeMtu(this.#o.nodeStateFile, plan.podMtu)) {
      this.#log.info({ event: 'mtuWritten', mtu: plan.podMtu, file: this.#o.nodeStateFile }, `routing: pod MTU ${plan.podMtu} written to ${this.#o.nodeStateFile}`);
    }
  }

  /** Log each peer problem once when it appears and once when it clears (not on every pass). */
  #reportProblems(plan: RoutingPlan): void {
    const now = new Map(plan.problems.map((p) => [`${p.node}/${p.code}`, p.message]));
    for (const [key, msg] of now) {
      if (this.#problems.get(key) === msg) continue;
      const level = key.endsWith('/notReady') ? 'info' : 'error';
      this.#log[level]({ event: 'peerProblem', peer: key.split('/')[0], reason: key.split('/')[1] }, `routing: ${msg}`);
    }
    for (const key of this.#problems.keys()) {
      if (!now.has(key)) this.#log.info({ event: 'peerProblemCleared', peer: key.split('/')[0] }, `routing: node ${key.split('/')[0]} is programmed now`);
    }
    this.#problems = now;
  }

  async #prepareDevice(link: DesiredLink): Promise<void> {
    if (link.kind !== 'vxlan') return;
    await setFeature(this.#o.netns, link.name, TX_CHECKSUM_FEATURE, false);
    this.#log.info({ event: 'txChecksumOff', dev: link.name }, `routing: ${TX_CHECKSUM_FEATURE} off on ${link.name} (flannel#1279)`);
  }

  async #ensureMasquerade(): Promise<void> {
    try {
      if (await ensureMasquerade(this.#o.clusterCidrs, this.#o.netns)) {
        this.#log.info({ event: 'masqueradeApplied', clusterCidrs: this.#o.clusterCidrs }, 'routing: masquerade table inet podnet-nat applied');
      }
    } catch (err) {
      this.#log.error({ event: 'masqueradeFailed', err: describeError(err) }, `routing: masquerade: ${describeError(err)}`);
    }
  }

  /** Stop watching and reconciling; the kernel state stays (a restart adopts it). */
  stop(): void {
    clearInterval(this.#masqTimer);
    this.#nodes.stop();
    this.applier.close();
    this.#events.close();
    this.#rtnl.close();
    this.#reader.close();
  }
}
