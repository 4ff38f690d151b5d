/**
 * @module bgp/session — the RFC 4271 8 finite state machine for one peer: Idle → Connect/Active → OpenSent →
 * OpenConfirm → Established, connect-retry with exponential backoff, hold/keepalive timers, connection collision
 * resolution (6.8), passive mode, and the graceful-restart facts a RIB needs (was the loss graceful, what the
 * peer's restart capability said). Routes are not kept here: the session emits decoded UPDATEs and the speaker
 * owns the RIBs.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { BgpConnection } from './bgpConnection.ts';
import { applyTtl, openOutgoingSocket, type SocketOptionHooks } from './sessionSockets.ts';
import { encodeKeepalive, encodeOpen, frame, MessageType, type BgpMessage } from './messages.ts';
import { CeaseSubcode, describeNotification, ErrorCode, type ProtocolError } from './notification.ts';
import { DEFAULTS, isExternal, localCapabilities, negotiate, type Negotiated, type SessionConfig } from './sessionConfig.ts';
import type { DecodedUpdate } from './updateMessage.ts';
import { survivingDirection } from './sessionCollision.ts';

type TimerName = 'retry' | 'hold' | 'keepalive' | 'connect';

export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type { SocketOptionHooks } from './sessionSockets.ts';

export interface DownInfo {
  reason: string;
  /** Routes from this peer may be kept as stale (RFC 4724): the peer said it can restart gracefully and the
   *  session ended by TCP loss or hold timer, not by a NOTIFICATION or an administrative stop. */
  graceful: boolean;
  peerRestartTime: number;
  /** Families the peer's graceful restart capability covers (only those are kept stale). */
  peerRestartFamilies: number[];
}

export interface SessionEvents {
  state: [SessionState, SessionState];
  established: [Negotiated];
  update: [DecodedUpdate];
  routeRefresh: [number, number];
  down: [DownInfo];
  /** A socket could not even be created (e.g. MD5 configured without the addon); retried with backoff. */
  socketError: [string];
}

export class Session extends EventEmitter<SessionEvents> {
  readonly config: SessionConfig;
  #state: SessionState = 'Idle';
  #connections: BgpConnection[] = [];
  #established?: BgpConnection;
  #negotiated?: Negotiated;
  #retryMs: number;
  #timers = new Map<TimerName, NodeJS.Timeout>();
  #running = false;
  #hooks: SocketOptionHooks;
  establishedAt?: Date;

  constructor(config: SessionConfig, hooks: SocketOptionHooks = {}) {
    super();
    this.config = config;
    this.#retryMs = config.connectRetryMs;
    this.#hooks = hooks;
  }

