/**
 * @module store/backends/kubeStore — `kube`: a real cluster's API server (in-cluster service account, or
 * KUBECONFIG / ~/.kube/config). The API already has resourceVersions, optimistic concurrency and watch; this file
 * maps them. Lists are paged (`limit`/`continue`); watches ask for bookmarks and, when the server closes a
 * stream normally (it does every few minutes), re-watch from the last version seen; 410 Gone (an ERROR event or
 * an HTTP status) ends the watch with ExpiredError so the informer relists. Leases are coordination.k8s.io Lease
 * objects. Tested against a local protocol server only (see README).
 */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { KindMap, KindName } from '../types.ts';
import { KINDS } from '../types.ts';
import type { AnyKube, HeldLease, LeaseRecord, ListOptions, ListResult, Store, WatchHandle, WatchHandler, WatchOptions } from '../store.ts';
import { checkedCopy } from '../writeChecks.ts';
import { writeBatchOneByOne, type BatchOp, type BatchResult } from '../storeBatch.ts';
import { validateObject, type AnyObject } from '../validate.ts';
import { acquireObjectLease, getObjectLease } from '../objectLeases.ts';
import { KubeRest, kubePath, statusError, type KubeStatus } from './kubeRest.ts';
import { ExpiredError, StoreUnavailableError } from '../storeErrors.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';

export interface KubeStoreOptions {
  logger?: Logger;
  /** A ready KubeConfig (tests); default: in-cluster when KUBERNETES_SERVICE_HOST is set, else KUBECONFIG. */
  kubeConfig?: KubeConfig;
}

interface KubeList { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] }

export class KubeStore implements Store {
  readonly backend = 'kube' as const;
  readonly rest: KubeRest;
  #log: Logger;
  #watches = new Set<() => void>();

  private constructor(kc: KubeConfig, opts: KubeStoreOptions) {
    this.rest = new KubeRest(kc);
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'store', backend: 'kube' });
  }

  static async open(opts: KubeStoreOptions = {}): Promise<KubeStore> {
    let kc = opts.kubeConfig;
    if (!kc) {
      kc = new KubeConfig();
      if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
      else kc.loadFromDefault();
    }
    return new KubeStore(kc, opts);
  }

  /** API lists omit kind/apiVersion on items; restore them and validate like any other input. */
  #decode(kind: KindName, raw: unknown): AnyObject | undefined {
    if (raw && typeof raw === 'object') Object.assign(raw, { kind, apiVersion: (raw as { apiVersion?: string }).apiVersion ?? KINDS[kind].apiVersion });
    const { object, problems } = validateObject(raw);
    if (!object) {
      const meta = (raw as { metadata?: { namespace?: string; name?: string } } | null)?.metadata;
      this.#log.warn({ event: 'badObject', kind, problems }, `${kind} ${meta?.namespace ? `${meta.namespace}/` : ''}${meta?.name ?? '?'}: ${problems.join('; ')}; skipped`);
    }
    return object;
  }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<K>> {
    const items: Array<KindMap[K]> = [];
    let cont = '';
    let rv = '';
    do {
      const q = new URLSearchParams({ limit: '500', ...(cont ? { continue: cont } : {}) });
      const page = await this.rest.json<KubeList>('GET', `${kubePath(kind, opts.namespace)}?${q}`);
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue ?? '';
      for (const raw of page.items ?? []) {
        const o = this.#decode(kind, raw);
        if (o) items.push(o as KindMap[K]);
      }
    } while (cont);
    return { items, resourceVersion: rv };
  }

  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle {
    let rv = opts.resourceVersion;
    let stopped = false;
    let controller: AbortController | undefined;
    const end = (err: Error) => {
      if (stopped) return;
      stopped = true;
      this.#watches.delete(stop);
      handler.error(err);
    };
    const stop = () => { stopped = true; controller?.abort(); this.#watches.delete(stop); };
    this.#watches.add(stop);
    const connect = () => {
      if (stopped) return;
      const w = new Watch(this.rest.kc);
      let sawError = false;
      w.watch(kubePath(kind, opts.namespace), { resourceVersion: rv, allowWatchBookmarks: true }, (type: string, obj: unknown) => {
        if (stopped) return;
        if (type === 'ERROR') {
          sawError = true;
          const s = obj as KubeStatus;
          end(s.code === 410 ? new ExpiredError(s.message ?? '410 Gone') : statusError(s.code ?? 500, s, 'WATCH', kubePath(kind)));
          return;
        }
        const version = (obj as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
        if (version) rv = version;
        if (type === 'BOOKMARK') {
          handler.bookmark?.(rv);
          return;
        }
        const o = this.#decode(kind, obj);
        if (o && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) handler.event({ type, object: o as KindMap[K] });
      }, (err: unknown) => {
        if (stopped || sawError) return;
        if (err) {
          const status = (err as { statusCode?: number }).statusCode;
          end(status === 410 ? new ExpiredError('410 Gone') : new StoreUnavailableError(`kube watch ${kind}: ${(err as Error).message ?? String(err)}`));
          return;
        }
        setTimeout(connect, 0); // the server closed the stream normally: continue from the last version seen
      }).then((c) => { controller = c; if (stopped) c.abort(); }, (err: Error) => end(new StoreUnavailableError(`kube watch ${kind}: ${err.message}`)));
    };
    connect();
    return { stop };
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K] | undefined> {
    try {
      const raw = await this.rest.json<unknown>('GET', kubePath(kind, namespace ?? 'default', name), undefined, { kind, name });
      return this.#decode(kind, raw) as KindMap[K] | undefined;
    } catch (err) {
      if ((err as { reason?: string }).reason === 'NotFound') return undefined;
      throw err;
    }
  }

  async create<T extends AnyKube>(input: T): Promise<T> {
    const obj = checkedCopy(input);
    const path = kubePath(obj.kind, obj.metadata.namespace);
    const raw = await this.rest.json<unknown>('POST', path, obj, { kind: obj.kind, name: obj.metadata.name });
    return (this.#decode(obj.kind, raw) ?? obj) as T;
  }

  async update<T extends AnyKube>(input: T): Promise<T> {
    const obj = checkedCopy(input);
    const path = kubePath(obj.kind, obj.metadata.namespace, obj.metadata.name);
    const raw = await this.rest.json<unknown>('PUT', path, obj, { kind: obj.kind, name: obj.metadata.name });
    return (this.#decode(obj.kind, raw) ?? obj) as T;
  }

  async delete(kind: KindName, name: string, namespace?: string, opts: { resourceVersion?: string } = {}): Promise<void> {
    const body = opts.resourceVersion ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: opts.resourceVersion } } : undefined;
    await this.rest.json<unknown>('DELETE', kubePath(kind, namespace ?? 'default', name), body, { kind, name });
  }

  /** The API server has no multi-object write: one request per op, a few in flight. */
  writeBatch(ops: readonly BatchOp[]): Promise<BatchResult[]> {
    return writeBatchOneByOne(this, ops);
  }

  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
    return acquireObjectLease(this, name, holder, ttlSeconds);
  }

  getLease(name: string): Promise<LeaseRecord | undefined> {
    return getObjectLease(this, name);
  }

  async close(): Promise<void> {
    for (const stop of [...this.#watches]) stop();
  }
}
