/**
 * @module store/writeChecks — what every backend does to an object before storing it: validate it as a manifest
 * would be (so no backend can hold an object another backend would reject) and stamp uid/creationTimestamp.
 */
import { randomUUID } from 'node:crypto';
import type { KindMap, KindName } from './types.ts';

type AnyObject = KindMap[KindName];
import { validateObject, labelOf } from './validate.ts';
import { InvalidObjectError } from './storeErrors.ts';

/** A validated deep copy of `obj` (API defaults filled in); InvalidObjectError otherwise. */
export function checkedCopy<T extends AnyObject>(obj: T): T {
  const copy = structuredClone(obj) as unknown;
  const { object, problems } = validateObject(copy);
  if (!object) {
    const kind = (obj as { kind?: unknown }).kind;
    throw new InvalidObjectError(typeof kind === 'string' ? kind : 'object', labelOf(obj).split(' ').pop() ?? '?', problems);
  }
  return object as T;
}

/** Fields the API server sets on create. */
export function stampNew(obj: AnyObject): void {
  obj.metadata.uid ??= randomUUID();
  obj.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  delete obj.metadata.deletionTimestamp;
}

/** Carry uid/creationTimestamp over from the stored version on update. */
export function carryOver(next: AnyObject, prev: AnyObject): void {
  next.metadata.uid = prev.metadata.uid;
  next.metadata.creationTimestamp = prev.metadata.creationTimestamp;
}
