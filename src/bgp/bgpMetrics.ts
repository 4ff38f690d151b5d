/**
 * @module bgp/bgpMetrics — per-peer Prometheus metrics for the speaker: session state (one gauge per state,
 * 1 for the current one, as BIRD/FRR exporters do), prefixes received and advertised (read from the RIBs at
 * scrape time, so they cost nothing per UPDATE), session transitions, NOTIFICATIONs, RFC 7606 treat-as-withdraw
 * events, and BFD transitions.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Speaker } from './speaker.ts';
import type { SessionState } from './session.ts';
import type { BfdManager } from './bfdManager.ts';

const STATES: SessionState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

export class BgpMetrics {
  readonly registry: Registry;
  readonly sessionState: Gauge<'peer' | 'state'>;
  readonly prefixesReceived: Gauge<'peer'>;
  readonly prefixesAdvertised: Gauge<'peer'>;
  readonly transitions: Counter<'peer' | 'to'>;
  readonly sessionDowns: Counter<'peer' | 'graceful'>;
  readonly treatAsWithdraw: Counter<'peer'>;
  readonly bfdTransitions: Counter<'peer' | 'to'>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.sessionState = new Gauge({ name: 'podnet_bgp_session_state', help: 'BGP session state per peer: 1 for the current state.', labelNames: ['peer', 'state'], registers });
    // Prefix counts are read from the RIBs when Prometheus scrapes (collect), never maintained per UPDATE.
    const speakers = this.#speakers;
    this.prefixesReceived = new Gauge({
      name: 'podnet_bgp_prefixes_received', help: 'Prefixes in the Adj-RIB-In of the peer (after import policy).', labelNames: ['peer'], registers,
      collect() { for (const sp of speakers) for (const p of sp.status()) this.set({ peer: p.peer }, p.received); },
    });
    this.prefixesAdvertised = new Gauge({
      name: 'podnet_bgp_prefixes_advertised', help: 'Prefixes in the Adj-RIB-Out of the peer.', labelNames: ['peer'], registers,
      collect() { for (const sp of speakers) for (const p of sp.status()) this.set({ peer: p.peer }, p.advertised); },
    });
    this.transitions = new Counter({ name: 'podnet_bgp_session_transitions_total', help: 'BGP FSM state changes per peer, by new state.', labelNames: ['peer', 'to'], registers });
    this.sessionDowns = new Counter({ name: 'podnet_bgp_session_down_total', help: 'Established sessions lost, by whether routes were kept (graceful restart).', labelNames: ['peer', 'graceful'], registers });
    this.treatAsWithdraw = new Counter({ name: 'podnet_bgp_treat_as_withdraw_total', help: 'Malformed UPDATEs whose routes were treated as withdrawn (RFC 7606).', labelNames: ['peer'], registers });
    this.bfdTransitions = new Counter({ name: 'podnet_bgp_bfd_transitions_total', help: 'BFD session state changes per peer, by new state.', labelNames: ['peer', 'to'], registers });
  }

  /** Follow a speaker (and optionally its BFD manager) from now on. */
  observe(speaker: Speaker, bfd?: BfdManager): void {
    speaker.on('peerState', (peer, to) => {
      this.transitions.inc({ peer, to });
      for (const st of STATES) this.sessionState.set({ peer, state: st }, st === to ? 1 : 0);
    });
    speaker.on('peerDown', (peer, d) => this.sessionDowns.inc({ peer, graceful: String(d.graceful) }));
    speaker.on('treatAsWithdraw', (peer) => this.treatAsWithdraw.inc({ peer }));
    bfd?.on('state', (peer, _from, to) => this.bfdTransitions.inc({ peer, to }));
    this.#speakers.push(speaker);
  }

  readonly #speakers: Speaker[] = [];

  /** The exposition text, with prefix counts read now. */
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
