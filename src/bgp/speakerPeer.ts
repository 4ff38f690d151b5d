/**
 * @module bgp/speakerPeer — what the speaker keeps per configured peer besides the session: its Adj-RIB-Out,
 * the prefixes waiting to be exported, the single sender that drains them, and graceful-restart bookkeeping.
 */
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, type Afi } from './bgpPrefix.ts';
import { encodeUpdateBody, endOfRib, packUpdates } from './updateMessage.ts';
import { MAX_MESSAGE, HEADER_LENGTH } from './messages.ts';
import { AdjRibOut, type ExportContext } from './ribOut.ts';
import { ACCEPT_ALL, type Policy } from './ribPolicy.ts';
import type { Session } from './session.ts';
import type { Selection } from './ribRoute.ts';
import type { ReflectionContext } from './routeReflection.ts';

export interface PeerSpec {
  peerAddress: string;
  peerAs: number;
  peerPort?: number;
  localAddress?: string;
  passive?: boolean;
  holdTime?: number;
  ttl?: number;
  md5Password?: string;
  families?: Afi[];
  importPolicy?: Policy;
  exportPolicy?: Policy;
  /** Our next hop towards this peer: defaults to localAddress for IPv4. */
  nextHopV4?: string;
  nextHopsV6?: string[];
  /** This iBGP peer is our route-reflector client (we must have a cluster id: SpeakerConfig.routeReflector). */
  routeReflectorClient?: boolean;
  /** Advertise only what we originate (the node's pod CIDR, service IPs), never routes learned from others. */
  exportLocalOnly?: boolean;
}

export class SpeakerPeer {
  readonly spec: PeerSpec;
  readonly session: Session;
  readonly out = new AdjRibOut();
  readonly key: string;
  #pending = new Set<string>();
  #sending = false;
  #needEor: Afi[] = [];
  /** Families whose routes from this peer are stale, waiting for EoR (RFC 4724 4.2). */
  staleFamilies = new Set<Afi>();
  staleTimer?: NodeJS.Timeout;
  advertised = 0;
  /** Families for which the peer's End-of-RIB arrived since its session came up. */
  eorReceived = new Set<Afi>();
  /** Set by the speaker when it is a route reflector. */
  reflection?: Omit<ReflectionContext, 'toClient'>;

  constructor(spec: PeerSpec, session: Session) {
    this.spec = spec;
    this.session = session;
    this.key = spec.peerAddress;
  }

  exportContext(localAs: number): ExportContext {
    return {
      localAs,
      peerAs: this.spec.peerAs,
      peer: this.key,
      nextHopV4: this.spec.nextHopV4 ?? (this.spec.localAddress?.includes(':') ? undefined : this.spec.localAddress),
      nextHopsV6: this.spec.nextHopsV6 ?? (this.spec.localAddress?.includes(':') ? [this.spec.localAddress] : undefined),
      policy: this.spec.exportPolicy ?? ACCEPT_ALL,
      defaultLocalPref: 100,
      peerRouterId: this.session.negotiated?.peerRouterId,
      ...(this.spec.exportLocalOnly ? { localOnly: true } : {}),
      ...(this.reflection ? { reflection: { ...this.reflection, toClient: this.spec.routeReflectorClient === true } } : {}),
    };
  }

  /** Start a full advertisement (session up or route refresh); EoR follows it when `withEor`. */
  resync(prefixes: Iterable<string>, families: Afi[], withEor: boolean): void {
    this.out.clear();
    this.advertised = 0;
    for (const p of prefixes) this.#pending.add(p);
    if (withEor) this.#needEor = families;
  }

  enqueue(prefixes: Iterable<string>): void {
    for (const p of prefixes) this.#pending.add(p);
  }

  /** Drain pending prefixes into UPDATEs; one sender at a time, later changes coalesce into the next round. */
  async flush(loc: Map<string, Selection>, localAs: number): Promise<void> {
    if (this.#sending || this.session.state !== 'Established') return;
    this.#sending = true;
    try {
      const ctx = this.exportContext(localAs);
      const fourOctetAs = this.session.negotiated?.fourOctetAs ?? true;
      const maxBody = MAX_MESSAGE - HEADER_LENGTH;
      while (this.#pending.size && this.session.state === 'Established') {
        const batch = this.#pending;
        this.#pending = new Set();
        const diff = this.out.diff(batch, loc, ctx);
        const bodies: Uint8Array[] = [];
        if (diff.withdraw.length) bodies.push(...packUpdates({ attributes: {}, announce: [], withdraw: diff.withdraw }, { fourOctetAs }, maxBody));
        for (const b of diff.batches) {
          // Reflected IPv6 routes carry their originator's next hop in mpReach (ribOut); ours use the session's.
          const { mpReach, ...attributes } = b.attributes;
          bodies.push(...packUpdates({ attributes, announce: b.announce, withdraw: [], nextHopsV6: mpReach?.nextHops ?? ctx.nextHopsV6 }, { fourOctetAs }, maxBody));
        }
        this.advertised = this.out.sent.size;
        await this.session.sendUpdateBodies(bodies);
      }
      if (this.#needEor.length && this.session.state === 'Established') {
        const eors = this.#needEor.map((afi) => encodeUpdateBody(endOfRib(afi), { fourOctetAs }));
        this.#needEor = [];
        await this.session.sendUpdateBodies(eors);
      }
    } finally {
      this.#sending = false;
    }
    if (this.#pending.size) await this.flush(loc, localAs);
  }
}

export function familyName(afi: Afi): string {
  return afi === AFI_IPV4 ? 'ipv4-unicast' : afi === AFI_IPV6 ? 'ipv6-unicast' : `afi ${afi}`;
}

export { SAFI_UNICAST };
