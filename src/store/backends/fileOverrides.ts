/**
 * @module store/backends/fileOverrides — what podnet itself writes into a file store:
 * `DIR/.podnet/objects/<Kind>/<namespace|_cluster>/<name>.json`, each `{ base, object }` or `{ base, deleted }`.
 * `base` is the content version of the manifest object the write was made against (`none` if there was none):
 * the override is in effect only while that manifest document is unchanged, so an operator's edit of a
 * manifest wins over what podnet wrote before it. Every write goes to a temp file in the same directory and is
 * renamed into place, so readers never see half a file.
 */
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { readFileSync, renameSync, rename as renameCb, writeFile as writeFileCb, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { AnyObject } from '../validate.ts';
import type { KindName } from '../types.ts';
import { isKindName, validateObject } from '../validate.ts';
import { contentVersion } from '../contentVersion.ts';
import type { ManifestObject } from './fileManifests.ts';
import { limitedAll } from './limitedAll.ts';

export interface OverrideRecord {
  base: string;
  object?: AnyObject;
  deleted?: boolean;
}

const CLUSTER = '_cluster';
// The callback API: a FileHandle per write (fs/promises) cost more than the write itself at 20,000 objects.
const writeFile = promisify(writeFileCb);
const rename = promisify(renameCb);

export class OverrideFiles {
  readonly root: string;
  #cache = new Map<string, { stamp: string; record: OverrideRecord | undefined }>();

  readonly #sync: boolean;

  /**
   * `sync`: write and first-read with blocking calls, for a short-lived writer with nothing else on its event
   * loop (podnetctl apply): 20,000 thread-pool round trips cost more than the syscalls themselves.
   */
  constructor(podnetDir: string, opts: { sync?: boolean } = {}) {
    this.root = join(podnetDir, 'objects');
    this.#sync = opts.sync ?? false;
  }

  pathFor(kind: KindName, name: string, namespace: string): string {
    return join(this.root, kind, namespace || CLUSTER, `${name}.json`);
  }

  #dirs = new Set<string>();
  #tmpSeq = 0;

  /** Read one override as it is on disk now (a stat; the file is re-read only when it changed). */
  async read(kind: KindName, name: string, namespace: string): Promise<OverrideRecord | undefined> {
    return this.#load(this.pathFor(kind, name, namespace), true, false);
  }

  /** Write one override atomically (temp file + rename); `text` is `JSON.stringify(record)` when the caller has it. */
  async write(kind: KindName, name: string, namespace: string, record: OverrideRecord, text = JSON.stringify(record)): Promise<void> {
    const path = this.pathFor(kind, name, namespace);
    const dir = join(path, '..');
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    const tmp = `${path}.${process.pid}.${this.#tmpSeq++}.tmp`;
    if (this.#sync) {
      writeFileSync(tmp, `${text}\n`, { mode: 0o644 });
      renameSync(tmp, path);
    } else {
      await writeFile(tmp, `${text}\n`, { mode: 0o644 });
      await rename(tmp, path);
    }
    this.#cache.delete(path);
  }

  async remove(kind: KindName, name: string, namespace: string): Promise<void> {
    const path = this.pathFor(kind, name, namespace);
    this.#cache.delete(path);
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every override of `kinds` on disk, keyed `Kind/namespace/name` (re-read only files that changed). */
  async scan(kinds: ReadonlySet<string>): Promise<Map<string, OverrideRecord>> {
    const out = new Map<string, OverrideRecord>();
    const names: string[] = [];
    for (const kind of kinds) {
      try {
        for (const n of await readdir(join(this.root, kind), { recursive: true })) names.push(`${kind}/${n}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const seen = new Set<string>();
    await limitedAll(names, 64, async (n) => {
      const parts = n.split('/');
      if (parts.length !== 3 || !parts[2]!.endsWith('.json') || !isKindName(parts[0])) return;
      const path = join(this.root, n);
      seen.add(path);
      const rec = await this.#load(path, true);
      const ns = parts[1] === CLUSTER ? '' : parts[1]!;
      if (rec) out.set(`${parts[0]}/${ns}/${parts[2]!.slice(0, -5)}`, rec);
    });
    for (const p of [...this.#cache.keys()]) if (!seen.has(p) && kinds.has(p.slice(this.root.length + 1).split('/')[0]!)) this.#cache.delete(p);
    return out;
  }

  async #load(path: string, useCache: boolean, keepStamp = true): Promise<OverrideRecord | undefined> {
    if (!keepStamp && !this.#cache.has(path)) {
      // Never seen (a lazy writer's first look): one read, and no stamp to keep.
      if (this.#sync) {
        try {
          return decode(readFileSync(path, 'utf8'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw err;
        }
      }
      return readFile(path, 'utf8').then(decode, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
    }
    try {
      const st = await stat(path);
      const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
      const cached = this.#cache.get(path);
      if (useCache && cached?.stamp === stamp) return cached.record;
      const record = decode(await readFile(path, 'utf8'));
      this.#cache.set(path, { stamp, record });
      return record;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

function decode(text: string): OverrideRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined; // not written by podnet (renames are atomic): ignore rather than half-apply
  }
  return checkedRecord(raw);
}

/** A decoded override record, validated (undefined when it is not one). */
export function checkedRecord(raw: unknown): OverrideRecord | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as { base?: unknown; object?: unknown; deleted?: unknown };
  if (typeof r.base !== 'string') return undefined;
  if (r.deleted === true) return { base: r.base, deleted: true };
  const { object } = validateObject(r.object);
  return object ? { base: r.base, object } : undefined;
}

/** The object in effect for a key given its manifest and override: undefined = override stale, null = deleted. */
export function effective(manifest: ManifestObject | undefined, rec: OverrideRecord): AnyObject | null | undefined {
  if (rec.base !== (manifest?.version ?? 'none')) return undefined;
  if (rec.deleted) return null;
  return rec.object ? withVersion(rec.object, contentVersion(rec.object)) : undefined;
}

export function withVersion<T extends AnyObject>(o: T, version: string): T {
  return { ...o, metadata: { ...o.metadata, resourceVersion: version } };
}
