/**
 * @module store/contentVersion — resourceVersion as a hash of an object's content, for the file backend where
 * several processes write without a server to hand out sequence numbers. Equal content ⇒ equal version, so a
 * stale compare-and-swap is always detected (and re-writing identical content is harmless).
 */
import { createHash } from 'node:crypto';

/**
 * A hash of the object's JSON without metadata.resourceVersion. Key order is taken as it is (no canonical sort:
 * that cost more than parsing at 100,000 endpoints); the same content written with another key order only
 * looks like a change, which costs one redundant event, never a missed one.
 */
export function contentVersion(obj: { metadata: { resourceVersion?: string } }): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return createHash('sha1').update(JSON.stringify({ ...obj, metadata: meta })).digest('hex').slice(0, 16);
}
