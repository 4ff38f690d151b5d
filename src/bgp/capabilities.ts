/**
 * @module bgp/capabilities — BGP capabilities advertisement (RFC 5492) and the capabilities podnet understands:
 * multiprotocol (RFC 4760, code 1), route refresh (RFC 2918, code 2), extended message (RFC 8654, code 6),
 * graceful restart (RFC 4724, code 64), 4-octet AS (RFC 6793, code 65), enhanced route refresh (RFC 7313, code 70).
 * Anything else is kept raw so it can be logged; RFC 5492 says an unknown capability must be ignored. Pure.
 */
import type { Afi } from './bgpPrefix.ts';

export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedMessage: 6,
  GracefulRestart: 64,
  FourOctetAs: 65,
  EnhancedRouteRefresh: 70,
} as const;

export interface AfiSafi {
  afi: number;
  safi: number;
}

export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: the sender kept forwarding state for this family across its restart. */
  forwarding: boolean;
}

export interface GracefulRestartCapability {
  /** R bit: the sender has restarted and its peer should not wait for it to send an EoR first. */
  restarting: boolean;
  /** N bit (RFC 8538): graceful restart also covers NOTIFICATION-triggered resets. */
  notification: boolean;
  /** Seconds the peer should keep our routes after the session drops (12 bits, max 4095). */
  restartTime: number;
  families: GracefulRestartFamily[];
}

export interface Capabilities {
  multiprotocol: AfiSafi[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  /** The real AS number when the 4-octet AS capability is present. */
  fourOctetAs?: number;
  gracefulRestart?: GracefulRestartCapability;
  unknown: Array<{ code: number; value: Uint8Array }>;
}

export function emptyCapabilities(): Capabilities {
  return { multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, unknown: [] };
}

function cap(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + value.length);
  out[0] = code;
  out[1] = value.length;
  out.set(value, 2);
  return out;
}

function encodeGracefulRestart(gr: GracefulRestartCapability): Uint8Array {
  const v = new Uint8Array(2 + 4 * gr.families.length);
  const flags = (gr.restarting ? 0x8 : 0) | (gr.notification ? 0x4 : 0);
  const time = Math.min(gr.restartTime, 0xfff);
  v[0] = (flags << 4) | (time >> 8);
  v[1] = time & 0xff;
  gr.families.forEach((f, i) => {
    const o = 2 + 4 * i;
    v[o] = f.afi >> 8; v[o + 1] = f.afi & 0xff; v[o + 2] = f.safi; v[o + 3] = f.forwarding ? 0x80 : 0;
  });
  return v;
}

/** Each capability as its own TLV, the list a capabilities optional parameter carries. */
export function encodeCapabilities(c: Capabilities): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of c.multiprotocol) out.push(cap(CapabilityCode.Multiprotocol, new Uint8Array([f.afi >> 8, f.afi & 0xff, 0, f.safi])));
  if (c.routeRefresh) out.push(cap(CapabilityCode.RouteRefresh, new Uint8Array(0)));
  if (c.enhancedRouteRefresh) out.push(cap(CapabilityCode.EnhancedRouteRefresh, new Uint8Array(0)));
  if (c.extendedMessage) out.push(cap(CapabilityCode.ExtendedMessage, new Uint8Array(0)));
  if (c.gracefulRestart) out.push(cap(CapabilityCode.GracefulRestart, encodeGracefulRestart(c.gracefulRestart)));
  if (c.fourOctetAs !== undefined) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, c.fourOctetAs);
    out.push(cap(CapabilityCode.FourOctetAs, v));
  }
  for (const u of c.unknown) out.push(cap(u.code, u.value));
  return out;
}

export type CapabilityResult = { ok: true } | { ok: false; reason: string };

function decodeGracefulRestart(v: Uint8Array): GracefulRestartCapability | null {
  if (v.length < 2 || (v.length - 2) % 4 !== 0) return null;
  const flags = v[0]! >> 4;
  const families: GracefulRestartFamily[] = [];
  for (let o = 2; o < v.length; o += 4) {
    families.push({ afi: (v[o]! << 8) | v[o + 1]!, safi: v[o + 2]!, forwarding: (v[o + 3]! & 0x80) !== 0 });
  }
  return { restarting: (flags & 0x8) !== 0, notification: (flags & 0x4) !== 0, restartTime: ((v[0]! & 0xf) << 8) | v[1]!, families };
}

/** Apply one capability TLV's value to `into`. A capability with a bad length is an OPEN error. */
export function decodeCapability(code: number, v: Uint8Array, into: Capabilities): CapabilityResult {
  switch (code) {
    case CapabilityCode.Multiprotocol:
      if (v.length !== 4) return { ok: false, reason: `multiprotocol capability of length ${v.length}, expected 4` };
      into.multiprotocol.push({ afi: (v[0]! << 8) | v[1]!, safi: v[3]! });
      return { ok: true };
    case CapabilityCode.RouteRefresh:
      into.routeRefresh = true;
      return { ok: true };
    case CapabilityCode.EnhancedRouteRefresh:
      into.enhancedRouteRefresh = true;
      return { ok: true };
    case CapabilityCode.ExtendedMessage:
      into.extendedMessage = true;
      return { ok: true };
    case CapabilityCode.GracefulRestart: {
      const gr = decodeGracefulRestart(v);
      if (!gr) return { ok: false, reason: `graceful restart capability of length ${v.length}` };
      into.gracefulRestart = gr;
      return { ok: true };
    }
    case CapabilityCode.FourOctetAs:
      if (v.length !== 4) return { ok: false, reason: `4-octet AS capability of length ${v.length}, expected 4` };
      into.fourOctetAs = new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
      return { ok: true };
    default:
      into.unknown.push({ code, value: v.slice() });
      return { ok: true };
  }
}

/** Families both sides announced (RFC 4760 6: a family is usable only if both sent it). */
export function commonFamilies(a: AfiSafi[], b: AfiSafi[]): AfiSafi[] {
  return a.filter((x) => b.some((y) => y.afi === x.afi && y.safi === x.safi));
}

export function hasFamily(list: AfiSafi[], afi: Afi, safi: number): boolean {
  return list.some((f) => f.afi === afi && f.safi === safi);
}
