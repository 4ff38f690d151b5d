/**
 * @module routing/nodeIdentity — what this node publishes for its peers (backend, tunnel endpoint, VTEP MAC,
 * VNI, port) as annotations on its own Node object, merged in with a conflict-safe read-modify-write. The Node
 * itself is registered by src/node; routing never creates it. The VTEP MAC is the persisted one when there is
 * one, so restarts (and re-creations of the device) keep the MAC peers already programmed.
 */
import { retryUpdate, type Store } from '../store/store.ts';
import type { Node } from '../store/types.ts';
import { ANNOTATION } from './nodeAnnotations.ts';
import { derivedVtepMac } from './vtepMac.ts';

/** The MAC this node's tunnel device should have: the persisted one, else the derived one. */
export function vtepMacFor(node: Node): string {
  const persisted = node.metadata.annotations?.[ANNOTATION.vtepMac]?.toLowerCase();
  return persisted && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(persisted) ? persisted : derivedVtepMac(node.metadata.name);
}

export function missingAnnotations(node: Node, want: Record<string, string>): Record<string, string> {
  const have = node.metadata.annotations ?? {};
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
}

/** Merge `want` into the Node's annotations; returns whether anything was written. */
export async function publishIdentity(store: Store, nodeName: string, want: Record<string, string>): Promise<boolean> {
  let wrote = false;
  await retryUpdate(store, 'Node', nodeName, undefined, (current) => {
    if (!current) return undefined; // src/node registers the Node; wait for it
    const missing = missingAnnotations(current, want);
    if (!Object.keys(missing).length) return undefined;
    wrote = true;
    current.metadata.annotations = { ...current.metadata.annotations, ...missing };
    return current;
  });
  return wrote;
}
