/**
 * @module bgp/bfdSession — one BFD session's state machine in asynchronous mode (RFC 5880 6.2, 6.8): three-way
 * handshake Down → Init → Up, detection time, interval negotiation with Poll/Final, and the diagnostic codes.
 * Time is passed in (milliseconds), so the machine is pure and testable without timers; bfdManager.ts drives it.
 */
import { BfdDiag, BfdState, type BfdPacket, type BfdStateValue } from './bfdCodec.ts';

export interface BfdTimers {
  /** Desired minimum transmit interval once Up, ms. */
  minTxMs: number;
  /** Required minimum receive interval, ms. */
  minRxMs: number;
  detectMult: number;
}

/** RFC 5880 6.8.3: while not Up, transmit no faster than once a second. */
const SLOW_TX_MS = 1000;

export interface ReceiveOutcome {
  /** [from, to] when the state changed. */
  changed?: [BfdStateValue, BfdStateValue];
  /** The peer polled: answer at once with Final (RFC 5880 6.5). */
  answerFinal: boolean;
}

export class BfdSession {
  readonly localDiscriminator: number;
  readonly timers: BfdTimers;
  state: BfdStateValue = BfdState.Down;
  remoteState: BfdStateValue = BfdState.Down;
  remoteDiscriminator = 0;
  diag: number = BfdDiag.None;
  remoteMinRxUs = 1;
  remoteDesiredMinTxUs = 0;
  remoteDetectMult = 0;
  /** A Poll sequence is running because our intervals changed. */
  polling = false;
  lastRxMs = 0;
  /** The interval advertised in the last packet we sent, µs (what the peer currently believes). */
  #advertisedTxUs = SLOW_TX_MS * 1000;

  constructor(localDiscriminator: number, timers: BfdTimers) {
    this.localDiscriminator = localDiscriminator;
    this.timers = timers;
  }

  #desiredTxUs(): number {
    return this.state === BfdState.Up ? this.timers.minTxMs * 1000 : Math.max(SLOW_TX_MS, this.timers.minTxMs) * 1000;
  }

  #setState(to: BfdStateValue, diag: number, out: ReceiveOutcome): void {
    if (to === this.state) return;
    out.changed = [this.state, to];
    this.state = to;
    this.diag = diag;
    if (to !== BfdState.Up) this.remoteDiscriminator = to === BfdState.Down ? 0 : this.remoteDiscriminator;
    // Our advertised interval changes on entering or leaving Up: tell the peer with a Poll (RFC 5880 6.8.3).
    if (this.#desiredTxUs() !== this.#advertisedTxUs) this.polling = true;
  }

  /** RFC 5880 6.8.6, after the stateless checks of decodeBfd. */
  receive(p: BfdPacket, nowMs: number): ReceiveOutcome {
    const out: ReceiveOutcome = { answerFinal: p.poll };
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.localDiscriminator) return { answerFinal: false };
    this.remoteDiscriminator = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteMinRxUs = p.requiredMinRx;
    this.remoteDesiredMinTxUs = p.desiredMinTx;
    this.remoteDetectMult = p.detectMult;
    this.lastRxMs = nowMs;
    if (p.final) this.polling = false;
    if (this.state === BfdState.AdminDown) return { answerFinal: false };
    if (p.state === BfdState.AdminDown) {
      if (this.state !== BfdState.Down) this.#setState(BfdState.Down, BfdDiag.NeighborSignaledDown, out);
      return out;
    }
    if (this.state === BfdState.Down) {
      if (p.state === BfdState.Down) this.#setState(BfdState.Init, BfdDiag.None, out);
      else if (p.state === BfdState.Init) this.#setState(BfdState.Up, BfdDiag.None, out);
    } else if (this.state === BfdState.Init) {
      if (p.state === BfdState.Init || p.state === BfdState.Up) this.#setState(BfdState.Up, BfdDiag.None, out);
    } else if (p.state === BfdState.Down) {
      this.#setState(BfdState.Down, BfdDiag.NeighborSignaledDown, out);
    }
    return out;
  }

  /** Detection time (RFC 5880 6.8.4, asynchronous mode): remote multiplier × agreed remote transmit interval. */
  detectionTimeMs(): number {
    const rx = Math.max(this.timers.minRxMs * 1000, this.remoteDesiredMinTxUs);
    return (this.remoteDetectMult * rx) / 1000;
  }

  /** Call when the detection timer may have run out; returns the transition when the session went Down. */
  checkDetection(nowMs: number): ReceiveOutcome['changed'] {
    if (this.state !== BfdState.Init && this.state !== BfdState.Up) return undefined;
    if (nowMs - this.lastRxMs < this.detectionTimeMs()) return undefined;
    const out: ReceiveOutcome = { answerFinal: false };
    this.#setState(BfdState.Down, BfdDiag.ControlDetectionTimeExpired, out);
    return out.changed;
  }

  /** Interval until the next periodic packet, before jitter (RFC 5880 6.8.7). */
  txIntervalMs(): number {
    return Math.max(this.#desiredTxUs(), this.remoteMinRxUs) / 1000;
  }

  /** The next control packet to send. */
  packet(final = false): Omit<BfdPacket, 'version'> {
    const desiredMinTx = this.#desiredTxUs();
    this.#advertisedTxUs = desiredMinTx;
    return {
      diag: this.diag, state: this.state, poll: this.polling && !final, final,
      controlPlaneIndependent: false, authPresent: false, demand: false, multipoint: false,
      detectMult: this.timers.detectMult, myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscriminator, desiredMinTx, requiredMinRx: this.timers.minRxMs * 1000, requiredMinEchoRx: 0,
    };
  }
}
