/**
 * @module cni/attachmentNames — deterministic names and MACs for an attachment (container id + ifname).
 *
 * Deterministic host-side names let DEL and GC find what an ADD made without any saved state, even after a crash
 * mid-ADD or a wiped /var/lib (Calico does the same from the pod name). `pn` + 11 hex digits of SHA-256 fits the
 * 15-character limit; 44 bits make a collision between two pods on one node negligible.
 */
import { createHash } from 'node:crypto';

export const HOST_VETH_PREFIX = 'pn';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function hostVethName(containerId: string, ifname: string): string {
  return `${HOST_VETH_PREFIX}${digest(`${containerId}/${ifname}`).toString('hex').slice(0, 11)}`;
}

/** A locally administered unicast MAC derived from `salt` (stable across retries, so CHECK can compare it). */
export function derivedMac(salt: string): string {
  const b = digest(salt).subarray(0, 6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The routed mode's host veth MAC: the same on every host veth (Calico's choice). The pod only ever talks to it as
 * its gateway, so uniqueness on the node does not matter, and it never changes across pod restarts.
 */
export const ROUTED_HOST_MAC = 'ee:ee:ee:ee:ee:ee';

/**
 * The alias podnet puts on a host veth: `podnet/<network>/<containerId>/<ifname>`. GC uses it to find the veths of
 * *this* network whose attachment is gone, without touching other networks' or anybody else's links.
 */
export function hostVethAlias(network: string, containerId: string, ifname: string): string {
  return `podnet/${network}/${containerId}/${ifname}`;
}

export function parseHostVethAlias(alias: string): { network: string; containerId: string; ifname: string } | null {
  const m = /^podnet\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(alias);
  return m ? { network: m[1]!, containerId: m[2]!, ifname: m[3]! } : null;
}
