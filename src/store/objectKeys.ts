/**
 * @module store/objectKeys — how every backend names an object: its namespace (defaulted like the API server
 * does), `namespace/name` keys, and the etcd-style path `/podnet/v1/<Kind>/<namespace>/<name>`.
 */
import { KINDS, type KindName } from './types.ts';

/** The namespace an object lives in: `default` when unset for namespaced kinds, '' for cluster-scoped kinds. */
export function namespaceFor(kind: KindName, namespace: string | undefined): string {
  if (!KINDS[kind].namespaced) return '';
  return namespace || 'default';
}

/** `namespace/name`, or `name` for cluster-scoped kinds. */
export function keyFor(kind: KindName, name: string, namespace?: string): string {
  const ns = namespaceFor(kind, namespace);
  return ns ? `${ns}/${name}` : name;
}

export function objectKeyOf(kind: KindName, o: { metadata: { name: string; namespace?: string } }): string {
  return keyFor(kind, o.metadata.name, o.metadata.namespace);
}

/** Kind ordering for applying a mixed set: namespaces first, then what others refer to. */
export const APPLY_ORDER: readonly KindName[] = [
  'Namespace', 'Node', 'ConfigMap', 'IPAddressPool', 'L2Advertisement', 'BFDProfile', 'BGPPeer', 'Service', 'Pod', 'EndpointSlice', 'Lease',
];
