/**
 * @module lb/renewStats — how late and how slow the periodic renewals of a lease were: "fired this many ms after
 * it was due" (a busy event loop) and "the store took this many ms" (a store that queued the write). A lapse is
 * always a question of which of the two grew, so both are kept.
 */
import { SampleRing, type TimingSummary } from '../common/sampleRing.ts';

export class RenewStats {
  /** Fire time minus due time of each renewal. */
  readonly late = new SampleRing(2048);
  /** Issue to completion of each successful renewal. */
  readonly took = new SampleRing(2048);
  losses = 0;

  summary(): { late: TimingSummary; took: TimingSummary; losses: number } {
    return { late: this.late.summary(), took: this.took.summary(), losses: this.losses };
  }
}
