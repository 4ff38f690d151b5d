/**
 * @module lb/strictArp — "strict ARP" for nodes whose service proxy runs in IPVS mode. IPVS needs every VIP bound
 * to a local dummy interface (kube-ipvs0), and with Linux's default arp_ignore=0 the kernel then answers ARP for
 * LB IPs on every node, so the client sees several MACs (metallb/metallb#153). kube-proxy's `strictARP: true`
 * sets net.ipv4.conf.all.arp_ignore=1 (answer only for addresses on the receiving interface) and arp_announce=2
 * (use the best local source in ARP requests); `podnetd lb --proxy-mode ipvs` enforces the same in the node's
 * namespace at start and refuses to run if it cannot. With nftables/iptables modes VIPs are never bound, so
 * nothing is changed.
 */
import { closeSync, readSync, writeSync, constants as fsc } from 'node:fs';
import { PodnetError } from '../common/errors.ts';
import { native } from '../native/index.ts';

export const STRICT_ARP: ReadonlyArray<[string, string]> = [
  ['/proc/sys/net/ipv4/conf/all/arp_ignore', '1'],
  ['/proc/sys/net/ipv4/conf/all/arp_announce', '2'],
];

function readIn(netns: string, path: string): string {
  const fd = native.openInNetns(netns, path, fsc.O_RDONLY);
  try {
    const buf = Buffer.alloc(64);
    return buf.subarray(0, readSync(fd, buf)).toString().trim();
  } finally {
    closeSync(fd);
  }
}

function writeIn(netns: string, path: string, value: string): void {
  const fd = native.openInNetns(netns, path, fsc.O_WRONLY);
  try {
    writeSync(fd, `${value}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Set strict ARP in `netns` (a namespace path; /proc/self/ns/net = ours); returns what was changed. */
export function enforceStrictArp(netns = '/proc/self/ns/net'): string[] {
  const changed: string[] = [];
  for (const [path, want] of STRICT_ARP) {
    try {
      const have = readIn(netns, path);
      if (Number(have) >= Number(want)) continue;
      writeIn(netns, path, want);
      if (readIn(netns, path) !== want) throw new Error(`it reads back as ${readIn(netns, path)}`);
      changed.push(`${path.replace('/proc/sys/', '').replaceAll('/', '.')}: ${have} → ${want}`);
    } catch (err) {
      throw new PodnetError('PODNET_LB_STRICT_ARP', `enforcing strict ARP for IPVS mode: cannot set ${path} to ${want}: ${(err as Error).message}`);
    }
  }
  return changed;
}
