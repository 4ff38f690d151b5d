/**
 * @module store/backends/fileStore — `file:DIR`, the embedded default: a directory of manifests plus what podnet
 * writes under `DIR/.podnet/` (see fileOverrides.ts for the precedence rule).
 *
 * Each process keeps one in-memory view (fileView.ts) and keeps it current in O(change):
 * - what other processes write: they append the changed keys' records to the change journal
 *   (`DIR/.podnet/journal.<n>`, fileJournal.ts) under the lock; this process tails it. `list`/`get` cost one stat of
 *   the journal when nothing changed (no directory read), and a 1 s poll plus an fs.watch on `.podnet/` tail it
 *   for watchers.
 * - the operator's manifests: fs.watch on DIR and its subdirectories names the file; only that file is stat'ed
 *   and re-read. A stat-based safety rescan (skips unchanged files) catches missed notifications every
 *   `rescanMs`; the override files are re-walked only 10× more rarely, or at once when a writer died
 *   mid-write (the journal's rescan record).
 * - its own writes: applied to the view under the lock, in journal order.
 * - only the kinds this process uses: a kind's override files are read, and its journal records parsed, from its
 *   first list or watch on (a line of another kind is skipped by its key, before JSON.parse). A part that watches
 *   Nodes and Leases never parses the 20,000 Services and EndpointSlices of a big apply (measured in bench/churn:
 *   each such process spent as much CPU on them as it takes to parse them, on the loop that runs its BFD timers or
 *   lease renewals). A `get` of a kind not loaded reads that one key from disk.
 * Writes take the directory's lock file; `writeBatch` holds it for up to MAX_BATCH ops / BATCH_MS, then lets a
 * waiting process (a lease renewal) go first. Every op re-reads its key from disk under the lock for the
 * compare-and-swap (a stat; the file is read only when it changed).
 */
import { mkdir } from 'node:fs/promises';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KindMap, KindName } from '../types.ts';
import type { BatchOp, BatchResult, HeldLease, LeaseRecord, ListOptions, ListResult, Store, WatchHandle, WatchHandler, WatchOptions } from '../store.ts';
import { MAX_BATCH } from '../store.ts';
import { namespaceFor } from '../objectKeys.ts';
import { acquireObjectLease, getObjectLease } from '../objectLeases.ts';
import { contentVersion } from '../contentVersion.ts';
import { opTarget, planOp } from '../storeBatch.ts';
import { ManifestScanner, type ManifestObject, type ManifestScan } from './fileManifests.ts';
import { OverrideFiles, checkedRecord, withVersion, type OverrideRecord } from './fileOverrides.ts';
import { ChangeJournal } from './fileJournal.ts';
import { CoalescedRun } from './coalescedRun.ts';
import { FileLock } from './fileLock.ts';
import { FileView, fullKey, type FullKey } from './fileView.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { describeError } from '../../common/errors.ts';
import type { AnyObject } from '../validate.ts';

export interface FileStoreOptions {
  logger?: Logger;
  /** Wait this long after a change notification before acting on it (editors write in bursts). */
  debounceMs?: number;
  /** Safety rescan period of the manifests (stat-based); the override files are re-walked every 10 periods. */
  rescanMs?: number;
  /** How often the journal is stat'ed when fs.watch says nothing. */
  pollMs?: number;
  historyLimit?: number;
  /** Rotate the change journal past this size. */
  journalBytes?: number;
  /**
   * A short-lived writer (podnetctl apply), whose writes re-read each key under the lock anyway: its override
   * writes block (see OverrideFiles), since nothing else runs on such a process's event loop. (Every file store
   * reads a kind's objects only when that kind is first listed or watched.)
   */
  lazy?: boolean;
}

/** One lock hold of a batch ends after this long even below MAX_BATCH ops, so a lease renewal is not held up. */
const BATCH_MS = 250;
/** Ops of one batch written concurrently (distinct keys). */
const PARALLEL = 64;

/** An override as this process knows it: the manifest version it was made against and the object (null: tombstone). */
interface Known { base: string; object: AnyObject | null }

