/**
 * @module netlink — podnet's netlink library, public surface. Layers (each usable alone):
 *   codec (codec.ts, attributes.ts, structs.ts, specs/*) — pure bytes ⇄ objects, kernel names kept;
 *   NetlinkSocket — one socket in one netns: seq, request/dump, pipelining, events;
 *   Rtnetlink / RtnetlinkEvents / GenericNetlink — typed families. See README.md.
 */
export { NetlinkSocket, type NetlinkSocketOptions, type NetlinkRequest, type NetlinkSyscalls } from './netlinkSocket.ts';
export { Rtnetlink, type RtnetlinkOptions } from './rtnetlink/rtnetlink.ts';
export { RtnetlinkEvents, type RtnlEvents, type RtnlTopic, type RtnlAction } from './rtnetlink/events.ts';
export { GenericNetlink, type GenlFamily } from './genericNetlink.ts';
export type { Link, LinkCreateSpec, VethSpec, BridgeSpec, VxlanSpec, IpipSpec } from './rtnetlink/linkCodec.ts';
export { vxlanInfo } from './rtnetlink/linkCodec.ts';
export type { LinkSetOptions } from './rtnetlink/links.ts';
export type { Address, AddressSpec, AddrFlag } from './rtnetlink/addresses.ts';
export type { Route, RouteSpec, NextHopSpec, RouteMetrics } from './rtnetlink/routes.ts';
export type { Neighbour, NeighbourSpec, FdbSpec, NudState } from './rtnetlink/neighbours.ts';
export {
  NetlinkDecodeError, NetlinkEncodeError, NetlinkKernelError, NetlinkTimeoutError, NetlinkClosedError,
  LinkKindUnsupportedError, isKernelError,
} from './errors.ts';
export { netnsPath } from './netnsRef.ts';
