/**
 * @module routing/vtepMac — the VTEP MAC of a node. Persisted in the Node annotation and reused; when there is
 * none yet it is *derived* from the node name rather than random, so even a node that lost its annotation (or its
 * store) comes back with the same MAC and its peers' permanent neighbour/FDB entries stay right
 * (flannel#1795, #1330, k3s#9957: random MACs after a reboot left stale PERMANENT entries on every peer).
 */
import { createHash } from 'node:crypto';

/** A locally administered unicast MAC from sha256("podnet-vtep/" + node name). */
export function derivedVtepMac(nodeName: string): string {
  const h = createHash('sha256').update(`podnet-vtep/${nodeName}`).digest();
  const b = Uint8Array.from(h.subarray(0, 6));
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
