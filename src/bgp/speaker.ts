/**
 * @module bgp/speaker — a BGP speaker: one listener, one Session per configured peer, the RIBs, and the glue
 * between them (import policy, best path, export to every peer, graceful restart in both roles, BFD resets).
 * Its output for the kernel is plain data: `kernel` events carrying prefix → next hops changes, which a netlink
 * applier installs with podnet's proto number (see README.md).
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { AFI_IPV4, AFI_IPV6, afiOf, canonicalPrefix, SAFI_UNICAST, type Afi } from './bgpPrefix.ts';
import { Rib, type KernelRoute } from './rib.ts';
import { LOCAL_PEER } from './ribRoute.ts';
import { ACCEPT_ALL } from './ribPolicy.ts';
import { importPaths, localPath, type LocalRoute } from './ribImport.ts';
import { CeaseSubcode } from './notification.ts';
import { Session, type DownInfo, type SessionState } from './session.ts';
import { protectListener, type SocketOptionHooks } from './sessionSockets.ts';
import { DEFAULTS, type GracefulRestartConfig } from './sessionConfig.ts';
import { SpeakerPeer, type PeerSpec } from './speakerPeer.ts';
import { keepStale, peerReturned, sweepStale, type RestartContext } from './speakerRestart.ts';
import { endOfRibFamily, routeChanges, type DecodedUpdate } from './updateMessage.ts';
import type { PathAttributes } from './pathAttributes.ts';
import { silentLogger, type Logger } from '../common/logger.ts';

export interface SpeakerConfig {
  localAs: number;
  routerId: string;
  /** Where to accept connections; omit to never listen (every peer must then be active). */
  listen?: { address: string; port: number };
  peers: PeerSpec[];
  gracefulRestart?: GracefulRestartConfig & { /** Seconds to wait for EoR after the peer is back. */ staleTime?: number };
  connectRetryMs?: number;
  maxPaths?: number;
  /** Upper bound on waiting for every peer's End-of-RIB before `converged` (default 120 s, RFC 4724's selection deferral idea). */
  convergeTimeoutMs?: number;
  hooks?: SocketOptionHooks;
  logger?: Logger;
  /** Act as a route reflector (RFC 4456) for the peers marked `routeReflectorClient`, with this CLUSTER_ID. */
  routeReflector?: { clusterId: string };
}

export type { LocalRoute } from './ribImport.ts';

export interface PeerStatus {
  peer: string;
  peerAs: number;
  state: SessionState;
  uptimeSeconds: number;
  received: number;
  advertised: number;
}

export interface KernelChange {
  prefix: string;
  /** undefined: remove whatever we installed for the prefix. */
  route: KernelRoute | undefined;
}

export interface SpeakerEvents {
  kernel: [KernelChange[]];
  /**
   * Once after start: every peer has sent End-of-RIB for its families, or `convergeTimeoutMs` passed. Until then
   * the RIB is still filling after a restart, so a kernel applier should only add (never prune with resync).
   */
  converged: [string];
  peerState: [string, SessionState];
  peerDown: [string, DownInfo];
  /** An UPDATE from this peer was treated as withdraw (RFC 7606); the reasons. */
  treatAsWithdraw: [string, string[]];
}

export class Speaker extends EventEmitter<SpeakerEvents> {
  readonly config: SpeakerConfig;
  readonly rib: Rib;
  readonly peers = new Map<string, SpeakerPeer>();
  #server?: Server;
  #changed = new Set<string>();
  #flushScheduled = false;
  #started = false;
  #converged = false;
  #convergeTimer?: NodeJS.Timeout;
  #log: Logger;

  constructor(config: SpeakerConfig) {
    super();
    this.config = config;
    this.rib = new Rib({ maxPaths: config.maxPaths ?? 16 });
    this.#log = (config.logger ?? silentLogger).child({ subsystem: 'bgp' });
    for (const spec of config.peers) this.#addPeer(spec);
  }

