/**
 * @module store/backends/etcdKeys — keys and values in etcd: `/podnet/v1/<Kind>/<namespace>/<name>` (cluster-scoped
 * kinds: `/podnet/v1/<Kind>/<name>`), values the object's JSON without resourceVersion (the key's mod_revision is
 * the resourceVersion, as the Kubernetes API server does it).
 */
import type { KindName } from '../types.ts';
import { namespaceFor } from '../objectKeys.ts';
import { validateObject, type AnyObject } from '../validate.ts';

export const ROOT = '/podnet/v1/';

export function keyOf(kind: KindName, name: string, namespace?: string): string {
  const ns = namespaceFor(kind, namespace);
  return ns ? `${ROOT}${kind}/${ns}/${name}` : `${ROOT}${kind}/${name}`;
}

export function prefixOf(kind: KindName, namespace?: string): string {
  return namespace === undefined || namespaceFor(kind, namespace) === '' ? `${ROOT}${kind}/` : `${ROOT}${kind}/${namespace}/`;
}

/** The end of a prefix range: the prefix with its last byte incremented (etcd's range_end convention). */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function encodeValue(obj: AnyObject): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
}

/** Decode a stored value; `problems` when it is not a valid object (written by something else, or corrupted). */
export function decodeValue(value: Buffer, modRevision: string): { object?: AnyObject; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { problems: [`not JSON: ${(err as Error).message}`] };
  }
  const res = validateObject(raw);
  if (res.object) res.object.metadata.resourceVersion = modRevision;
  return res;
}