export class FileStore implements Store {
  readonly backend = 'file' as const;
  readonly dir: string;
  #log: Logger;
  #opts: Required<Omit<FileStoreOptions, 'logger' | 'lazy'>>;
  #scanner: ManifestScanner;
  #files: OverrideFiles;
  #journal: ChangeJournal;
  #lock: FileLock;
  #view: FileView;
  #manifests = new Map<FullKey, ManifestObject>();
  #known = new Map<FullKey, Known>();
  #fromFile = new WeakMap<OverrideRecord, Known>();
  #problems: string[] = [];
  #unparsed: string[] = [];
  /** Keys changed by the journal or our own writes while a full scan runs: the scan's older reading must not win. */
  #touched: Set<FullKey> | undefined;
  #scan = new CoalescedRun(() => this.#scanOnce(), () => this.#closed);
  #catch = new CoalescedRun(() => this.#applyJournal(), () => this.#closed);
  #pendingFiles = new Set<string>();
  #manifestTimer: NodeJS.Timeout | undefined;
  #journalTimer: NodeJS.Timeout | undefined;
  #timers: NodeJS.Timeout[] = [];
  #watchers = new Map<string, FSWatcher>();
  #closed = false;
  #fullScans = 0;
  /** Kinds whose override files and journal records this process reads (added on first list or watch). */
  #kinds = new Set<KindName>();
  /** Resolves when a kind's first load is done. */
  #kindLoads = new Map<KindName, Promise<void>>();