  /**
   * Declarative: make the configured peers exactly `specs` (topology changes: nodes joining or leaving, BGPPeer
   * edits). Removed peers get Cease/Peer De-configured and their routes go; a changed spec restarts that peer.
   */
  setPeers(specs: PeerSpec[]): void {
    const want = new Map(specs.map((s) => [s.peerAddress, s]));
    for (const [key, p] of [...this.peers]) {
      const next = want.get(key);
      if (next && JSON.stringify(next) === JSON.stringify(p.spec)) continue;
      p.session.stop({ notify: true, reason: 'peer removed from configuration', ceaseSubcode: CeaseSubcode.PeerDeconfigured });
      if (p.staleTimer) clearTimeout(p.staleTimer);
      for (const prefix of this.rib.dropPeer(key)) this.#changed.add(prefix);
      p.session.removeAllListeners();
      this.peers.delete(key);
    }
    const added: PeerSpec[] = [];
    for (const spec of specs) {
      if (this.peers.has(spec.peerAddress)) continue;
      this.#addPeer(spec);
      added.push(spec);
      if (this.#started) this.peers.get(spec.peerAddress)!.session.start();
    }
    // A peer added later with a password must also be able to connect to us (RFC 2385 key on the listener).
    if (this.#server && added.some((s) => s.md5Password)) protectListener(this.#server, added, this.config.hooks);
    this.#scheduleFlush();
  }

  #addPeer(spec: PeerSpec): void {
    const session = new Session({
      localAs: this.config.localAs, peerAs: spec.peerAs, routerId: this.config.routerId, peerAddress: spec.peerAddress,
      peerPort: spec.peerPort ?? DEFAULTS.peerPort, localAddress: spec.localAddress, holdTime: spec.holdTime ?? DEFAULTS.holdTime,
      connectRetryMs: this.config.connectRetryMs ?? DEFAULTS.connectRetryMs, connectRetryMaxMs: DEFAULTS.connectRetryMaxMs,
      passive: spec.passive ?? false, ttl: spec.ttl, md5Password: spec.md5Password,
      families: spec.families ?? [AFI_IPV4, AFI_IPV6], gracefulRestart: this.config.gracefulRestart,
    }, this.config.hooks);
    const peer = new SpeakerPeer(spec, session);
    if (this.config.routeReflector) {
      peer.reflection = { clusterId: this.config.routeReflector.clusterId, isClient: (key) => this.peers.get(key)?.spec.routeReflectorClient === true };
    }
    this.peers.set(peer.key, peer);
    session.on('state', (from, to) => {
      this.#log.info({ event: 'peerState', peer: peer.key, from, to }, `BGP peer ${peer.key}: ${from} → ${to}`);
      this.emit('peerState', peer.key, to);
    });
    session.on('established', (n) => this.#onEstablished(peer, n.families, n.peerGracefulRestart?.families));
    session.on('update', (u) => this.#onUpdate(peer, u));
    session.on('routeRefresh', (afi) => this.#onRouteRefresh(peer, afi));
    session.on('down', (d) => this.#onDown(peer, d));
    session.on('socketError', (reason) => this.#log.error({ event: 'socketError', peer: peer.key }, reason));
  }

  async start(): Promise<void> {
    this.#started = true;
    this.#convergeTimer = setTimeout(() => this.#declareConverged('timeout waiting for End-of-RIB'), this.config.convergeTimeoutMs ?? 120_000);
    if (this.peers.size === 0) this.#declareConverged('no peers');
    if (this.config.listen) {
      const server = createServer((s) => this.#onIncoming(s));
      this.#server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.config.listen!.port, this.config.listen!.address, () => { server.off('error', reject); resolve(); });
      });
      protectListener(server, [...this.peers.values()].map((p) => p.spec), this.config.hooks);
    }
    for (const p of this.peers.values()) p.session.start();
  }

  /** The port actually listened on (useful with port 0). */
  get listenPort(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /**
   * Stop every session. With `notify` false the connections just close: peers that negotiated graceful restart
   * keep our routes for the restart time, which is what a daemon restart or rollout wants.
   */
  async stop(opts: { notify: boolean } = { notify: true }): Promise<void> {
    this.#started = false;
    clearTimeout(this.#convergeTimer);
    for (const p of this.peers.values()) {
      p.session.stop({ notify: opts.notify });
      if (p.staleTimer) clearTimeout(p.staleTimer);
    }
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }



  #onIncoming(socket: Socket): void {
    const addr = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const peer = this.peers.get(addr);
    if (!peer) {
      this.#log.warn({ event: 'connectionRejected', peer: addr }, `BGP connection from unconfigured ${addr} rejected`);
      socket.destroy();
      return;
    }
    peer.session.acceptIncoming(socket);
  }

  /** Declarative: replace the set of routes we originate; returns prefixes that were not valid. */
  setLocalRoutes(routes: LocalRoute[]): string[] {
    const invalid: string[] = [];
    const want = new Map<string, LocalRoute>();
    for (const r of routes) {
      const p = canonicalPrefix(r.prefix);
      if (p) want.set(p, r); else invalid.push(r.prefix);
    }
    for (const prefix of [...(this.rib.adjIn.get(LOCAL_PEER)?.keys() ?? [])]) {
      if (!want.has(prefix) && this.rib.delete(LOCAL_PEER, prefix)) this.#changed.add(prefix);
    }
    for (const [prefix, r] of want) {
      if (this.rib.set(localPath(prefix, r, this.config.routerId))) this.#changed.add(prefix);
    }
    this.#scheduleFlush();
    return invalid;
  }

  status(): PeerStatus[] {
    return [...this.peers.values()].map((p) => ({
      peer: p.key, peerAs: p.spec.peerAs, state: p.session.state,
      uptimeSeconds: p.session.establishedAt ? Math.floor((Date.now() - p.session.establishedAt.getTime()) / 1000) : 0,
      received: this.rib.countFrom(p.key), advertised: p.advertised,
    }));
  }

  /** Ask a peer to send its routes again (RFC 2918), e.g. after our import policy changed. */
  requestRefresh(peerAddress: string): boolean {
    const p = this.peers.get(peerAddress);
    if (!p?.session.negotiated?.routeRefresh) return false;
    for (const afi of p.session.negotiated.families) p.session.sendRouteRefresh(afi, SAFI_UNICAST);
    return true;
  }

  /** BFD (or anything else that knows the path is dead) says so: drop the peer's routes now, no GR. */
  peerUnreachable(peerAddress: string, reason: string): void {
    this.peers.get(peerAddress)?.session.reset(reason);
  }

  #onEstablished(peer: SpeakerPeer, families: Afi[], peerGrFamilies: Array<{ afi: number; forwarding: boolean }> | undefined): void {
    peer.eorReceived.clear();
    peerReturned(this.#restartCtx, peer, peerGrFamilies);
    // Advertise at once and follow with End-of-RIB: being restarted must not delay our routes (kube-router#1323).
    peer.resync(this.rib.loc.keys(), families, true);
    void peer.flush(this.rib.loc, this.config.localAs);
  }

  #onUpdate(peer: SpeakerPeer, u: DecodedUpdate): void {
    const eor = endOfRibFamily(u.message);
    if (eor !== null) {
      if (peer.staleFamilies.has(eor)) sweepStale(this.#restartCtx, peer, [eor]);
      peer.eorReceived.add(eor);
      this.#checkConverged();
      return;
    }
    if (u.withdrawReasons.length) {
      this.emit('treatAsWithdraw', peer.key, u.withdrawReasons);
      this.#log.warn({ event: 'treatAsWithdraw', peer: peer.key, reasons: u.withdrawReasons }, `UPDATE from ${peer.key} treated as withdraw (RFC 7606): ${u.withdrawReasons.join('; ')}`);
    }
    const ch = routeChanges(u);
    for (const prefix of ch.withdrawn) if (this.rib.delete(peer.key, prefix)) this.#changed.add(prefix);
    if (ch.announced.length) this.#importRoutes(peer, ch.announced, ch.attributes, ch.nextHopsV6);
    this.#scheduleFlush();
  }

  #importRoutes(peer: SpeakerPeer, prefixes: string[], attributes: PathAttributes, nextHopsV6: string[]): void {
    const ctx = {
      localAs: this.config.localAs, peerKey: peer.key, peerAs: peer.spec.peerAs,
      peerRouterId: peer.session.negotiated?.peerRouterId ?? '', policy: peer.spec.importPolicy ?? ACCEPT_ALL,
      routerId: this.config.routerId, clusterId: this.config.routeReflector?.clusterId,
    };
    for (const { prefix, route } of importPaths(ctx, prefixes, attributes, nextHopsV6)) {
      const changed = route ? this.rib.set(route) : this.rib.delete(peer.key, prefix);
      if (changed) this.#changed.add(prefix);
    }
  }


  #onRouteRefresh(peer: SpeakerPeer, afi: number): void {
    const families = peer.session.negotiated?.families ?? [];
    if (!families.includes(afi as Afi)) return;
    const prefixes = [...this.rib.loc.keys()].filter((p) => afiOf(p) === afi);
    for (const p of prefixes) peer.out.sent.delete(p);
    peer.enqueue(prefixes);
    void peer.flush(this.rib.loc, this.config.localAs);
  }

  #onDown(peer: SpeakerPeer, d: DownInfo): void {
    const { reason, graceful, peerRestartTime: restartTime } = d;
    this.emit('peerDown', peer.key, d);
    this.#log.info({ event: 'peerDown', peer: peer.key, reason, graceful }, `BGP peer ${peer.key} down: ${reason}`);
    peer.out.clear();
    if (graceful && restartTime > 0) {
      keepStale(this.#restartCtx, peer, d);
    } else {
      for (const p of this.rib.dropPeer(peer.key)) this.#changed.add(p);
      peer.staleFamilies.clear();
    }
    this.#scheduleFlush();
  }



  #checkConverged(): void {
    if (this.#converged || !this.#started) return;
    const done = [...this.peers.values()].every((p) => {
      const fams = p.session.negotiated?.families;
      return fams !== undefined && fams.every((f) => p.eorReceived.has(f));
    });
    if (done) this.#declareConverged('End-of-RIB from every peer');
  }

  #declareConverged(why: string): void {
    if (this.#converged) return;
    this.#converged = true;
    clearTimeout(this.#convergeTimer);
    // Let the UPDATE that completed it reach the kernel event first.
    setImmediate(() => this.emit('converged', why));
  }

  get #restartCtx(): RestartContext {
    return {
      rib: this.rib, staleTimeSec: this.config.gracefulRestart?.staleTime ?? 360,
      changed: (prefixes) => { for (const p of prefixes) this.#changed.add(p); this.#scheduleFlush(); },
    };
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const changed = this.#changed;
      this.#changed = new Set();
      if (!changed.size) return;
      const kernel: KernelChange[] = [];
      for (const prefix of changed) kernel.push({ prefix, route: this.rib.kernelRoute(prefix) });
      this.emit('kernel', kernel);
      for (const p of this.peers.values()) {
        p.enqueue(changed);
        void p.flush(this.rib.loc, this.config.localAs);
      }
    });
  }
}
