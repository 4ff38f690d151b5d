/**
 * @module netlink/rtnetlink/neighbours — ARP/NDP neighbour entries (permanent entries, proxy entries) and FDB
 * entries on bridge/vxlan devices (AF_BRIDGE: MAC → remote VTEP via NDA_DST, with self/master flags). One
 * RTM_*NEIGH message serves both; the two classes only differ in family and defaults.
 */
import type { ByteWriter } from '../byteWriter.ts';
import {
  AF_BRIDGE, AF_INET, AF_INET6, AF_UNSPEC, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NTF, NUD,
  RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH, bitNames,
} from '../constants.ts';
import { NetlinkEncodeError } from '../errors.ts';
import type { IpFamily } from '../../common/ipAddress.ts';
import { requireIpFamily } from '../addressText.ts';
import type { NetlinkSocket } from '../netlinkSocket.ts';
import { neighBody, type NeighAttrs } from '../specs/neighSpec.ts';
import type { Links } from './links.ts';

export type NudState = 'permanent' | 'noarp' | 'reachable' | 'stale' | 'none' | 'incomplete' | 'delay' | 'probe' | 'failed';

export interface NeighbourSpec {
  dev: string | number;
  /** The IP address. */
  address: string;
  /** The MAC; not for proxy entries. */
  lladdr?: string;
  /** Default 'permanent'. */
  state?: NudState;
  /** A proxy ARP/NDP entry (`ip neigh add proxy ADDR dev DEV`). */
  proxy?: boolean;
  router?: boolean;
}

export interface FdbSpec {
  dev: string | number;
  lladdr: string;
  /** Remote VTEP (vxlan). */
  dst?: string;
  vni?: number;
  port?: number;
  vlan?: number;
  /** NTF_SELF: the device's own table (vxlan); default when `master` is not set. */
  self?: boolean;
  /** NTF_MASTER: the bridge the device is enslaved to. */
  master?: boolean;
  /** Default 'permanent'. */
  state?: NudState;
}

export interface Neighbour {
  index: number;
  family: IpFamily | 'bridge';
  address: string | undefined;
  lladdr: string | undefined;
  state: string[];
  flags: string[];
  /** NDA_DST of an FDB entry (the remote VTEP). */
  dst: string | undefined;
  vni: number | undefined;
  master: number | undefined;
  attrs: NeighAttrs;
}

function stateBits(state: NudState | undefined): number {
  const n = NUD[state ?? 'permanent'];
  if (n === undefined) throw new NetlinkEncodeError(`unknown neighbour state "${String(state)}"`);
  return n;
}

export function encodeNeighbour(w: ByteWriter, spec: NeighbourSpec, index: number): void {
  const family = requireIpFamily(spec.address);
  if (spec.proxy && spec.lladdr) throw new NetlinkEncodeError(`proxy entry ${spec.address}: takes no lladdr`);
  const flags = (spec.proxy ? NTF.proxy! : 0) | (spec.router ? NTF.router! : 0);
  neighBody.encode(w, { ndm_family: family === 4 ? AF_INET : AF_INET6, ndm_ifindex: index, ndm_state: stateBits(spec.state), ndm_flags: flags }, {
    NDA_DST: spec.address,
    NDA_LLADDR: spec.lladdr,
  });
}

export function encodeFdb(w: ByteWriter, spec: FdbSpec, index: number): void {
  const flags = (spec.master ? NTF.master! : 0) | (spec.self || !spec.master ? NTF.self! : 0);
  neighBody.encode(w, { ndm_family: AF_BRIDGE, ndm_ifindex: index, ndm_state: stateBits(spec.state), ndm_flags: flags }, {
    NDA_LLADDR: spec.lladdr,
    NDA_DST: spec.dst,
    NDA_VNI: spec.vni,
    NDA_PORT: spec.port,
    NDA_VLAN: spec.vlan,
  });
}

export function decodeNeighbour(payload: Uint8Array): Neighbour {
  const { header, attrs } = neighBody.decode(payload);
  const bridge = header.ndm_family === AF_BRIDGE;
  return {
    index: header.ndm_ifindex,
    family: bridge ? 'bridge' : header.ndm_family === AF_INET6 ? 6 : 4,
    address: bridge ? undefined : attrs.NDA_DST,
    lladdr: attrs.NDA_LLADDR,
    state: header.ndm_state === 0 ? ['none'] : bitNames(NUD, header.ndm_state),
    flags: bitNames(NTF, header.ndm_flags),
    dst: bridge ? attrs.NDA_DST : undefined,
    vni: attrs.NDA_VNI,
    master: attrs.NDA_MASTER,
    attrs,
  };
}