  private constructor(dir: string, opts: FileStoreOptions) {
    this.dir = dir;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'store', backend: 'file', dir });
    this.#opts = {
      debounceMs: opts.debounceMs ?? 50, rescanMs: opts.rescanMs ?? 30_000, pollMs: opts.pollMs ?? 1000,
      historyLimit: opts.historyLimit ?? 20_000, journalBytes: opts.journalBytes ?? 64 * 1024 * 1024,
    };
    this.#scanner = new ManifestScanner(dir);
    this.#files = new OverrideFiles(join(dir, '.podnet'), { sync: opts.lazy ?? false });
    this.#journal = new ChangeJournal(join(dir, '.podnet', 'journal'), this.#opts.journalBytes, (kind) => this.#kinds.has(kind as KindName));
    this.#lock = new FileLock(join(dir, '.podnet', 'lock'));
    this.#view = new FileView(randomBytes(3).toString('hex'), this.#opts.historyLimit);
  }

  static async open(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    await mkdir(join(dir, '.podnet', 'objects'), { recursive: true });
    const s = new FileStore(dir, opts);
    await s.#journal.open(); // tail from here: everything before is in the scans of each kind's first use
    await s.#scanManifests();
    s.#startWatching();
    return s;
  }

  /** Load `kind` once (its override files, then its journal records from now on); coalesced with a running walk. */
  #load(kind: KindName): Promise<void> {
    let p = this.#kindLoads.get(kind);
    if (!p) {
      // Interest first: a record of this kind appended while the walk runs is applied (and wins, see #touched).
      this.#kinds.add(kind);
      p = this.rescan();
      this.#kindLoads.set(kind, p);
      p.catch(() => { if (this.#kindLoads.get(kind) === p) this.#kindLoads.delete(kind); }); // the next use retries
    }
    return p;
  }

  /** Kinds this process has loaded so far (tests: a part parses only what it uses). */
  get loadedKinds(): ReadonlySet<KindName> { return this.#kinds; }

  /** Current validation problems of the manifests (file, document, field), one line each. */
  get problems(): readonly string[] { return this.#problems; }
  /** Manifest files that do not parse right now (their previous content stays in effect). */
  get unparsedFiles(): readonly string[] { return this.#unparsed; }
  /** How often this process walked the override files (open, safety rescans, recovery after a crash). */
  get fullScans(): number { return this.#fullScans; }

  // ---- keeping the view current ----

  #startWatching(): void {
    this.#watchDir(join(this.dir, '.podnet'), (name) => { if (name?.startsWith('journal.')) this.#soon('journal'); });
    this.#syncManifestWatchers();
    const every = (ms: number, fn: () => void) => { const t = setInterval(fn, ms); t.unref(); this.#timers.push(t); };
    every(this.#opts.pollMs, () => this.#soon('journal', 0));
    let ticks = 0;
    every(this.#opts.rescanMs, () => {
      ticks += 1;
      if (ticks % 10 === 0) void this.rescan().catch((err) => this.#failed('rescan', err));
      else void this.#scanManifests().catch((err) => this.#failed('manifestScan', err));
    });
  }

  #watchDir(dir: string, onName: (name: string | undefined) => void): void {
    if (this.#watchers.has(dir)) return;
    try {
      const w = fsWatch(dir, (_ev, name) => onName(name ? String(name) : undefined));
      w.on('error', () => { w.close(); this.#watchers.delete(dir); });
      this.#watchers.set(dir, w);
    } catch (err) {
      this.#log.warn({ event: 'fsWatchUnavailable', dir, err: describeError(err) }, 'fs.watch unavailable; relying on the periodic rescan');
    }
  }

  /** Watch DIR and each manifest subdirectory (not recursive: `.podnet/objects` would flood every process). */
  #syncManifestWatchers(): void {
    if (this.#closed) return;
    const dirs = this.#scanner.dirs;
    for (const [d, w] of this.#watchers) if (!dirs.has(d) && d !== join(this.dir, '.podnet')) { w.close(); this.#watchers.delete(d); }
    for (const d of dirs) {
      this.#watchDir(d, (name) => {
        if (name?.startsWith('.')) return;
        if (name && /\.(ya?ml|json)$/.test(name)) this.#pendingFiles.add(join(d, name));
        else this.#pendingFiles.add(''); // a directory (or no name): walk the tree
        this.#soon('manifests');
      });
    }
  }

  #soon(what: 'journal' | 'manifests', delay = this.#opts.debounceMs): void {
    if (this.#closed) return;
    if (what === 'journal') {
      if (this.#journalTimer) return;
      this.#journalTimer = setTimeout(() => { this.#journalTimer = undefined; void this.#catchUp().catch((err) => this.#failed('journal', err)); }, delay);
    } else {
      clearTimeout(this.#manifestTimer);
      this.#manifestTimer = setTimeout(() => { void this.#flushManifests().catch((err) => this.#failed('manifests', err)); }, delay);
    }
  }

  #failed(what: string, err: unknown): void {
    if (!this.#closed) this.#log.error({ event: 'scanFailed', what, err: describeError(err) }, `${what} failed`);
  }

  /** Apply what other processes appended to the journal since we last looked (coalesced). */
  #catchUp(): Promise<void> {
    return this.#catch.run();
  }

  async #applyJournal(): Promise<void> {
    for (const rec of await this.#journal.readNew()) {
      if ('rescan' in rec) { void this.rescan().catch((err) => this.#failed('rescan', err)); continue; }
      const r = rec.r === null ? null : checkedRecord(rec.r);
      if (r === undefined) { void this.rescan().catch((err) => this.#failed('rescan', err)); continue; }
      this.#setKnown(rec.k, r && knownOf(r, rec.v));
    }
  }

  #setKnown(k: FullKey, known: Known | null): void {
    this.#touched?.add(k);
    if (known) this.#known.set(k, known);
    else this.#known.delete(k);
    this.#view.set(k, this.#resolve(k));
  }

  /** The object in effect for a key: podnet's override while its manifest base is current, else the manifest. */
  #resolve(k: FullKey): AnyObject | undefined {
    const m = this.#manifests.get(k);
    const o = this.#known.get(k);
    if (o && o.base === (m?.version ?? 'none')) return o.object ?? undefined;
    return m ? withVersion(m.object, m.version) : undefined;
  }

  async #flushManifests(): Promise<void> {
    const paths = [...this.#pendingFiles];
    this.#pendingFiles.clear();
    if (paths.includes('')) return this.#scanManifests();
    const changed = await Promise.all(paths.map((p) => this.#scanner.refresh(p)));
    if (changed.some(Boolean)) this.#useManifests(this.#scanner.current());
  }

  async #scanManifests(): Promise<void> {
    this.#useManifests(await this.#scanner.scan());
    this.#syncManifestWatchers();
  }

  #useManifests(scan: ManifestScan): void {
    const problems = [...scan.problems];
    const manifests = new Map<FullKey, ManifestObject>();
    for (const m of scan.objects) {
      const k = fullKey(m.object.kind, m.object.metadata.namespace ?? '', m.object.metadata.name);
      const first = manifests.get(k);
      if (first) problems.push(`${m.file}: ${m.object.kind} ${k.split('/').slice(1).join('/')}: also defined in ${first.file}; ignored`);
      else manifests.set(k, m);
    }
    const keys = new Set([...this.#manifests.keys(), ...manifests.keys()]);
    const old = this.#manifests;
    this.#manifests = manifests;
    this.#reportProblems(problems, scan.unparsed);
    for (const k of keys) if (old.get(k)?.version !== manifests.get(k)?.version || old.get(k)?.file !== manifests.get(k)?.file) this.#view.set(k, this.#resolve(k));
  }

  #reportProblems(problems: string[], unparsed: string[]): void {
    const before = new Set([...this.#problems, ...this.#unparsed]);
    for (const p of [...problems, ...unparsed]) if (!before.has(p)) this.#log.warn({ event: 'badManifest' }, p);
    this.#problems = problems;
    this.#unparsed = unparsed;
  }

  /** Walk the whole directory now (stat-based: unchanged files are not re-read); coalesced with a running walk. */
  rescan(): Promise<void> {
    return this.#scan.run();
  }

  async #scanOnce(): Promise<void> {
    this.#fullScans += 1;
    await this.#catchUp();
    const touched = (this.#touched = new Set());
    const [scan, overrides] = await Promise.all([this.#scanner.scan(), this.#files.scan(new Set(this.#kinds))]);
    this.#touched = undefined;
    const next = new Map<FullKey, Known>();
    for (const [k, rec] of overrides) {
      let known = this.#fromFile.get(rec);
      if (!known) this.#fromFile.set(rec, (known = knownOf(rec)));
      next.set(k, known);
    }
    const keys = new Set([...this.#known.keys(), ...next.keys(), ...this.#view.keys()]);
    for (const k of keys) {
      if (touched.has(k) || !this.#kinds.has(kindOf(k))) continue; // a kind not loaded keeps what our writes put there
      const n = next.get(k);
      if (n) this.#known.set(k, n);
      else this.#known.delete(k);
    }
    this.#useManifests(scan);
    for (const k of keys) if (!touched.has(k)) this.#view.set(k, this.#resolve(k));
    this.#syncManifestWatchers();
  }

  /** Forget the watch history (as an etcd compaction does): watches from older versions get ExpiredError. */
  async compact(): Promise<void> {
    await this.rescan();
    this.#view.compact();
  }

  // ---- reading ----

  async list<K extends KindName>(kind: K, opts: ListOptions = {}): Promise<ListResult<K>> {
    await this.#load(kind);
    await this.#catchUp(); // other processes write the directory too: a list includes what they wrote before it
    if (this.#pendingFiles.size) await this.#flushManifests();
    return this.#view.list(kind, opts);
  }

  watch<K extends KindName>(kind: K, opts: WatchOptions, handler: WatchHandler<K>): WatchHandle {
    // Watching from a list's version: the list loaded the kind. From "now": what the load adds arrives as events.
    void this.#load(kind).catch((err) => this.#failed('load', err));
    return this.#view.watch(kind, opts, handler);
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindMap[K] | undefined> {
    const ns = namespaceFor(kind, namespace);
    if (!this.#kinds.has(kind)) return this.#readThrough(kind, name, ns) as Promise<KindMap[K] | undefined>;
    await this.#load(kind); // a watch may have started the kind's load: wait for it to finish
    await this.#catchUp();
    const obj = this.#view.get(fullKey(kind, ns, name));
    return obj === undefined ? undefined : structuredClone(obj) as KindMap[K];
  }

  /** One key of a kind this process has not loaded, as it is on disk now (its override, else its manifest). */
  async #readThrough(kind: KindName, name: string, ns: string): Promise<AnyObject | undefined> {
    if (this.#pendingFiles.size) await this.#flushManifests();
    const manifest = this.#manifests.get(fullKey(kind, ns, name));
    const rec = await this.#files.read(kind, name, ns);
    if (rec && rec.base === (manifest?.version ?? 'none')) return knownOf(rec).object ?? undefined;
    return manifest ? withVersion(structuredClone(manifest.object), manifest.version) : undefined;
  }

  // ---- writing ----

  async create<T extends AnyObject>(input: T): Promise<T> {
    return this.#one({ op: 'create', object: input }) as Promise<T>;
  }

  async update<T extends AnyObject>(input: T): Promise<T> {
    return this.#one({ op: 'update', object: input }) as Promise<T>;
  }

  async delete(kind: KindName, name: string, namespace?: string, opts: { resourceVersion?: string } = {}): Promise<void> {
    await this.#one({ op: 'delete', kind, name, ...(namespace !== undefined ? { namespace } : {}), ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}) });
  }

  async #one(op: BatchOp): Promise<AnyObject | undefined> {
    const [r] = await this.writeBatch([op]);
    if (r!.status === 'failed') throw r!.error;
    return r!.status === 'deleted' ? undefined : structuredClone(r!.object);
  }

  /** One lock hold per ≤ MAX_BATCH ops (≤ BATCH_MS); between holds a waiting process goes first. */
  async writeBatch(ops: readonly BatchOp[]): Promise<BatchResult[]> {
    const results: BatchResult[] = new Array(ops.length);
    let next = 0;
    while (next < ops.length) {
      const from = next;
      next = await this.#lock.with((hold) => this.#writeLocked(ops, from, results, hold.recovered), { yieldToOthers: from > 0 });
    }
    return results;
  }

  async #writeLocked(ops: readonly BatchOp[], from: number, results: BatchResult[], recovered: boolean): Promise<number> {
    await this.#catchUp();
    const deadline = performance.now() + BATCH_MS;
    const end = Math.min(ops.length, from + MAX_BATCH);
    const lines: string[] = [];
    const changes: Array<[FullKey, Known | null]> = [];
    let i = from;
    while (i < end && (i === from || performance.now() < deadline)) {
      const group: number[] = [];
      const keys = new Set<FullKey>();
      for (; i < end && group.length < PARALLEL; i++) {
        const t = opTarget(ops[i]!);
        const k = fullKey(t.kind, t.namespace, t.name);
        if (keys.has(k)) break; // the same key twice: the second waits for the next group
        keys.add(k);
        group.push(i);
      }
      const done = await Promise.all(group.map((j) => this.#writeOne(ops[j]!).catch((error: Error) => ({ result: { status: 'failed', error } as BatchResult }))));
      done.forEach((d, n) => {
        results[group[n]!] = d.result;
        if ('line' in d && d.line) { lines.push(d.line); changes.push([d.key, d.known]); }
      });
    }
    const torn = await this.#journal.append(recovered ? [JSON.stringify({ rescan: true }), ...lines] : lines);
    for (const [k, known] of changes) this.#setKnown(k, known);
    if (recovered || torn) void this.rescan().catch((err) => this.#failed('rescan', err));
    return i;
  }

  /** Plan and write one op against the key as it is on disk now (we hold the lock). */
  async #writeOne(op: BatchOp): Promise<{ result: BatchResult; key: FullKey; line?: string; known: Known | null }> {
    const { kind, namespace: ns, name } = opTarget(op);
    const key = fullKey(kind, ns, name);
    const manifest = this.#manifests.get(key);
    const base = manifest?.version ?? 'none';
    const rec = await this.#files.read(kind, name, ns);
    const known = rec && rec.base === base ? knownOf(rec) : undefined;
    const current = known ? known.object ?? undefined : manifest ? withVersion(manifest.object, manifest.version) : undefined;
    const plan = planOp(op, current);
    if (plan.action === 'none') return { result: plan.result, key, known: null };
    if (plan.action === 'delete') {
      // A manifest object is hidden by a tombstone until its document changes; podnet never edits the operator's files.
      if (manifest) {
        const tomb: OverrideRecord = { base, deleted: true };
        const text = JSON.stringify(tomb);
        await this.#files.write(kind, name, ns, tomb, text);
        return { result: { status: 'deleted' }, key, line: journalLine(key, text), known: { base, object: null } };
      }
      await this.#files.remove(kind, name, ns);
      return { result: { status: 'deleted' }, key, line: journalLine(key, 'null'), known: null };
    }
    const record: OverrideRecord = { base, object: plan.object };
    const text = JSON.stringify(record);
    await this.#files.write(kind, name, ns, record, text);
    const version = contentVersion(plan.object);
    const stored = withVersion(plan.object, version);
    return { result: { status: plan.status, object: stored }, key, line: journalLine(key, text, version), known: { base, object: stored } };
  }

  // ---- leases, close ----

  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<HeldLease | undefined> {
    return acquireObjectLease(this, name, holder, ttlSeconds);
  }

  getLease(name: string): Promise<LeaseRecord | undefined> {
    return getObjectLease(this, name);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#manifestTimer);
    clearTimeout(this.#journalTimer);
    this.#view.stopAll();
    await this.#scan.running;
    await this.#catch.running;
    await this.#journal.close();
  }
}

/** The kind of a `Kind/namespace/name` key. */
function kindOf(k: FullKey): KindName {
  return k.slice(0, k.indexOf('/')) as KindName;
}

function knownOf(rec: OverrideRecord, version?: string): Known {
  if (rec.deleted || !rec.object) return { base: rec.base, object: null };
  return { base: rec.base, object: withVersion(rec.object, version ?? contentVersion(rec.object)) };
}

/** A journal line naming `key` with its new override record (already serialized), `null` when removed. */
function journalLine(key: FullKey, recordText: string, version?: string): string {
  return `{"k":${JSON.stringify(key)},${version ? `"v":"${version}",` : ''}"r":${recordText}}`;
}
