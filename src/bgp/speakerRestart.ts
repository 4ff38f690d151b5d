/**
 * @module bgp/speakerRestart — graceful restart as the receiving speaker (RFC 4724 4.2): keep a lost peer's paths
 * as stale for its restart time, sweep per family on End-of-RIB, at once for families the returning peer no
 * longer preserves (no F bit), and after a stale timer if EoR never comes.
 */
import { AFI_IPV4, AFI_IPV6, type Afi } from './bgpPrefix.ts';
import type { Rib } from './rib.ts';
import type { DownInfo } from './session.ts';
import type { SpeakerPeer } from './speakerPeer.ts';

export interface RestartContext {
  rib: Rib;
  /** Record prefixes whose selection changed and schedule the export/kernel flush (also from timers). */
  changed(prefixes: Iterable<string>): void;
  /** Seconds to wait for End-of-RIB once the peer is back. */
  staleTimeSec: number;
}

export function sweepStale(ctx: RestartContext, peer: SpeakerPeer, afis: Afi[]): void {
  ctx.changed(ctx.rib.sweepStale(peer.key, afis));
  afis.forEach((a) => peer.staleFamilies.delete(a));
  if (peer.staleFamilies.size === 0 && peer.staleTimer) { clearTimeout(peer.staleTimer); peer.staleTimer = undefined; }
}

/** The session ended in a way graceful restart covers: keep the covered families stale, drop the rest. */
export function keepStale(ctx: RestartContext, peer: SpeakerPeer, d: DownInfo): void {
  const all: Afi[] = [AFI_IPV4, AFI_IPV6];
  const kept = all.filter((f) => d.peerRestartFamilies.includes(f));
  const dropped = all.filter((f) => !d.peerRestartFamilies.includes(f));
  ctx.changed(ctx.rib.markStale(peer.key, all));
  ctx.changed(ctx.rib.sweepStale(peer.key, dropped));
  kept.forEach((f) => peer.staleFamilies.add(f));
  if (peer.staleTimer) clearTimeout(peer.staleTimer);
  // The peer must be back within its restart time, else its routes go.
  peer.staleTimer = setTimeout(() => {
    if (peer.session.state !== 'Established') sweepStale(ctx, peer, [...peer.staleFamilies]);
  }, d.peerRestartTime * 1000);
}

/** The peer is back: families it no longer preserves are swept now, the rest wait for EoR or the stale timer. */
export function peerReturned(ctx: RestartContext, peer: SpeakerPeer, grFamilies: Array<{ afi: number; forwarding: boolean }> | undefined): void {
  for (const afi of [...peer.staleFamilies]) {
    if (!grFamilies?.some((f) => f.afi === afi && f.forwarding)) sweepStale(ctx, peer, [afi]);
  }
  if (!peer.staleFamilies.size) return;
  if (peer.staleTimer) clearTimeout(peer.staleTimer);
  peer.staleTimer = setTimeout(() => sweepStale(ctx, peer, [...peer.staleFamilies]), ctx.staleTimeSec * 1000);
}
