/**
 * @module lb/linkScan — which interfaces of a node may answer for LB IPs (MetalLB's interface scan): up,
 * broadcast-capable, ARP-capable links with a MAC that are not enslaved to a bridge (the bridge answers for its
 * ports), not loopback, and not podnet's own pod veths (`pn*`) or overlay (`podnet.*`) — answering there would
 * put the VIP on a pod's or a tunnel's segment. The pure filter is `eligibleInterfaces`; `netlinkLinks` reads the
 * links of a namespace through podnet's netlink library.
 */
import { Rtnetlink } from '../netlink/index.ts';
import type { InterfaceInfo } from './interfaceResponder.ts';

const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

export interface LinkFacts {
  index: number;
  name: string;
  flags: number;
  up: boolean;
  mac: string | undefined;
  master: number | undefined;
}

export type LinkLister = () => Promise<LinkFacts[]>;

export function eligibleInterfaces(links: readonly LinkFacts[], only?: readonly string[]): InterfaceInfo[] {
  return links.filter((l) => l.up && l.mac && l.mac !== '00:00:00:00:00:00'
    && (l.flags & IFF_BROADCAST) !== 0 && (l.flags & (IFF_LOOPBACK | IFF_NOARP)) === 0
    && l.master === undefined && !l.name.startsWith('pn') && !l.name.startsWith('podnet.')
    && (!only || only.includes(l.name)))
    .map((l) => ({ ifindex: l.index, ifname: l.name, mac: l.mac! }))
    .sort((a, b) => a.ifname.localeCompare(b.ifname));
}

/** Links of `netns` (a path or name under /var/run/netns; the current namespace when undefined). */
export function netlinkLinks(netns?: string): LinkLister {
  return async () => {
    const rt = await Rtnetlink.open({ netns });
    try {
      return (await rt.links.list()).map((l) => ({ index: l.index, name: l.name, flags: l.flags, up: l.up, mac: l.mac, master: l.master }));
    } finally {
      rt.close();
    }
  };
}
