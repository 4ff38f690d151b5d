/**
 * @module netlink/rtnetlink/rtnetlink — the typed route-netlink API: one socket in one namespace, with
 * `links`, `addresses`, `routes`, `neighbours` and `fdb` tables on it. Open one per namespace you manage.
 */
import type { NetnsRef } from '../../native/types.ts';
import { NetlinkSocket, type NetlinkSocketOptions } from '../netlinkSocket.ts';
import { resolveNetnsRef } from '../netnsRef.ts';
import { Addresses } from './addresses.ts';
import { Links } from './links.ts';
import { Fdb, Neighbours } from './neighbours.ts';
import { Routes } from './routes.ts';

export interface RtnetlinkOptions extends Omit<NetlinkSocketOptions, 'protocol' | 'groups' | 'netns'> {
  /** A namespace name (`ip netns` style), a path, or an fd; default: this process's namespace. */
  netns?: NetnsRef;
}

export class Rtnetlink {
  readonly socket: NetlinkSocket;
  readonly links: Links;
  readonly addresses: Addresses;
  readonly routes: Routes;
  readonly neighbours: Neighbours;
  readonly fdb: Fdb;

  static async open(opts: RtnetlinkOptions = {}): Promise<Rtnetlink> {
    const netns = opts.netns === undefined ? undefined : resolveNetnsRef(opts.netns);
    return new Rtnetlink(await NetlinkSocket.open({ ...opts, netns }));
  }

  constructor(socket: NetlinkSocket) {
    this.socket = socket;
    this.links = new Links(socket);
    this.addresses = new Addresses(socket, this.links);
    this.routes = new Routes(socket, this.links);
    this.neighbours = new Neighbours(socket, this.links);
    this.fdb = new Fdb(socket, this.links);
  }

  close(): void {
    this.socket.close();
  }
}
