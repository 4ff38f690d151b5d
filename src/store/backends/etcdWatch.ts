/**
 * @module store/backends/etcdWatch — one etcd watch on a key prefix that survives member failures without losing
 * or repeating an event.
 *
 * etcd3's Watcher reconnects on its own, but it advances its start revision to the *created* response's header
 * revision + 1, which skips events still in flight when a member dies just after (re)attaching. So we own the
 * resume point: on every (re)attach the request starts at the last revision we delivered + 1, and events at or
 * below what we already delivered are dropped (a revision can hold several keys, e.g. a lease expiry, so the
 * dedup key is revision + key). A compacted start revision ends the watch with ExpiredError: the informer relists.
 */
import type { Etcd3, Watcher } from 'etcd3';
import type { KindName } from '../types.ts';
import type { WatchHandle, WatchHandler } from '../store.ts';
import { ExpiredError, StoreUnavailableError } from '../storeErrors.ts';
import { decodeValue } from './etcdKeys.ts';
import type { Logger } from '../../common/logger.ts';

interface RawKv { key: Buffer; value: Buffer; mod_revision: string }
interface RawEvent { type: string | number; kv: RawKv; prev_kv?: RawKv | null }
interface RawResponse { header: { revision: string }; events: RawEvent[]; compact_revision?: string }

export function watchPrefix<K extends KindName>(
  client: Etcd3, prefix: string, fromRevision: string, handler: WatchHandler<K>, log: Logger,
): WatchHandle {
  let lastRev = BigInt(fromRevision);
  let keysAtLast = new Set<string>();
  let stopped = false;
  let watcher: Watcher | undefined;

  const end = (err: Error) => {
    if (stopped) return;
    stopped = true;
    void watcher?.cancel().catch(() => undefined);
    handler.error(err);
  };

  const onData = (res: RawResponse) => {
    if (stopped) return;
    if (res.events.length === 0) {
      handler.bookmark?.(res.header.revision);
      return;
    }
    for (const ev of res.events) {
      const rev = BigInt(ev.kv.mod_revision);
      const key = ev.kv.key.toString();
      if (rev < lastRev || (rev === lastRev && keysAtLast.has(key))) continue; // already delivered before a reconnect
      if (rev > lastRev) {
        lastRev = rev;
        keysAtLast = new Set();
      }
      keysAtLast.add(key);
      deliver(ev, handler, log);
    }
  };

  client.watch().prefix(prefix).startRevision(String(lastRev + 1n)).withPreviousKV().create().then((w) => {
    watcher = w;
    if (stopped) {
      void w.cancel();
      return;
    }
    // Resume from what we delivered, not from etcd3's idea of where the stream stood.
    w.on('connecting', (req) => {
      (req as unknown as { start_revision?: string }).start_revision = String(keysAtLast.size > 0 ? lastRev : lastRev + 1n);
    });
    w.on('data', (res) => onData(res as unknown as RawResponse));
    w.on('disconnected', (err: Error) => log.info({ event: 'watchDisconnected', prefix, err: err.message }, 'etcd watch disconnected; resuming'));
    w.on('error', (err: Error) => {
      // etcd cancels a watch whose start revision was compacted (cancel_reason is often empty): relist.
      if (/compact|canceled/i.test(err.message)) end(new ExpiredError(`etcd cancelled the watch from revision ${String(lastRev + 1n)} (compacted)`));
      else end(new StoreUnavailableError(`etcd watch on ${prefix}: ${err.message}`));
    });
  }, (err: Error) => end(new StoreUnavailableError(`etcd watch on ${prefix}: ${err.message}`)));

  return {
    stop: () => {
      stopped = true;
      void watcher?.cancel().catch(() => undefined);
    },
  };
}

function deliver<K extends KindName>(ev: RawEvent, handler: WatchHandler<K>, log: Logger): void {
  const isDelete = ev.type === 'Delete' || ev.type === 1;
  const source = isDelete ? ev.prev_kv : ev.kv;
  if (!source) return; // a delete of a key we never saw a value for (no prev_kv): nothing to report
  const { object, problems } = decodeValue(source.value, ev.kv.mod_revision);
  if (!object) {
    log.warn({ event: 'badObject', key: ev.kv.key.toString(), problems }, `etcd key ${ev.kv.key.toString()}: ${problems.join('; ')}; skipped`);
    return;
  }
  if (isDelete) object.metadata.resourceVersion = ev.kv.mod_revision;
  const created = !isDelete && ev.kv.mod_revision === (ev.kv as RawKv & { create_revision?: string }).create_revision;
  handler.event({ type: isDelete ? 'DELETED' : created ? 'ADDED' : 'MODIFIED', object: object as never });
}
