/**
 * @module netlink/rtnetlink/events — rtnetlink multicast notifications as typed events. A separate socket joins
 * the groups, so a burst of events never delays request answers (and vice versa). When the kernel had to drop
 * notifications (ENOBUFS: the receive buffer overflowed) 'overflow' fires: the consumer must re-list, as every
 * level-triggered reconciler does anyway.
 */
import { EventEmitter } from 'node:events';
import type { NetnsRef } from '../../native/types.ts';
import type { NetlinkMessage } from '../codec.ts';
import {
  RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWROUTE,
  RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK, RTNLGRP_NEIGH,
} from '../constants.ts';
import { errnoCode } from '../../common/errors.ts';
import { NetlinkSocket, type NetlinkSyscalls } from '../netlinkSocket.ts';
import { resolveNetnsRef } from '../netnsRef.ts';
import { decodeAddress, type Address } from './addresses.ts';
import { decodeLink, type Link } from './linkCodec.ts';
import { decodeNeighbour, type Neighbour } from './neighbours.ts';
import { decodeRoute, type Route } from './routes.ts';

export type RtnlTopic = 'link' | 'address' | 'route' | 'neighbour';
export type RtnlAction = 'new' | 'del';

export interface RtnlEvents {
  link: [action: RtnlAction, link: Link];
  address: [action: RtnlAction, address: Address];
  route: [action: RtnlAction, route: Route];
  neighbour: [action: RtnlAction, neighbour: Neighbour];
  /** Notifications were lost; re-list what you track. */
  overflow: [];
  error: [err: Error];
}

const GROUPS: Record<RtnlTopic, number[]> = {
  link: [RTNLGRP_LINK],
  address: [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR],
  route: [RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE],
  neighbour: [RTNLGRP_NEIGH],
};

export interface RtnlEventOptions {
  netns?: NetnsRef;
  /** Default: all four topics, IPv4 and IPv6. */
  topics?: RtnlTopic[];
  binding?: NetlinkSyscalls;
}

export class RtnetlinkEvents extends EventEmitter<RtnlEvents> {
  readonly #sock: NetlinkSocket;

  static async open(opts: RtnlEventOptions = {}): Promise<RtnetlinkEvents> {
    const topics = opts.topics ?? ['link', 'address', 'route', 'neighbour'];
    const sock = await NetlinkSocket.open({
      netns: opts.netns === undefined ? undefined : resolveNetnsRef(opts.netns),
      groups: topics.flatMap((t) => GROUPS[t]),
      binding: opts.binding,
    });
    return new RtnetlinkEvents(sock);
  }

  constructor(sock: NetlinkSocket) {
    super();
    this.#sock = sock;
    sock.on('message', (msg) => this.#dispatch(msg));
    sock.on('error', (err) => {
      if (errnoCode(err) === 'ENOBUFS') this.emit('overflow');
      else if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  #dispatch(msg: NetlinkMessage): void {
    try {
      switch (msg.type) {
        case RTM_NEWLINK: case RTM_DELLINK:
          this.emit('link', msg.type === RTM_NEWLINK ? 'new' : 'del', decodeLink(msg.payload));
          break;
        case RTM_NEWADDR: case RTM_DELADDR:
          this.emit('address', msg.type === RTM_NEWADDR ? 'new' : 'del', decodeAddress(msg.payload));
          break;
        case RTM_NEWROUTE: case RTM_DELROUTE:
          this.emit('route', msg.type === RTM_NEWROUTE ? 'new' : 'del', decodeRoute(msg.payload));
          break;
        case RTM_NEWNEIGH: case RTM_DELNEIGH:
          this.emit('neighbour', msg.type === RTM_NEWNEIGH ? 'new' : 'del', decodeNeighbour(msg.payload));
          break;
      }
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err as Error);
    }
  }

  /** Whether the subscription keeps the process alive (default yes). */
  ref(): this {
    this.#sock.ref();
    return this;
  }

  unref(): this {
    this.#sock.unref();
    return this;
  }

  close(): void {
    this.#sock.close();
  }
}
