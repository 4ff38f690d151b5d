/**
 * @module bgp/bfdPeerSet — keeps a BfdManager's sessions equal to the planned BFD peers: starts the manager on
 * the first peer, adds new peers, replaces peers whose timers changed (AdminDown first, which the peer must not
 * take as a failure), removes the rest. Peers of the other address family than the node's are reported, not added
 * (one receive socket per manager, bound to the node's address).
 */
import type { Logger } from '../common/logger.ts';
import type { BfdManager } from './bfdManager.ts';
import type { BfdPeerPlan } from './bgpAgentPlan.ts';

export class BfdPeerSet {
  readonly #bfd: BfdManager;
  readonly #log: Logger;
  readonly #peers = new Map<string, string>();
  #started = false;

  constructor(bfd: BfdManager, log: Logger) {
    this.#bfd = bfd;
    this.#log = log;
  }

  /** Make the sessions match `want`; returns problems (peers that cannot have BFD). */
  async reconcile(localAddress: string, want: BfdPeerPlan[]): Promise<string[]> {
    const usable = want.filter((p) => p.address.includes(':') === localAddress.includes(':'));
    const problems = want.filter((p) => !usable.includes(p)).map((p) => `BFD to ${p.address}: only peers of the node address's family (${localAddress}) are supported`);
    if (usable.length && !this.#started) {
      this.#started = true;
      await this.#bfd.start();
    }
    const next = new Map(usable.map((p) => [p.address, JSON.stringify(p.timers)]));
    for (const [addr, timers] of this.#peers) {
      if (next.get(addr) !== timers) { this.#bfd.removePeer(addr); this.#peers.delete(addr); }
    }
    for (const p of usable) {
      if (this.#peers.has(p.address)) continue;
      await this.#bfd.addPeer(p.address, p.timers);
      this.#peers.set(p.address, JSON.stringify(p.timers));
      this.#log.info({ event: 'bfdPeerAdded', peer: p.address, timers: p.timers, source: p.source }, `BFD: ${p.address} every ${p.timers.minTxMs} ms × ${p.timers.detectMult} (${p.source})`);
    }
    return problems;
  }
}
