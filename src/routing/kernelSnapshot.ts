/**
 * @module routing/kernelSnapshot — read podnet's routing objects from the kernel into the diff's shape: its
 * devices (by name), the addresses, permanent neighbours and permanent FDB entries on the tunnel device, and the
 * routes carrying podnet's routing protocol number in the main table. Nothing else is read as "ours".
 */
import type { Rtnetlink } from '../netlink/index.ts';
import { vxlanInfo, type Link } from '../netlink/index.ts';
import type { IptunAttrs } from '../netlink/specs/linkSpec.ts';
import type { KernelLink, KernelRoute, KernelState } from './routingDiff.ts';
import { OWNED_DEVICES, ROUTING_ROUTE_PROTO } from './routingModel.ts';

export function kernelLinkOf(link: Link): KernelLink {
  const base: KernelLink = { name: link.name, index: link.index, kind: link.kind, up: link.up, mtu: link.mtu, mac: link.mac };
  const vx = vxlanInfo(link);
  if (vx) {
    return {
      ...base, vni: vx.IFLA_VXLAN_ID, port: vx.IFLA_VXLAN_PORT, local: vx.IFLA_VXLAN_LOCAL ?? vx.IFLA_VXLAN_LOCAL6,
      uplinkIndex: vx.IFLA_VXLAN_LINK, learning: vx.IFLA_VXLAN_LEARNING === undefined ? undefined : vx.IFLA_VXLAN_LEARNING !== 0,
    };
  }
  if (link.kind === 'ipip') {
    const data = link.attrs.IFLA_LINKINFO?.IFLA_INFO_DATA as IptunAttrs | undefined;
    return { ...base, local: data?.IFLA_IPTUN_LOCAL, uplinkIndex: data?.IFLA_IPTUN_LINK };
  }
  return base;
}

const isPermanent = (state: string[]) => state.includes('permanent');

/** The state of podnet's objects; `tunnel` names the device whose neighbours/FDB/addresses are read. */
export async function readKernelState(rtnl: Rtnetlink, tunnel: string | undefined): Promise<KernelState> {
  const found = await Promise.all(OWNED_DEVICES.map((name) => rtnl.links.find(name)));
  const links = found.filter((l): l is Link => l !== undefined).map(kernelLinkOf);
  const routes = (await rtnl.routes.list({ protocol: ROUTING_ROUTE_PROTO })).map((r): KernelRoute => ({
    dst: r.dst, gateway: r.gateway, dev: r.dev, onlink: r.onlink,
  }));
  const dev = links.find((l) => l.name === tunnel);
  if (!dev) return { links, addresses: [], neighbours: [], fdb: [], routes };
  // One dump at a time: the kernel answers a second dump on a socket with one in progress with EBUSY.
  const addrs = await rtnl.addresses.list({ dev: dev.index });
  const neighs = await rtnl.neighbours.list({ dev: dev.index });
  const fdb = await rtnl.fdb.list({ dev: dev.index });
  return {
    links,
    // Link-local IPv6 addresses are the kernel's own (addrgenmode), not podnet's.
    addresses: addrs.filter((a) => a.scope !== 'link').map((a) => `${a.address}/${a.prefixLen}`),
    neighbours: neighs.filter((n) => isPermanent(n.state) && n.address && n.lladdr).map((n) => ({ address: n.address!, lladdr: n.lladdr! })),
    fdb: fdb.filter((f) => isPermanent(f.state) && f.lladdr && f.dst).map((f) => ({ lladdr: f.lladdr!, dst: f.dst! })),
    routes,
  };
}
