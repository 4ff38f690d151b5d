/**
 * @module store/backends/fileStore — `file:DIR`, the embedded default: a directory of manifests plus what podnet
 * writes under `DIR/.podnet/` (see fileOverrides.ts for the precedence rule).
 *
 * One in-process view (kind → key → object) is rebuilt by a scan: after fs.watch events (debounced) and on a
 * periodic rescan, because fs.watch can miss events (overlay filesystems, editors that replace files) and a
 * half-written manifest must be retried. Every change bumps a generation number; watch history is a bounded
 * event log keyed by generation, so a watch resumes from a list's version or gets ExpiredError. Writes take the
 * directory's lock file, re-read the one object from disk for the compare-and-swap, and update the view of that
 * one key at once (no full scan per write: the controller writes thousands of slices).
 */
import { mkdir } from 'node:fs/promises';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KindMap, KindName } from '../types.ts';
import type { HeldLease, LeaseRecord, ListOptions, ListResult, Store, WatchEvent, WatchHandle, WatchHandler, WatchOptions } from '../store.ts';
import { AlreadyExistsError, ConflictError, ExpiredError, NotFoundError } from '../storeErrors.ts';
import { namespaceFor } from '../objectKeys.ts';
import { acquireObjectLease, getObjectLease } from '../objectLeases.ts';
import { carryOver, checkedCopy, stampNew } from '../writeChecks.ts';
import { contentVersion } from '../contentVersion.ts';
import { ManifestScanner, type ManifestObject } from './fileManifests.ts';
import { OverrideFiles, effective, withVersion } from './fileOverrides.ts';
import { FileLock } from './fileLock.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { describeError } from '../../common/errors.ts';
import type { AnyObject } from '../validate.ts';

export interface FileStoreOptions {
  logger?: Logger;
  /** Wait this long after a change notification before rescanning (editors write in bursts). */
  debounceMs?: number;
  /** Full rescan period: catches missed notifications and retries files that did not parse. */
  rescanMs?: number;
  historyLimit?: number;
}

interface Watcher { kind: KindName; namespace: string | undefined; handler: WatchHandler<KindName>; stopped: boolean }

/** `Kind/namespace/name` */
type FullKey = string;
const fullKey = (kind: KindName, ns: string, name: string): FullKey => `${kind}/${ns}/${name}`;

export class FileStore implements Store {
  readonly backend = 'file' as const;
  readonly dir: string;
  #log: Logger;
  #opts: Required<Omit<FileStoreOptions, 'logger'>>;
  #scanner: ManifestScanner;
  #overrides: OverrideFiles;
  #lock: FileLock;
  #instance = randomBytes(3).toString('hex');
  #gen = 0;
  #view = new Map<FullKey, AnyObject>();
  #manifests = new Map<FullKey, ManifestObject>();
  #history: Array<{ gen: number; kind: KindName; event: WatchEvent }> = [];
  #oldestResumable = 0;
  #watchers = new Set<Watcher>();
  #problems: string[] = [];
  #unparsed: string[] = [];
  #scanning: Promise<void> | undefined;
  #rescanWanted = false;
  #debounce: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #fsWatcher: FSWatcher | undefined;
  #closed = false;
  /** Keys written by this process while a scan runs: the scan's older reading of them must not win. */
  #writtenDuringScan: Set<FullKey> | undefined;

