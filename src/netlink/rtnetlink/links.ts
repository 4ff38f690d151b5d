/**
 * @module netlink/rtnetlink/links — links over a NetlinkSocket: list, get, create (veth with the peer in another
 * namespace, bridge, vxlan, ipip), delete, and changes (up/down, MTU, MAC, master, name, namespace).
 */
import { AF_UNSPEC, NLM_F_CREATE, NLM_F_EXCL, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from '../constants.ts';
import { LinkKindUnsupportedError, isKernelError } from '../errors.ts';
import type { NetlinkSocket } from '../netlinkSocket.ts';
import { withNetnsFd } from '../netnsRef.ts';
import type { NetnsRef } from '../../native/types.ts';
import { linkBody } from '../specs/linkSpec.ts';
import {
  decodeLink, encodeLinkChange, encodeLinkCreate, linkSelector, type Link, type LinkCreateSpec, type ResolvedRefs,
} from './linkCodec.ts';

export interface LinkSetOptions {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** A bridge to enslave to (name or index); null detaches. */
  master?: string | number | null;
  /** New name: the link must then be given by index, or it is looked up first. */
  name?: string;
  /** Move the link to this namespace (name, path or fd). */
  netns?: NetnsRef;
  txqlen?: number;
}

const describe = (link: string | number) => (typeof link === 'number' ? `link #${link}` : `link ${link}`);

export class Links {
  readonly #nl: NetlinkSocket;

  constructor(nl: NetlinkSocket) {
    this.#nl = nl;
  }

  async list(): Promise<Link[]> {
    const msgs = await this.#nl.dump({ type: RTM_GETLINK, what: 'listing links', body: (w) => linkBody.encode(w, { ifi_family: AF_UNSPEC }, {}) });
    return msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => decodeLink(m.payload));
  }

  /** The link, or a NetlinkKernelError with code ENODEV. */
  async get(link: string | number): Promise<Link> {
    const sel = linkSelector(link);
    const msgs = await this.#nl.request({ type: RTM_GETLINK, what: `reading ${describe(link)}`, body: (w) => linkBody.encode(w, sel.header, sel.attrs) });
    const reply = msgs.find((m) => m.type === RTM_NEWLINK);
    if (!reply) throw new Error(`reading ${describe(link)}: the kernel sent no link`);
    return decodeLink(reply.payload);
  }

  /** The link, or undefined when it does not exist. */
  async find(link: string | number): Promise<Link | undefined> {
    try {
      return await this.get(link);
    } catch (err) {
      if (isKernelError(err, 'ENODEV')) return undefined;
      throw err;
    }
  }

  /** Index of a link given by name (an index is returned as is). */
  async index(link: string | number): Promise<number> {
    return typeof link === 'number' ? link : (await this.get(link)).index;
  }

  /**
   * Create a link. A kind the kernel lacks (ipip here) fails with LinkKindUnsupportedError; an existing name with
   * EEXIST. Several creates issued together are sent in one batch.
   */
  async create(spec: LinkCreateSpec): Promise<void> {
    const refs: ResolvedRefs = {};
    if (spec.master !== undefined) refs.master = await this.index(spec.master);
    if ((spec.kind === 'vxlan' || spec.kind === 'ipip') && spec.dev !== undefined) refs.dev = await this.index(spec.dev);
    const peerNs = spec.kind === 'veth' ? spec.peer.netns : undefined;
    try {
      await withNetnsFd(peerNs, async (peerNetnsFd) => {
        if (peerNetnsFd !== undefined) refs.peerNetnsFd = peerNetnsFd;
        await this.#nl.request({
          type: RTM_NEWLINK,
          flags: NLM_F_CREATE | NLM_F_EXCL,
          what: `creating ${spec.kind} ${spec.name}`,
          body: (w) => encodeLinkCreate(w, spec, refs),
        });
      });
    } catch (err) {
      if (isKernelError(err, 'EOPNOTSUPP') && err.extack?.includes('Unknown device type')) throw new LinkKindUnsupportedError(spec.kind, err);
      if (isKernelError(err, 'EOPNOTSUPP') && spec.kind === 'ipip') throw new LinkKindUnsupportedError(spec.kind, err);
      throw err;
    }
  }

  async delete(link: string | number): Promise<void> {
    const sel = linkSelector(link);
    await this.#nl.request({ type: RTM_DELLINK, what: `deleting ${describe(link)}`, body: (w) => linkBody.encode(w, sel.header, sel.attrs) });
  }

  /** Change a link; all changes in one request, so they apply together or not at all. */
  async set(link: string | number, opts: LinkSetOptions): Promise<void> {
    const target = opts.name !== undefined && typeof link === 'string' && opts.name !== link ? await this.index(link) : link;
    const master = opts.master === undefined || opts.master === null ? opts.master : await this.index(opts.master);
    await withNetnsFd(opts.netns, (netnsFd) =>
      this.#nl.request({
        type: RTM_NEWLINK,
        what: `changing ${describe(link)}`,
        body: (w) => encodeLinkChange(w, target, { up: opts.up, mtu: opts.mtu, mac: opts.mac, master, name: opts.name, netnsFd, txqlen: opts.txqlen }),
      }),
    );
  }

  setUp(link: string | number): Promise<void> {
    return this.set(link, { up: true });
  }

  setDown(link: string | number): Promise<void> {
    return this.set(link, { up: false });
  }

  setMtu(link: string | number, mtu: number): Promise<void> {
    return this.set(link, { mtu });
  }

  setMac(link: string | number, mac: string): Promise<void> {
    return this.set(link, { mac });
  }

  /** Enslave to a bridge; null = nomaster. */
  setMaster(link: string | number, master: string | number | null): Promise<void> {
    return this.set(link, { master });
  }

  moveToNetns(link: string | number, netns: NetnsRef): Promise<void> {
    return this.set(link, { netns });
  }
}
