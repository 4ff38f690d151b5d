/**
 * @module netlink/rtnetlink/routes — IPv4/IPv6 routes: add, replace, delete, list, including onlink gateways,
 * tables above 255, protocol tags (podnet marks what it owns), metrics and multipath (ECMP) next hops.
 * Defaults follow iproute2 so a route means the same as the `ip route` line it mirrors: add uses protocol boot,
 * scope link without a gateway (universe with one), type unicast; delete matches any protocol/scope/type unless given.
 */
import type { ByteWriter } from '../byteWriter.ts';
import {
  AF_INET, AF_INET6, AF_UNSPEC, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE,
  RTNH_F_ONLINK, RTN, RTPROT, RT_SCOPE, RT_TABLE, enumName,
} from '../constants.ts';
import { NetlinkEncodeError } from '../errors.ts';
import type { IpFamily } from '../../common/ipAddress.ts';
import { parseAddrPrefix, requireIpFamily } from '../addressText.ts';
import type { NetlinkSocket } from '../netlinkSocket.ts';
import { routeBody, type RouteAttrs, type RtNextHop } from '../specs/routeSpec.ts';
import type { Links } from './links.ts';

export interface RouteMetrics {
  mtu?: number;
  advmss?: number;
  hoplimit?: number;
  initcwnd?: number;
  initrwnd?: number;
  window?: number;
  /** Lock bits (RTAX_LOCK), e.g. 1 << RTAX_MTU to lock the MTU. */
  lock?: number;
}

export interface NextHopSpec {
  gateway?: string;
  dev?: string | number;
  /** 1..256, default 1. */
  weight?: number;
  onlink?: boolean;
}

export interface RouteSpec {
  /** "10.1.0.0/24", "fd00::/64" or "default" (then `family` or a gateway's family decides). */
  dst: string;
  family?: IpFamily;
  gateway?: string;
  dev?: string | number;
  onlink?: boolean;
  table?: number | 'main' | 'local' | 'default';
  protocol?: number | 'boot' | 'static' | 'kernel';
  scope?: number | 'universe' | 'site' | 'link' | 'host' | 'nowhere';
  type?: number | 'unicast' | 'local' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';
  /** Metric (RTA_PRIORITY). */
  priority?: number;
  prefsrc?: string;
  metrics?: RouteMetrics;
  nexthops?: NextHopSpec[];
}

export interface NextHop {
  gateway: string | undefined;
  dev: number;
  weight: number;
  onlink: boolean;
}

export interface Route {
  family: IpFamily;
  /** CIDR, or "default". */
  dst: string;
  gateway: string | undefined;
  dev: number | undefined;
  table: number;
  protocol: string | number;
  scope: string | number;
  type: string | number;
  priority: number | undefined;
  prefsrc: string | undefined;
  onlink: boolean;
  metrics: RouteMetrics | undefined;
  nexthops: NextHop[] | undefined;
  attrs: RouteAttrs;
}

function lookup(table: Readonly<Record<string, number>>, v: string | number | undefined, what: string): number | undefined {
  if (v === undefined || typeof v === 'number') return v;
  const n = table[v];
  if (n === undefined) throw new NetlinkEncodeError(`unknown route ${what} "${v}"`);
  return n;
}

function routeFamily(spec: RouteSpec): IpFamily {
  if (spec.dst !== 'default') return parseAddrPrefix(spec.dst).family;
  const gw = spec.gateway ?? spec.nexthops?.find((h) => h.gateway)?.gateway;
  if (gw) return requireIpFamily(gw);
  if (spec.family) return spec.family;
  throw new NetlinkEncodeError('a default route without a gateway needs `family`');
}

/** Everything the encoder needs resolved: device indexes for `dev` and each next hop. */
export interface RouteRefs {
  dev?: number;
  nexthopDevs?: Array<number | undefined>;
}

/** RTM_NEWROUTE / RTM_DELROUTE body. `forDelete` switches to iproute2's match-anything defaults. */
export function encodeRoute(w: ByteWriter, spec: RouteSpec, refs: RouteRefs, forDelete = false): void {
  const family = routeFamily(spec);
  const dst = spec.dst === 'default' ? { address: undefined, prefixLen: 0 } : parseAddrPrefix(spec.dst);
  const table = lookup(RT_TABLE, spec.table, 'table') ?? RT_TABLE.main!;
  const hasGateway = spec.gateway !== undefined || (spec.nexthops?.length ?? 0) > 0;
  const type = lookup(RTN, spec.type, 'type') ?? (forDelete ? 0 : RTN.unicast!);
  const defaultScope = forDelete ? RT_SCOPE.nowhere! : type === RTN.local ? RT_SCOPE.host! : hasGateway || type !== RTN.unicast ? 0 : RT_SCOPE.link!;
  const attrs: RouteAttrs = {
    RTA_DST: dst.address,
    RTA_GATEWAY: spec.gateway,
    RTA_OIF: refs.dev,
    RTA_PRIORITY: spec.priority,
    RTA_PREFSRC: spec.prefsrc,
    RTA_TABLE: table,
  };
  for (const a of [spec.gateway, spec.prefsrc]) if (a && requireIpFamily(a) !== family) throw new NetlinkEncodeError(`route ${spec.dst}: ${a} is not IPv${family}`);
  if (spec.metrics) {
    const m = spec.metrics;
    attrs.RTA_METRICS = { RTAX_LOCK: m.lock, RTAX_MTU: m.mtu, RTAX_ADVMSS: m.advmss, RTAX_HOPLIMIT: m.hoplimit, RTAX_INITCWND: m.initcwnd, RTAX_INITRWND: m.initrwnd, RTAX_WINDOW: m.window };
  }
  if (spec.nexthops?.length) attrs.RTA_MULTIPATH = spec.nexthops.map((h, i) => nextHop(h, refs.nexthopDevs?.[i], family, spec.dst));
  routeBody.encode(w, {
    rtm_family: family === 4 ? AF_INET : AF_INET6,
    rtm_dst_len: dst.prefixLen,
    rtm_table: table < 256 ? table : 0,
    rtm_protocol: lookup(RTPROT, spec.protocol, 'protocol') ?? (forDelete ? 0 : RTPROT.boot!),
    rtm_scope: lookup(RT_SCOPE, spec.scope, 'scope') ?? defaultScope,
    rtm_type: type,
    rtm_flags: spec.onlink ? RTNH_F_ONLINK : 0,
  }, attrs);
}

