/**
 * @module bgp/bfdTiming — how punctual this process's BFD is, so a session that expires under load can be told
 * apart: transmit timers firing late (our event loop was busy: the peer sees the gap), or long gaps between
 * received packets (the peer was late, or our receive processing was). Shown in `podnetctl bgp status -o json`
 * under `bfdTiming`.
 */
import { SampleRing, type TimingSummary } from '../common/sampleRing.ts';

export interface BfdTimingDocument {
  /** Transmit timer fire time minus the time it was set for. */
  txLateMs: TimingSummary;
  /** Time between two packets received from a peer in Init or Up, as processed here. */
  rxGapMs: TimingSummary;
  /** Sessions taken Down because the detection time ran out. */
  detectionExpiries: number;
  /** Detection timers that found, once pending packets were read, that the peer was alive after all. */
  detectionRescued: number;
}

export class BfdTiming {
  readonly txLate = new SampleRing();
  readonly rxGap = new SampleRing();
  detectionExpiries = 0;
  detectionRescued = 0;

  document(): BfdTimingDocument {
    return { txLateMs: this.txLate.summary(), rxGapMs: this.rxGap.summary(), detectionExpiries: this.detectionExpiries, detectionRescued: this.detectionRescued };
  }
}