  get state(): SessionState { return this.#state; }
  get negotiated(): Negotiated | undefined { return this.#negotiated; }

  /** Ports of the established connection (which side opened it shows in status and collision tests). */
  get connection(): { localPort: number; remotePort: number; direction: 'outgoing' | 'incoming' } | undefined {
    const c = this.#established;
    if (!c?.socket.localPort || !c.socket.remotePort) return undefined;
    return { localPort: c.socket.localPort, remotePort: c.socket.remotePort, direction: c.direction };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#beginConnecting();
  }

  /**
   * Administrative stop. `notify` sends Cease/Administrative Shutdown, which tells the peer to drop our routes
   * now; without it the TCP connection just closes, which a graceful-restart peer treats as a restart and keeps
   * our routes (what a podnetd rollout wants: kube-router#675).
   */
  stop(opts: { notify: boolean; reason?: string; ceaseSubcode?: number } = { notify: true }): void {
    this.#running = false;
    this.#clearTimer('retry');
    this.#clearTimer('connect');
    const reason = opts.reason ?? 'administrative stop';
    for (const c of this.#connections) {
      if (opts.notify) c.notifyAndClose(ErrorCode.Cease, opts.ceaseSubcode ?? CeaseSubcode.AdministrativeShutdown);
      else c.destroy();
    }
    this.#down(reason, false);
  }

  /**
   * Drop the session now without graceful restart and reconnect as usual: used when BFD says the forwarding
   * path is dead (RFC 5882 4.3: routes must not be kept then).
   */
  reset(reason: string): void {
    if (!this.#established && this.#connections.length === 0) return;
    for (const c of this.#connections) c.notifyAndClose(ErrorCode.Cease, CeaseSubcode.BfdDown);
    this.#connections = [];
    this.#down(reason, false);
  }

  /** Take a connection the peer opened to our listener. */
  acceptIncoming(socket: Socket): void {
    if (!this.#running) {
      const c = this.#wrap(socket, 'incoming');
      c.notifyAndClose(ErrorCode.Cease, CeaseSubcode.ConnectionRejected);
      return;
    }
    if (this.#state === 'Established') {
      if (!this.#negotiated?.peerGracefulRestart) {
        this.#wrap(socket, 'incoming').notifyAndClose(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution);
        return;
      }
      // RFC 4724 4.2: a new connection while Established means the peer restarted; the old one is dead.
      this.#established?.destroy();
      this.#down('peer reconnected (restart)', true);
    }
    applyTtl(socket, this.config, this.#hooks);
    const c = this.#wrap(socket, 'incoming');
    this.#sendOpen(c);
  }

  /** Send already-encoded UPDATE bodies; resolves when the socket has room again. */
  async sendUpdateBodies(bodies: Uint8Array[]): Promise<void> {
    const c = this.#established;
    if (!c) return;
    for (const b of bodies) {
      if (!c.send(frame(MessageType.Update, b))) await c.drain();
    }
  }

  sendRouteRefresh(afi: number, safi: number): void {
    this.#established?.send(frame(MessageType.RouteRefresh, new Uint8Array([afi >> 8, afi & 0xff, 0, safi])));
  }

  #setState(next: SessionState): void {
    if (next === this.#state) return;
    const prev = this.#state;
    this.#state = next;
    this.emit('state', prev, next);
  }

  #beginConnecting(): void {
    if (!this.#running) return;
    if (this.config.passive) { this.#setState('Active'); return; }
    this.#setState('Connect');
    const v6 = this.config.peerAddress.includes(':');
    let socket: Socket;
    try {
      socket = openOutgoingSocket(this.config, this.#hooks);
    } catch (err) {
      this.#setState('Active');
      this.emit('socketError', `opening a socket to ${this.config.peerAddress}: ${err instanceof Error ? err.message : String(err)}`);
      this.#scheduleRetry();
      return;
    }
    const c = this.#wrap(socket, 'outgoing');
    // A peer that drops our SYNs (firewall, MD5 key mismatch) must not park us in Connect for the kernel's
    // two-minute SYN retry: the connect-retry timer ends the attempt (RFC 4271 8.2.2, Connect state).
    this.#setTimer('connect', DEFAULTS.connectTimeoutMs, () => {
      this.#timers.delete('connect');
      if (!c.closed && c.socket.connecting) c.socket.destroy(new Error('connect timed out'));
    });
    socket.once('connect', () => {
      this.#clearTimer('connect');
      applyTtl(socket, this.config, this.#hooks);
      this.#sendOpen(c);
    });
    socket.connect({ host: this.config.peerAddress, port: this.config.peerPort, localAddress: this.config.localAddress, family: v6 ? 6 : 4 });
  }

  #scheduleRetry(): void {
    if (!this.#running || this.#timers.has('retry')) return;
    // Jitter (RFC 4271 10) keeps many nodes that lost the same peer from reconnecting in lockstep.
    const delay = this.#retryMs * (0.75 + Math.random() * 0.25);
    this.#retryMs = Math.min(this.#retryMs * 2, this.config.connectRetryMaxMs);
    this.#setTimer('retry', delay, () => {
      this.#timers.delete('retry');
      if (this.#connections.length === 0) this.#beginConnecting();
    });
  }

  #wrap(socket: Socket, direction: 'outgoing' | 'incoming'): BgpConnection {
    const c = new BgpConnection(socket, direction, { fourOctetAs: true, external: isExternal(this.config) });
    this.#connections.push(c);
    c.on('message', (m) => this.#onMessage(c, m));
    c.on('protocolError', (e) => this.#onProtocolError(c, e));
    c.on('closed', (reason) => this.#onClosed(c, reason));
    return c;
  }

  #sendOpen(c: BgpConnection): void {
    const caps = localCapabilities(this.config);
    c.send(encodeOpen({ asn: this.config.localAs, holdTime: this.config.holdTime, routerId: this.config.routerId, capabilities: caps }));
    if (this.#state !== 'OpenConfirm' && this.#state !== 'Established') this.#setState('OpenSent');
    this.#armHold(DEFAULTS.openHoldTime);
  }

  #onMessage(c: BgpConnection, m: BgpMessage): void {
    if (m.type === 'notification') {
      c.destroy();
      this.#dropConnection(c, `peer sent NOTIFICATION ${describeNotification(m.code, m.subcode)}`, false);
      return;
    }
    if (m.type === 'open') return this.#onOpen(c, m);
    if (c !== this.#established) {
      if (m.type === 'keepalive' && c.peerOpen) return this.#onEstablish(c);
      // RFC 4271 8.2.2: anything else before Established is an FSM error.
      return this.#onProtocolError(c, { code: ErrorCode.Fsm, subcode: 0, data: new Uint8Array(0), reason: `${m.type} before Established` });
    }
    this.#armHold(this.#negotiated!.holdTime);
    if (m.type === 'update') this.emit('update', m.update);
    else if (m.type === 'route-refresh') this.emit('routeRefresh', m.afi, m.safi);
  }

  #onOpen(c: BgpConnection, m: Extract<BgpMessage, { type: 'open' }>): void {
    if (c.peerOpen) return this.#onProtocolError(c, { code: ErrorCode.Fsm, subcode: 0, data: new Uint8Array(0), reason: 'second OPEN' });
    const r = negotiate(this.config, m);
    if (!r.ok) return this.#onProtocolError(c, r.error);
    c.peerOpen = m;
    if (this.#resolveCollision(c, m.routerId) !== c) return;
    this.#negotiated = r.negotiated;
    c.decodeContext = { fourOctetAs: r.negotiated.fourOctetAs, external: isExternal(this.config) };
    c.send(encodeKeepalive());
    this.#setState('OpenConfirm');
    this.#armHold(r.negotiated.holdTime || DEFAULTS.openHoldTime);
  }

  /** RFC 4271 6.8: the connection opened by the side with the higher BGP identifier survives. */
  #resolveCollision(c: BgpConnection, peerId: string): BgpConnection {
    const other = this.#connections.find((o) => o !== c && !o.closed);
    if (!other) return c;
    const keepDirection = survivingDirection(this.config.routerId, peerId);
    const [keep, lose] = c.direction === keepDirection ? [c, other] : [other, c];
    lose.notifyAndClose(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution);
    this.#connections = this.#connections.filter((x) => x !== lose);
    return keep;
  }

  #onEstablish(c: BgpConnection): void {
    for (const o of this.#connections) if (o !== c) o.notifyAndClose(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution);
    this.#connections = [c];
    this.#established = c;
    this.#retryMs = this.config.connectRetryMs;
    this.#clearTimer('retry');
    this.establishedAt = new Date();
    const n = this.#negotiated!;
    this.#armHold(n.holdTime);
    if (n.keepaliveTime > 0) {
      const t = setInterval(() => c.send(encodeKeepalive()), n.keepaliveTime * 1000);
      this.#timers.set('keepalive', t);
    }
    this.#setState('Established');
    this.emit('established', n);
  }

  #armHold(seconds: number): void {
    this.#clearTimer('hold');
    if (seconds <= 0) return;
    this.#setTimer('hold', seconds * 1000, () => {
      for (const c of this.#connections) c.notifyAndClose(ErrorCode.HoldTimerExpired, 0);
      this.#connections = [];
      this.#down('hold timer expired', true);
    });
  }

  #onProtocolError(c: BgpConnection, e: ProtocolError): void {
    c.notifyAndClose(e.code, e.subcode, e.data);
    this.#dropConnection(c, `sent NOTIFICATION ${describeNotification(e.code, e.subcode)}: ${e.reason}`, false);
  }

  #onClosed(c: BgpConnection, reason: string): void {
    this.#dropConnection(c, reason, true);
  }

  #dropConnection(c: BgpConnection, reason: string, graceful: boolean): void {
    const wasEstablished = c === this.#established;
    this.#connections = this.#connections.filter((x) => x !== c);
    if (wasEstablished || this.#connections.length === 0) this.#down(reason, graceful && wasEstablished);
  }

  #down(reason: string, gracefulCause: boolean): void {
    const wasUp = this.#established !== undefined;
    const peerGr = this.#negotiated?.peerGracefulRestart;
    for (const c of this.#connections) c.destroy();
    this.#connections = [];
    this.#established = undefined;
    this.#clearTimer('hold');
    this.#clearTimer('keepalive');
    this.establishedAt = undefined;
    if (wasUp) {
      this.emit('down', {
        reason, graceful: gracefulCause && !!peerGr, peerRestartTime: peerGr?.restartTime ?? 0,
        peerRestartFamilies: peerGr?.families.map((f) => f.afi) ?? [],
      });
    }
    this.#negotiated = undefined;
    this.#setState(this.#running && this.config.passive ? 'Active' : 'Idle');
    if (this.#running && !this.config.passive) this.#scheduleRetry();
  }

  #setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.#clearTimer(name);
    this.#timers.set(name, setTimeout(fn, ms));
  }

  #clearTimer(name: TimerName): void {
    const t = this.#timers.get(name);
    if (t) { clearTimeout(t); clearInterval(t); this.#timers.delete(name); }
  }
}