function nextHop(h: NextHopSpec, dev: number | undefined, family: IpFamily, dst: string): RtNextHop {
  const weight = h.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 1 || weight > 256) throw new NetlinkEncodeError(`route ${dst}: next hop weight must be 1..256`);
  if (h.gateway && requireIpFamily(h.gateway) !== family) throw new NetlinkEncodeError(`route ${dst}: next hop ${h.gateway} is not IPv${family}`);
  return { rtnh_flags: h.onlink ? RTNH_F_ONLINK : 0, rtnh_hops: weight - 1, rtnh_ifindex: dev ?? 0, attrs: { RTA_GATEWAY: h.gateway } };
}

export function decodeRoute(payload: Uint8Array): Route {
  const { header, attrs } = routeBody.decode(payload);
  const family: IpFamily = header.rtm_family === AF_INET6 ? 6 : 4;
  const m = attrs.RTA_METRICS;
  return {
    family,
    dst: attrs.RTA_DST ? `${attrs.RTA_DST}/${header.rtm_dst_len}` : header.rtm_dst_len === 0 ? 'default' : `?/${header.rtm_dst_len}`,
    gateway: attrs.RTA_GATEWAY,
    dev: attrs.RTA_OIF,
    table: attrs.RTA_TABLE ?? header.rtm_table,
    protocol: enumName(RTPROT, header.rtm_protocol),
    scope: enumName(RT_SCOPE, header.rtm_scope),
    type: enumName(RTN, header.rtm_type),
    priority: attrs.RTA_PRIORITY,
    prefsrc: attrs.RTA_PREFSRC,
    onlink: (header.rtm_flags & RTNH_F_ONLINK) !== 0,
    metrics: m && { mtu: m.RTAX_MTU, advmss: m.RTAX_ADVMSS, hoplimit: m.RTAX_HOPLIMIT, initcwnd: m.RTAX_INITCWND, initrwnd: m.RTAX_INITRWND, window: m.RTAX_WINDOW, lock: m.RTAX_LOCK },
    nexthops: attrs.RTA_MULTIPATH?.map((h) => ({ gateway: h.attrs.RTA_GATEWAY, dev: h.rtnh_ifindex, weight: h.rtnh_hops + 1, onlink: (h.rtnh_flags & RTNH_F_ONLINK) !== 0 })),
    attrs,
  };
}

export interface RouteFilter {
  family?: IpFamily;
  /** Default: main. 'all' lists every table. */
  table?: number | 'main' | 'local' | 'all';
  protocol?: number;
}

export class Routes {
  readonly #nl: NetlinkSocket;
  readonly #links: Links;

  constructor(nl: NetlinkSocket, links: Links) {
    this.#nl = nl;
    this.#links = links;
  }

  add(spec: RouteSpec): Promise<void> {
    return this.#modify(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, spec, 'adding');
  }

  /** Add or overwrite the route with the same destination, table, tos and priority. */
  replace(spec: RouteSpec): Promise<void> {
    return this.#modify(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, spec, 'replacing');
  }

  delete(spec: RouteSpec): Promise<void> {
    return this.#modify(RTM_DELROUTE, 0, spec, 'deleting');
  }

  async list(filter: RouteFilter = {}): Promise<Route[]> {
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : AF_UNSPEC;
    const table = filter.table === 'all' ? undefined : lookup(RT_TABLE, filter.table ?? 'main', 'table');
    const msgs = await this.#nl.dump({ type: RTM_GETROUTE, what: 'listing routes', body: (w) => routeBody.encode(w, { rtm_family: family }, {}) });
    return msgs
      .filter((m) => m.type === RTM_NEWROUTE)
      .map((m) => decodeRoute(m.payload))
      .filter((r) => (table === undefined || r.table === table) && (filter.protocol === undefined || r.protocol === enumName(RTPROT, filter.protocol)));
  }

  async #modify(type: number, flags: number, spec: RouteSpec, verb: string): Promise<void> {
    const refs: RouteRefs = {};
    if (spec.dev !== undefined) refs.dev = await this.#links.index(spec.dev);
    if (spec.nexthops) refs.nexthopDevs = await Promise.all(spec.nexthops.map((h) => (h.dev === undefined ? undefined : this.#links.index(h.dev))));
    await this.#nl.request({ type, flags, what: `${verb} route ${spec.dst}`, body: (w) => encodeRoute(w, spec, refs, type === RTM_DELROUTE) });
  }
}
