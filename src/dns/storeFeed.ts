/**
 * @module dns/storeFeed — the thin layer between the store's informers and the record index. Every add, update
 * and delete goes straight into the index (one event = one index change); the index is marked synced once every
 * informer has loaded its first list, or after `startupTimeoutMs` (CoreDNS waits 5 s, then serves what it has,
 * coredns#2116), whichever comes first. Until then zone names are SERVFAIL and /ready is 503.
 */
import type { Logger } from '../common/logger.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';
import type { KindMap } from '../store/types.ts';
import type { EventType, RecordIndex } from './recordIndex.ts';

type FedKind = 'Service' | 'EndpointSlice' | 'Pod' | 'Namespace';

export interface StoreFeed {
  /** Resolves when the index is marked synced (for real or by the timeout). */
  ready: Promise<void>;
  stop(): void;
}

function applier(index: RecordIndex, kind: FedKind): (type: EventType, obj: KindMap[FedKind]) => void {
  switch (kind) {
    case 'Service': return (t, o) => index.applyService(t, o as KindMap['Service']);
    case 'EndpointSlice': return (t, o) => index.applyEndpointSlice(t, o as KindMap['EndpointSlice']);
    case 'Pod': return (t, o) => index.applyPod(t, o as KindMap['Pod']);
    case 'Namespace': return (t, o) => index.applyNamespace(t, o as KindMap['Namespace']);
  }
}

export function feedIndexFromStore(store: Store, index: RecordIndex, opts: { logger: Logger; startupTimeoutMs: number }): StoreFeed {
  const kinds: FedKind[] = ['Namespace', 'Service', 'EndpointSlice'];
  if (index.pods === 'verified') kinds.push('Pod');
  const informers = kinds.map((kind) => {
    const inf = new Informer(store, kind, { logger: opts.logger, resyncMs: 0 });
    const apply = applier(index, kind);
    inf.on({
      add: (o) => apply('added', o),
      update: (old, o) => { if (old !== o) apply('modified', o); },
      delete: (o) => apply('deleted', o),
    });
    return inf.start();
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), opts.startupTimeoutMs); });
  const ready = Promise.race([Promise.all(informers.map((i) => i.synced())).then(() => 'synced' as const), timeout])
    .then((how) => {
      clearTimeout(timer);
      if (how === 'timeout') opts.logger.warn({ event: 'startupTimeout', ms: opts.startupTimeoutMs }, 'store not synced in time; serving what is loaded');
      else opts.logger.info({ event: 'synced', names: index.nameCount }, 'record index synced');
      index.markSynced();
    });
  return {
    ready,
    stop: () => {
      clearTimeout(timer);
      for (const i of informers) i.stop();
    },
  };
}