  private constructor(dir: string, opts: FileStoreOptions) {
    this.dir = dir;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'store', backend: 'file', dir });
    this.#opts = { debounceMs: opts.debounceMs ?? 50, rescanMs: opts.rescanMs ?? 2000, historyLimit: opts.historyLimit ?? 100_000 };
    this.#scanner = new ManifestScanner(dir);
    this.#overrides = new OverrideFiles(join(dir, '.podnet'));
    this.#lock = new FileLock(join(dir, '.podnet', 'lock'));
  }

  static async open(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    await mkdir(join(dir, '.podnet', 'objects'), { recursive: true });
    const s = new FileStore(dir, opts);
    await s.rescan();
    s.#startWatching();
    return s;
  }

  /** Current validation problems of the manifests (file, document, field), one line each. */
  get problems(): readonly string[] { return this.#problems; }
  /** Manifest files that do not parse right now (their previous content stays in effect). */
  get unparsedFiles(): readonly string[] { return this.#unparsed; }

  #startWatching(): void {
    try {
      this.#fsWatcher = fsWatch(this.dir, { recursive: true }, (_ev, name) => {
        const n = String(name ?? '');
        if (n.endsWith('.tmp') || n.endsWith(`.podnet${'/'}lock`)) return;
        this.#schedule();
      });
      this.#fsWatcher.on('error', (err) => this.#log.warn({ event: 'fsWatchFailed', err: describeError(err) }, 'fs.watch failed; relying on periodic rescan'));
    } catch (err) {
      this.#log.warn({ event: 'fsWatchUnavailable', err: describeError(err) }, 'fs.watch unavailable; relying on periodic rescan');
    }
    this.#timer = setInterval(() => this.#schedule(0), this.#opts.rescanMs);
    this.#timer.unref();
  }

  #schedule(delay = this.#opts.debounceMs): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => { this.rescan().catch((err) => this.#log.error({ event: 'scanFailed', err: describeError(err) }, 'scan failed')); }, delay);
  }

  /** Scan the directory now (coalesced with a scan already running). */
  async rescan(): Promise<void> {
    if (this.#scanning) {
      this.#rescanWanted = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#rescanWanted = false;
        await this.#scanOnce();
      } while (this.#rescanWanted && !this.#closed);
    })().finally(() => { this.#scanning = undefined; });
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    const written = (this.#writtenDuringScan = new Set());
    const [scan, overrides] = await Promise.all([this.#scanner.scan(), this.#overrides.scan()]);
    const problems = [...scan.problems];
    const manifests = new Map<FullKey, ManifestObject>();
    for (const m of scan.objects) {
      const k = fullKey(m.object.kind, m.object.metadata.namespace ?? '', m.object.metadata.name);
      const first = manifests.get(k);
      if (first) problems.push(`${m.file}: ${m.object.kind} ${k.split('/').slice(1).join('/')}: also defined in ${first.file}; ignored`);
      else manifests.set(k, m);
    }
    this.#manifests = manifests;
    const next = new Map<FullKey, AnyObject>();
    for (const [k, m] of manifests) next.set(k, withVersion(m.object, m.version));
    for (const [k, rec] of overrides) {
      const eff = effective(manifests.get(k), rec);
      if (eff === null) next.delete(k);
      else if (eff) next.set(k, eff);
    }
    this.#reportProblems(problems, scan.unparsed);
    this.#writtenDuringScan = undefined;
    for (const [k, old] of this.#view) if (!next.has(k) && !written.has(k)) this.#change(k, undefined, old);
    for (const [k, obj] of next) if (!written.has(k)) this.#change(k, obj, this.#view.get(k));
  }

  #reportProblems(problems: string[], unparsed: string[]): void {
    const before = new Set([...this.#problems, ...this.#unparsed]);
    for (const p of [...problems, ...unparsed]) if (!before.has(p)) this.#log.warn({ event: 'badManifest' }, p);
    this.#problems = problems;
    this.#unparsed = unparsed;
  }

  /** Put `obj` (or remove the key) in the view and log the event for watchers, if anything changed. */
  #change(k: FullKey, obj: AnyObject | undefined, old: AnyObject | undefined): void {
    if (obj && old && obj.metadata.resourceVersion === old.metadata.resourceVersion) return;
    if (!obj && !old) return;
    if (obj) this.#view.set(k, obj);
    else this.#view.delete(k);
    this.#gen += 1;
    const event: WatchEvent = obj ? { type: old ? 'MODIFIED' : 'ADDED', object: obj } : { type: 'DELETED', object: old! };
    const kind = (obj ?? old)!.kind;
    this.#history.push({ gen: this.#gen, kind, event });
    if (this.#history.length > this.#opts.historyLimit) {
      const dropped = this.#history.splice(0, this.#history.length - this.#opts.historyLimit);
      this.#oldestResumable = dropped[dropped.length - 1]!.gen;
    }
    for (const w of this.#watchers) deliver(w, kind, event);
  }

  /** Forget the watch history (as an etcd compaction does): watches from older versions get ExpiredError. */
  async compact(): Promise<void> {
    await this.rescan();
    this.#history = [];
    this.#oldestResumable = this.#gen;
  }

  #token(): string { return `${this.#instance}.${this.#gen}`; }

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<K>> {
    await this.rescan(); // other processes write the directory too: a list must include what they wrote
    const items: Array<KindMap[K]> = [];
    for (const o of this.#view.values()) {
      // Shared, not copied (copying 100,000 endpoints doubled the initial sync): list and watch results must not
      // be mutated, as with client-go's informer cache. get() returns a private copy for read-modify-write.
      if (o.kind === kind && (opts.namespace === undefined || o.metadata.namespace === opts.namespace)) items.push(o as KindMap[K]);
    }
    return { items, resourceVersion: this.#token() };
  }

  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle {
    const w: Watcher = { kind, namespace: opts.namespace, handler: handler as unknown as WatchHandler<KindName>, stopped: false };
    const [inst, genText] = opts.resourceVersion.split('.');
    const gen = Number(genText);
    if (inst !== this.#instance || !Number.isInteger(gen) || gen < this.#oldestResumable || gen > this.#gen) {
      queueMicrotask(() => { if (!w.stopped) handler.error(new ExpiredError(`resourceVersion ${opts.resourceVersion} is not in this process's history`)); });
      return { stop: () => { w.stopped = true; } };
    }
    for (const h of this.#history) if (h.gen > gen) deliver(w, h.kind, h.event);
    this.#watchers.add(w);
    return { stop: () => { w.stopped = true; this.#watchers.delete(w); } };
  }

  /** The object as it is on disk now (fresh override read + the last manifest scan). */
  async #current<K extends KindName>(kind: K, name: string, ns: string): Promise<{ obj?: KindMap[K]; manifest?: ManifestObject }> {
    const manifest = this.#manifests.get(fullKey(kind, ns, name));
    const rec = await this.#overrides.read(kind, name, ns);
    const eff = rec ? effective(manifest, rec) : undefined;
    if (eff === null) return manifest ? { manifest } : {};
    const obj = eff ?? (manifest ? withVersion(manifest.object, manifest.version) : undefined);
    return { ...(obj ? { obj: obj as KindMap[K] } : {}), ...(manifest ? { manifest } : {}) };
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K] | undefined> {
    const { obj } = await this.#current(kind, name, namespaceFor(kind, namespace));
    return obj === undefined ? undefined : structuredClone(obj);
  }

  async create<T extends AnyObject>(input: T): Promise<T> {
    const next = checkedCopy(input);
    stampNew(next);
    return this.#write(next, (cur) => {
      if (cur) throw new AlreadyExistsError(next.kind, next.metadata.name);
    });
  }

  async update<T extends AnyObject>(input: T): Promise<T> {
    const next = checkedCopy(input);
    const want = next.metadata.resourceVersion;
    return this.#write(next, (cur) => {
      if (!cur) throw new NotFoundError(next.kind, next.metadata.name);
      if (want && want !== cur.metadata.resourceVersion) throw new ConflictError(next.kind, next.metadata.name);
      carryOver(next, cur);
    });
  }

  async #write<T extends AnyObject>(next: T, check: (cur: T | undefined) => void): Promise<T> {
    const kind = next.kind;
    const { name } = next.metadata;
    const ns = namespaceFor(kind, next.metadata.namespace);
    delete next.metadata.resourceVersion;
    const stored = await this.#lock.with(async () => {
      const { obj, manifest } = await this.#current(kind, name, ns);
      check(obj as T | undefined);
      await this.#overrides.write(kind, name, ns, { base: manifest?.version ?? 'none', object: next });
      return withVersion(next, contentVersion(next));
    });
    this.#writtenDuringScan?.add(fullKey(kind, ns, name));
    this.#change(fullKey(kind, ns, name), stored, this.#view.get(fullKey(kind, ns, name)));
    return structuredClone(stored) as T;
  }

  async delete(kind: KindName, name: string, namespace?: string, opts: { resourceVersion?: string } = {}): Promise<void> {
    const ns = namespaceFor(kind, namespace);
    await this.#lock.with(async () => {
      const { obj, manifest } = await this.#current(kind, name, ns);
      if (!obj) throw new NotFoundError(kind, name);
      if (opts.resourceVersion && opts.resourceVersion !== obj.metadata.resourceVersion) throw new ConflictError(kind, name);
      // A manifest object is hidden by a tombstone until its document changes; podnet never edits the operator's files.
      if (manifest) await this.#overrides.write(kind, name, ns, { base: manifest.version, deleted: true });
      else await this.#overrides.remove(kind, name, ns);
    });
    this.#writtenDuringScan?.add(fullKey(kind, ns, name));
    this.#change(fullKey(kind, ns, name), undefined, this.#view.get(fullKey(kind, ns, name)));
  }

  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
    return acquireObjectLease(this, name, holder, ttlSeconds);
  }

  getLease(name: string): Promise<LeaseRecord | undefined> {
    return getObjectLease(this, name);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#fsWatcher?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    for (const w of this.#watchers) w.stopped = true;
    this.#watchers.clear();
    await this.#scanning;
  }
}

function deliver(w: Watcher, kind: KindName, event: WatchEvent): void {
  if (w.stopped || w.kind !== kind || (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace)) return;
  queueMicrotask(() => { if (!w.stopped) w.handler.event(event); });
}
