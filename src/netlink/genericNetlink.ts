/**
 * @module netlink/genericNetlink — generic netlink (NETLINK_GENERIC): resolve a family name to its dynamic id and
 * multicast groups through the controller (CTRL_CMD_GETFAMILY on GENL_ID_CTRL), and send family requests.
 */
import type { NetnsRef } from '../native/types.ts';
import type { ByteWriter } from './byteWriter.ts';
import type { NetlinkMessage } from './codec.ts';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL, NETLINK_GENERIC } from './constants.ts';
import { NetlinkSocket, type NetlinkSyscalls } from './netlinkSocket.ts';
import { resolveNetnsRef } from './netnsRef.ts';
import { ctrlBody } from './specs/genlSpec.ts';
import { GENLMSGHDR, encodeStruct } from './structs.ts';

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  hdrSize: number;
  maxAttr: number;
  /** Multicast group name → group id (for addMembership). */
  mcastGroups: Record<string, number>;
}

export function decodeFamily(payload: Uint8Array): GenlFamily {
  const { attrs } = ctrlBody.decode(payload);
  const groups: Record<string, number> = {};
  for (const g of attrs.CTRL_ATTR_MCAST_GROUPS ?? []) {
    if (g.CTRL_ATTR_MCAST_GRP_NAME !== undefined && g.CTRL_ATTR_MCAST_GRP_ID !== undefined) groups[g.CTRL_ATTR_MCAST_GRP_NAME] = g.CTRL_ATTR_MCAST_GRP_ID;
  }
  return {
    id: attrs.CTRL_ATTR_FAMILY_ID ?? 0,
    name: attrs.CTRL_ATTR_FAMILY_NAME ?? '',
    version: attrs.CTRL_ATTR_VERSION ?? 0,
    hdrSize: attrs.CTRL_ATTR_HDRSIZE ?? 0,
    maxAttr: attrs.CTRL_ATTR_MAXATTR ?? 0,
    mcastGroups: groups,
  };
}

export class GenericNetlink {
  readonly socket: NetlinkSocket;

  static async open(opts: { netns?: NetnsRef; binding?: NetlinkSyscalls } = {}): Promise<GenericNetlink> {
    const netns = opts.netns === undefined ? undefined : resolveNetnsRef(opts.netns);
    return new GenericNetlink(await NetlinkSocket.open({ protocol: NETLINK_GENERIC, netns, binding: opts.binding }));
  }

  constructor(socket: NetlinkSocket) {
    this.socket = socket;
  }

  /** The family's id and groups; ENOENT (NetlinkKernelError) when the kernel has no such family. */
  async getFamily(name: string): Promise<GenlFamily> {
    const msgs = await this.socket.request({
      type: GENL_ID_CTRL,
      what: `looking up generic netlink family ${name}`,
      body: (w) => ctrlBody.encode(w, { cmd: CTRL_CMD_GETFAMILY, version: 1 }, { CTRL_ATTR_FAMILY_NAME: name }),
    });
    const reply = msgs.find((m) => m.type === GENL_ID_CTRL);
    if (!reply) throw new Error(`looking up generic netlink family ${name}: no reply`);
    return decodeFamily(reply.payload);
  }

  async listFamilies(): Promise<GenlFamily[]> {
    const msgs = await this.socket.dump({ type: GENL_ID_CTRL, what: 'listing generic netlink families', body: (w) => ctrlBody.encode(w, { cmd: CTRL_CMD_GETFAMILY, version: 1 }, {}) });
    return msgs.filter((m) => m.type === GENL_ID_CTRL).map((m) => decodeFamily(m.payload));
  }

  /** A request to a family: genlmsghdr then whatever `attrs` writes; resolves with the replies. */
  request(family: number, cmd: number, version: number, what: string, attrs?: (w: ByteWriter) => void, flags = 0): Promise<NetlinkMessage[]> {
    return this.socket.request({ type: family, flags, what, body: (w) => { encodeStruct(w, GENLMSGHDR, { cmd, version }); attrs?.(w); } });
  }

  close(): void {
    this.socket.close();
  }
}
