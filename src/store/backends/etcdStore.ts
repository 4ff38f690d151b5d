/**
 * @module store/backends/etcdStore — `etcd:URL[,URL...]`: several nodes share one etcd cluster.
 *
 * Lists page through the prefix at one fixed revision (no 4 MiB gRPC limit, a consistent snapshot), writes are
 * transactions compared on create/mod revision (one key, or up to 128 in a batch) (the Kubernetes API server's optimistic concurrency),
 * watches resume across member failures (etcdWatch.ts), leases are etcd leases (etcdLeases.ts) so a dead
 * holder's key disappears on the server's clock, not ours.
 */
import { Etcd3 } from 'etcd3';
import type { KindMap, KindName } from '../types.ts';
import type { AnyKube, HeldLease, LeaseRecord, ListOptions, ListResult, Store, WatchHandle, WatchHandler, WatchOptions } from '../store.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreUnavailableError } from '../storeErrors.ts';
import { carryOver, checkedCopy, stampNew } from '../writeChecks.ts';
import { decodeValue, encodeValue, keyOf, prefixOf, rangeEnd } from './etcdKeys.ts';
import { watchPrefix } from './etcdWatch.ts';
import { etcdWriteBatch } from './etcdBatch.ts';
import type { BatchOp, BatchResult } from '../storeBatch.ts';
import { acquireEtcdLease, getEtcdLease } from './etcdLeases.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { PodnetError } from '../../common/errors.ts';

const PAGE = 1000;

export interface EtcdStoreOptions {
  logger?: Logger;
  /** Per-request deadline (watch streams excluded). */
  requestTimeoutMs?: number;
}

export class EtcdStore implements Store {
  readonly backend = 'etcd' as const;
  readonly client: Etcd3;
  readonly urls: readonly string[];
  #log: Logger;

  private constructor(urls: string[], opts: EtcdStoreOptions) {
    this.urls = urls;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'store', backend: 'etcd' });
    const timeout = opts.requestTimeoutMs ?? 5000;
    this.client = new Etcd3({
      hosts: urls,
      dialTimeout: 3000,
      grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
  }

  static async open(urls: string[], opts: EtcdStoreOptions = {}): Promise<EtcdStore> {
    return new EtcdStore(urls, opts);
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PodnetError) throw err;
      throw new StoreUnavailableError(`etcd ${this.urls.join(',')}: ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<K>> {
    const prefix = Buffer.from(prefixOf(kind, opts.namespace));
    const end = rangeEnd(prefix);
    const items: Array<KindMap[K]> = [];
    let key = prefix;
    let revision: string | undefined;
    for (;;) {
      const res = await this.#call(`listing ${kind}`, () => this.client.kv.range({
        key, range_end: end, limit: PAGE, ...(revision ? { revision } : {}),
      }));
      revision ??= res.header.revision;
      for (const kv of res.kvs) {
        const { object, problems } = decodeValue(kv.value, kv.mod_revision);
        if (object) items.push(object as KindMap[K]);
        else this.#log.warn({ event: 'badObject', key: kv.key.toString(), problems }, `etcd key ${kv.key.toString()}: ${problems.join('; ')}; skipped`);
      }
      if (!res.more || res.kvs.length === 0) break;
      key = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { items, resourceVersion: revision };
  }

  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle {
    return watchPrefix(this.client, prefixOf(kind, opts.namespace), opts.resourceVersion, handler, this.#log);
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K] | undefined> {
    const res = await this.#call(`reading ${kind} ${name}`, () => this.client.kv.range({ key: Buffer.from(keyOf(kind, name, namespace)) }));
    const kv = res.kvs[0];
    if (!kv) return undefined;
    const { object, problems } = decodeValue(kv.value, kv.mod_revision);
    if (!object) throw new StoreUnavailableError(`etcd key ${kv.key.toString()} holds an invalid object: ${problems.join('; ')}`);
    return object as KindMap[K];
  }

  async create<T extends AnyKube>(input: T): Promise<T> {
    const obj = checkedCopy(input);
    stampNew(obj);
    const key = keyOf(obj.kind, obj.metadata.name, obj.metadata.namespace);
    const res = await this.#call(`creating ${obj.kind} ${obj.metadata.name}`, () =>
      this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(encodeValue(obj))).commit());
    if (!res.succeeded) throw new AlreadyExistsError(obj.kind, obj.metadata.name);
    obj.metadata.resourceVersion = res.header.revision;
    return obj;
  }

  async update<T extends AnyKube>(input: T): Promise<T> {
    const obj = checkedCopy(input);
    const kind = obj.kind;
    const { name } = obj.metadata;
    const key = keyOf(kind, name, obj.metadata.namespace);
    const current = await this.get(kind, name, obj.metadata.namespace);
    if (!current) throw new NotFoundError(kind, name);
    const want = obj.metadata.resourceVersion ?? current.metadata.resourceVersion!;
    if (want !== current.metadata.resourceVersion) throw new ConflictError(kind, name);
    carryOver(obj, current);
    const res = await this.#call(`updating ${kind} ${name}`, () =>
      this.client.if(key, 'Mod', '==', want).then(this.client.put(key).value(encodeValue(obj))).commit());
    if (!res.succeeded) {
      if (!(await this.get(kind, name, obj.metadata.namespace))) throw new NotFoundError(kind, name);
      throw new ConflictError(kind, name);
    }
    obj.metadata.resourceVersion = res.header.revision;
    return obj;
  }

  async delete(kind: KindName, name: string, namespace?: string, opts: { resourceVersion?: string } = {}): Promise<void> {
    const key = keyOf(kind, name, namespace);
    const cmp = opts.resourceVersion
      ? this.client.if(key, 'Mod', '==', opts.resourceVersion)
      : this.client.if(key, 'Create', '>', 0);
    const res = await this.#call(`deleting ${kind} ${name}`, () => cmp.then(this.client.delete().key(key)).commit());
    if (res.succeeded) return;
    if (!(await this.get(kind, name, namespace))) throw new NotFoundError(kind, name);
    throw new ConflictError(kind, name);
  }

  /** Multi-op transactions of at most 128 ops (etcdBatch.ts). */
  writeBatch(ops: readonly BatchOp[]): Promise<BatchResult[]> {
    return etcdWriteBatch(this.client, ops);
  }

  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
    return this.#call(`acquiring lease ${name}`, () => acquireEtcdLease(this.client, name, holder, ttlSeconds));
  }

  getLease(name: string): Promise<LeaseRecord | undefined> {
    return this.#call(`reading lease ${name}`, () => getEtcdLease(this.client, name));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
