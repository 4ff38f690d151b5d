/**
 * @module bgp/sessionConfig — what a BGP session is configured with, defaults, and the pure negotiation of an
 * OPEN exchange (RFC 4271 4.2/6.2 hold time, RFC 6793 AS4, RFC 4760 families, RFC 4724 graceful restart).
 */
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, type Afi } from './bgpPrefix.ts';
import { commonFamilies, emptyCapabilities, type Capabilities, type GracefulRestartCapability } from './capabilities.ts';
import { ErrorCode, OpenSubcode, protocolError, type ProtocolError } from './notification.ts';
import type { OpenMessage } from './openMessage.ts';

export interface GracefulRestartConfig {
  /** Seconds a peer should keep our routes after we go away (RFC 4724 restart time, ≤ 4095). */
  restartTime: number;
  /** We are coming back from a restart with forwarding state kept: sets the R and F bits. */
  restarting: boolean;
}

export interface SessionConfig {
  localAs: number;
  peerAs: number;
  routerId: string;
  peerAddress: string;
  peerPort: number;
  /** Source address for outgoing connections (and the address the peer must connect to). */
  localAddress?: string;
  /** Proposed hold time in seconds: 0 or ≥ 3 (RFC 4271 4.2). */
  holdTime: number;
  /** First connect-retry delay in ms; doubles per failure up to connectRetryMaxMs. */
  connectRetryMs: number;
  connectRetryMaxMs: number;
  /** Never connect out; wait for the peer (RFC 4271 8.1.1 PassiveTcpEstablishment). */
  passive: boolean;
  /** IP TTL for the session's packets: 1 for directly connected eBGP, more for multihop (needs setTtl). */
  ttl?: number;
  /** RFC 2385 TCP MD5 key (needs the native addon's setTcpMd5). */
  md5Password?: string;
  families: Afi[];
  gracefulRestart?: GracefulRestartConfig;
}

export const DEFAULTS = {
  peerPort: 179,
  holdTime: 90,
  connectRetryMs: 1_000,
  connectRetryMaxMs: 30_000,
  connectTimeoutMs: 5_000,
  /** RFC 4271 8: a "large value" for the hold timer until OPENs are exchanged; 4 minutes is the suggestion. */
  openHoldTime: 240,
} as const;

export function isExternal(c: SessionConfig): boolean {
  return c.localAs !== c.peerAs;
}

/** The capabilities we put in our OPEN. */
export function localCapabilities(c: SessionConfig): Capabilities {
  const caps = emptyCapabilities();
  caps.multiprotocol = c.families.map((afi) => ({ afi, safi: SAFI_UNICAST }));
  caps.routeRefresh = true;
  caps.fourOctetAs = c.localAs;
  if (c.gracefulRestart) {
    const gr: GracefulRestartCapability = {
      restarting: c.gracefulRestart.restarting,
      notification: false,
      restartTime: c.gracefulRestart.restartTime,
      families: c.families.map((afi) => ({ afi, safi: SAFI_UNICAST, forwarding: c.gracefulRestart!.restarting })),
    };
    caps.gracefulRestart = gr;
  }
  return caps;
}

export interface Negotiated {
  holdTime: number;
  keepaliveTime: number;
  fourOctetAs: boolean;
  families: Afi[];
  routeRefresh: boolean;
  peerRouterId: string;
  /** The peer's graceful restart capability, when both sides advertised one. */
  peerGracefulRestart?: GracefulRestartCapability;
}

export type NegotiationResult = { ok: true; negotiated: Negotiated } | { ok: false; error: ProtocolError };

/** Judge the peer's OPEN against our configuration; hold time is the smaller of the two (RFC 4271 4.2). */
export function negotiate(c: SessionConfig, open: OpenMessage): NegotiationResult {
  if (open.asn !== c.peerAs) {
    return { ok: false, error: protocolError(ErrorCode.Open, OpenSubcode.BadPeerAs, `peer AS ${open.asn}, expected ${c.peerAs}`) };
  }
  if (!isExternal(c) && open.routerId === c.routerId) {
    return { ok: false, error: protocolError(ErrorCode.Open, OpenSubcode.BadBgpIdentifier, `iBGP peer uses our identifier ${open.routerId}`) };
  }
  const holdTime = Math.min(c.holdTime, open.holdTime);
  const local = localCapabilities(c);
  // A peer that announces no multiprotocol capability speaks IPv4 unicast only (RFC 4760 8).
  const peerFamilies = open.capabilities.multiprotocol.length ? open.capabilities.multiprotocol : [{ afi: AFI_IPV4, safi: SAFI_UNICAST }];
  const families = commonFamilies(local.multiprotocol, peerFamilies)
    .map((f) => f.afi)
    .filter((afi): afi is Afi => afi === AFI_IPV4 || afi === AFI_IPV6);
  const negotiated: Negotiated = {
    holdTime,
    keepaliveTime: Math.floor(holdTime / 3),
    fourOctetAs: open.capabilities.fourOctetAs !== undefined,
    families,
    routeRefresh: open.capabilities.routeRefresh || open.capabilities.enhancedRouteRefresh,
    peerRouterId: open.routerId,
  };
  if (c.gracefulRestart && open.capabilities.gracefulRestart) negotiated.peerGracefulRestart = open.capabilities.gracefulRestart;
  return { ok: true, negotiated };
}
