/**
 * @module bgp/bfdManager — BFD over UDP (RFC 5881 single hop): one receive socket on the local address, one
 * transmit socket per session (source port 49152-65535, TTL 255), the periodic transmit timer with jitter
 * (RFC 5880 6.8.7) and the detection timer. State changes come out as events; `attachToSpeaker` turns Up → Down
 * into an immediate BGP session reset, so a dead node's routes go within the detection time (e.g. 3 × 100 ms)
 * instead of the hold time (calico#4607).
 *
 * Timers under load: the detection timer never decides alone. When it fires, the check waits for the poll phase
 * (setImmediate), so packets that arrived while this process was busy (they sit in the socket buffer; Node runs
 * expired timers before it reads sockets) are processed first: a stall of our own loop is not a dead peer. How
 * late transmit timers fire and how far apart received packets are is recorded (bfdTiming.ts).
 *
 * Not done: checking the received TTL is 255 (GTSM, RFC 5881 5) needs IP_RECVTTL, which Node's dgram lacks;
 * echo mode; demand mode; authentication.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { BFD_PORT, BFD_STATE_NAMES, BFD_TTL, BfdState, decodeBfd, encodeBfd, type BfdStateValue } from './bfdCodec.ts';
import { BfdSession, type BfdTimers } from './bfdSession.ts';
import { BfdTiming } from './bfdTiming.ts';
import { silentLogger, type Logger } from '../common/logger.ts';

export interface BfdManagerOptions {
  localAddress: string;
  /** Receive port; 3784 in production, another one when two instances share an address in tests. */
  port?: number;
  logger?: Logger;
}

interface Peer {
  session: BfdSession;
  tx: Socket;
  remotePort: number;
  txTimer?: NodeJS.Timeout;
  detectTimer?: NodeJS.Timeout;
  /** performance.now() the transmit timer is set for. */
  txDueAt?: number;
}

export interface BfdEvents {
  /** peer, from, to, our diagnostic, and the state the peer last reported (AdminDown = it stopped on purpose). */
  state: [string, string, string, number, string];
}

export const DEFAULT_BFD_TIMERS: BfdTimers = { minTxMs: 300, minRxMs: 300, detectMult: 3 };

export class BfdManager extends EventEmitter<BfdEvents> {
  readonly opts: BfdManagerOptions;
  #rx?: Socket;
  #peers = new Map<string, Peer>();
  #log: Logger;
  readonly timing = new BfdTiming();