const CREATE = NLM_F_CREATE | NLM_F_EXCL;
const REPLACE = NLM_F_CREATE | NLM_F_REPLACE;

abstract class NeighTable<S extends { dev: string | number }> {
  readonly #nl: NetlinkSocket;
  readonly #links: Links;

  constructor(nl: NetlinkSocket, links: Links) {
    this.#nl = nl;
    this.#links = links;
  }

  protected abstract encode(w: ByteWriter, spec: S, index: number): void;
  protected abstract describe(spec: S): string;

  protected async modify(type: number, flags: number, spec: S, verb: string): Promise<void> {
    const index = await this.#links.index(spec.dev);
    await this.#nl.request({ type, flags, what: `${verb} ${this.describe(spec)}`, body: (w) => this.encode(w, spec, index) });
  }

  protected async dump(family: number, ndmFlags: number, dev: string | number | undefined): Promise<Neighbour[]> {
    const index = dev === undefined ? undefined : await this.#links.index(dev);
    const msgs = await this.#nl.dump({ type: RTM_GETNEIGH, what: 'listing neighbours', body: (w) => neighBody.encode(w, { ndm_family: family, ndm_flags: ndmFlags }, {}) });
    return msgs.filter((m) => m.type === RTM_NEWNEIGH).map((m) => decodeNeighbour(m.payload)).filter((n) => index === undefined || n.index === index);
  }
}

export class Neighbours extends NeighTable<NeighbourSpec> {
  add(spec: NeighbourSpec): Promise<void> {
    return this.modify(RTM_NEWNEIGH, CREATE, spec, 'adding');
  }

  replace(spec: NeighbourSpec): Promise<void> {
    return this.modify(RTM_NEWNEIGH, REPLACE, spec, 'replacing');
  }

  delete(spec: NeighbourSpec): Promise<void> {
    return this.modify(RTM_DELNEIGH, 0, spec, 'deleting');
  }

  /** ARP/NDP entries; `proxy: true` lists the proxy entries instead (the kernel keeps them apart). */
  async list(filter: { dev?: string | number; family?: IpFamily; proxy?: boolean } = {}): Promise<Neighbour[]> {
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : AF_UNSPEC;
    const all = await this.dump(family, filter.proxy ? NTF.proxy! : 0, filter.dev);
    return all.filter((n) => n.family !== 'bridge' && (filter.family === undefined || n.family === filter.family));
  }

  protected encode(w: ByteWriter, spec: NeighbourSpec, index: number): void {
    encodeNeighbour(w, spec, index);
  }

  protected describe(spec: NeighbourSpec): string {
    return `${spec.proxy ? 'proxy ' : ''}neighbour ${spec.address} on ${String(spec.dev)}`;
  }
}

export class Fdb extends NeighTable<FdbSpec> {
  add(spec: FdbSpec): Promise<void> {
    return this.modify(RTM_NEWNEIGH, CREATE, spec, 'adding');
  }

  /** `bridge fdb append`: another destination for the same MAC (all-zero MAC = flood list on vxlan). */
  append(spec: FdbSpec): Promise<void> {
    return this.modify(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, spec, 'appending');
  }

  replace(spec: FdbSpec): Promise<void> {
    return this.modify(RTM_NEWNEIGH, REPLACE, spec, 'replacing');
  }

  delete(spec: FdbSpec): Promise<void> {
    return this.modify(RTM_DELNEIGH, 0, spec, 'deleting');
  }

  list(filter: { dev?: string | number } = {}): Promise<Neighbour[]> {
    return this.dump(AF_BRIDGE, 0, filter.dev);
  }

  protected encode(w: ByteWriter, spec: FdbSpec, index: number): void {
    encodeFdb(w, spec, index);
  }

  protected describe(spec: FdbSpec): string {
    return `fdb entry ${spec.lladdr}${spec.dst ? ` dst ${spec.dst}` : ''} on ${String(spec.dev)}`;
  }
}