  constructor(opts: BfdManagerOptions) {
    super();
    this.opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'bfd' });
  }

  async start(): Promise<void> {
    const type = this.opts.localAddress.includes(':') ? 'udp6' : 'udp4';
    // reuseAddr: a host BIRD/FRR holding 0.0.0.0:3784 with SO_REUSEADDR can share the port with our address.
    const rx = createSocket({ type, reuseAddr: true });
    rx.on('message', (msg, rinfo) => this.#onPacket(msg, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      rx.once('error', reject);
      rx.bind(this.opts.port ?? BFD_PORT, this.opts.localAddress, () => { rx.off('error', reject); resolve(); });
    });
    this.#rx = rx;
  }

  async addPeer(peerAddress: string, timers: BfdTimers = DEFAULT_BFD_TIMERS, remotePort = BFD_PORT): Promise<void> {
    if (this.#peers.has(peerAddress)) return;
    const tx = await bindSourcePort(this.opts.localAddress);
    tx.setTTL(BFD_TTL);
    const session = new BfdSession(randomInt(1, 2 ** 32 - 1), timers);
    const peer: Peer = { session, tx, remotePort };
    this.#peers.set(peerAddress, peer);
    this.#scheduleTx(peerAddress, peer);
  }

  /** Tell the peer we are going away administratively (AdminDown), then forget it. */
  removePeer(peerAddress: string): void {
    const p = this.#peers.get(peerAddress);
    if (!p) return;
    p.session.state = BfdState.AdminDown;
    p.session.diag = 7;
    this.#send(peerAddress, p, false);
    this.#forget(peerAddress, p);
  }

  state(peerAddress: string): string | undefined {
    const s = this.#peers.get(peerAddress)?.session.state;
    return s === undefined ? undefined : BFD_STATE_NAMES[s];
  }

  async stop(): Promise<void> {
    for (const addr of [...this.#peers.keys()]) this.removePeer(addr);
    await new Promise<void>((resolve) => (this.#rx ? this.#rx.close(() => resolve()) : resolve()));
    this.#rx = undefined;
  }

  #forget(addr: string, p: Peer): void {
    clearTimeout(p.txTimer);
    clearTimeout(p.detectTimer);
    setTimeout(() => p.tx.close(), 50).unref();
    this.#peers.delete(addr);
  }

  #onPacket(msg: Buffer, from: string): void {
    const d = decodeBfd(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    if (!d.ok) { this.#log.debug({ event: 'bfdDiscard', peer: from, reason: d.reason }, 'BFD packet discarded'); return; }
    const addr = from.replace(/^::ffff:/, '');
    const p = this.#peers.get(addr);
    if (!p) return;
    const now = performance.now();
    const before = p.session.state;
    if ((before === BfdState.Up || before === BfdState.Init) && p.session.lastRxMs > 0) this.timing.rxGap.add(now - p.session.lastRxMs);
    const out = p.session.receive(d.packet, now);
    if (out.changed) this.#changed(addr, p, out.changed);
    if (out.answerFinal) this.#send(addr, p, true);
    this.#armDetection(addr, p);
  }

  #armDetection(addr: string, p: Peer): void {
    clearTimeout(p.detectTimer);
    const ms = p.session.detectionTimeMs();
    if (ms <= 0) return;
    p.detectTimer = setTimeout(() => {
      const armedRx = p.session.lastRxMs;
      // Read what the socket holds before deciding (see the module comment).
      setImmediate(() => {
        if (this.#peers.get(addr) !== p) return;
        if (p.session.lastRxMs !== armedRx) { this.timing.detectionRescued += 1; return; }
        const changed = p.session.checkDetection(performance.now());
        if (changed) { this.timing.detectionExpiries += 1; this.#changed(addr, p, changed); }
      });
    }, ms + 1);
  }

  #changed(addr: string, p: Peer, [from, to]: [BfdStateValue, BfdStateValue]): void {
    const names = [BFD_STATE_NAMES[from], BFD_STATE_NAMES[to]] as const;
    this.#log.info({ event: 'bfdState', peer: addr, from: names[0], to: names[1], diag: p.session.diag }, `BFD ${addr}: ${names[0]} → ${names[1]}`);
    this.emit('state', addr, names[0], names[1], p.session.diag, BFD_STATE_NAMES[p.session.remoteState]);
    // Reschedule at once so a changed interval (Up ↔ not Up) takes effect and the peer hears the change.
    this.#send(addr, p, false);
    this.#scheduleTx(addr, p);
  }

  #send(addr: string, p: Peer, final: boolean): void {
    p.tx.send(encodeBfd(p.session.packet(final)), p.remotePort, addr);
  }

  #scheduleTx(addr: string, p: Peer): void {
    clearTimeout(p.txTimer);
    // RFC 5880 6.8.7: jitter to 75-100 % of the interval (75-90 % with a multiplier of 1).
    const max = p.session.timers.detectMult === 1 ? 0.9 : 1;
    const delay = p.session.txIntervalMs() * (0.75 + Math.random() * (max - 0.75));
    p.txDueAt = performance.now() + delay;
    p.txTimer = setTimeout(() => {
      if (!this.#peers.has(addr)) return;
      this.timing.txLate.add(Math.max(0, performance.now() - p.txDueAt!));
      this.#send(addr, p, false);
      this.#scheduleTx(addr, p);
    }, delay);
  }
}

/** RFC 5881 4: the source port must be in 49152-65535; try a few random ones. */
async function bindSourcePort(address: string): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    const s = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(randomInt(49152, 65536), address, () => { s.off('error', reject); resolve(); });
      });
      return s;
    } catch (err) {
      s.close();
      if (attempt >= 20) throw err;
    }
  }
}

/**
 * BFD says the path to a BGP peer is dead: reset that BGP session without graceful restart. A peer that signals
 * AdminDown stopped BFD on purpose (e.g. a podnetd restart keeping its forwarding state): RFC 5882 3.2 says that
 * must not be taken as a path failure, so graceful restart keeps its routes.
 */
export function attachToSpeaker(bfd: BfdManager, speaker: { peerUnreachable(peer: string, reason: string): void }): void {
  bfd.on('state', (peer, from, to, _diag, remote) => {
    if (from === 'Up' && to === 'Down' && remote !== 'AdminDown') speaker.peerUnreachable(peer, 'BFD session down');
  });
}
