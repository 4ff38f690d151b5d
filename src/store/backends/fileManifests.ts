/**
 * @module store/backends/fileManifests — the operator's manifests in a file store directory: every
 * `*.yaml|*.yml|*.json` below DIR except dot-directories (podnet's own `.podnet/`). Files are re-read only when
 * their size/mtime/ctime/inode change. A file that does not parse keeps its previous objects (a half-written
 * file is never half-applied) and is re-read on every scan until it parses. `refresh(path)` handles one file an
 * fs.watch event named; `scan()` walks the tree (the rare safety rescan).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { formatProblem, parseJsonManifest, parseManifests, type AnyObject } from '../validate.ts';
import { contentVersion } from '../contentVersion.ts';
import { createHash } from 'node:crypto';
import { limitedAll } from './limitedAll.ts';

/** A manifest has no uid or creation time: derive a stable uid from its identity, and use the file's mtime. */
function stampManifestObject(o: AnyObject, created: string): AnyObject {
  const id = createHash('sha1').update(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).digest('hex');
  const uid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
  return { ...o, metadata: { uid, creationTimestamp: created, ...o.metadata } };
}

export interface ManifestObject {
  object: AnyObject;
  /** Content hash: the object's resourceVersion while no override replaces it. */
  version: string;
  file: string;
}

interface FileEntry {
  stamp: string;
  objects: ManifestObject[];
  problems: string[];
}

export interface ManifestScan {
  objects: ManifestObject[];
  /** Validation problems of the current files, one line each (file, document, field). */
  problems: string[];
  /** Files that did not parse (syntax errors); their previous content is still in effect. */
  unparsed: string[];
}

const MANIFEST = /\.(ya?ml|json)$/;

export class ManifestScanner {
  readonly dir: string;
  #files = new Map<string, FileEntry>();

  constructor(dir: string) {
    this.dir = dir;
  }

  #unparsed = new Map<string, string>();
  #dirs = new Set<string>();

  /** Directories that hold (or may hold) manifests: DIR and its non-dot subdirectories, as of the last scan. */
  get dirs(): ReadonlySet<string> { return this.#dirs; }

  async scan(): Promise<ManifestScan> {
    const paths = await this.#listFiles();
    const present = new Set(paths);
    for (const p of [...this.#files.keys()]) if (!present.has(p)) this.#files.delete(p);
    for (const p of [...this.#unparsed.keys()]) if (!present.has(p)) this.#unparsed.delete(p);
    await limitedAll(paths, 64, (p) => this.refresh(p));
    return this.current();
  }

  /** Re-read one file if its stamp changed (or it is gone); true when its entry changed. */
  async refresh(path: string): Promise<boolean> {
    if (!MANIFEST.test(path)) return false;
    const before = this.#files.get(path);
    const err = await this.#refresh(path);
    if (err) this.#unparsed.set(path, err);
    else this.#unparsed.delete(path);
    return this.#files.get(path) !== before || err !== undefined;
  }

  /** What the cached files hold now (no I/O). */
  current(): ManifestScan {
    const objects: ManifestObject[] = [];
    const problems: string[] = [];
    for (const p of [...this.#files.keys()].sort()) {
      const e = this.#files.get(p)!;
      objects.push(...e.objects);
      problems.push(...e.problems);
    }
    return { objects, problems, unparsed: [...this.#unparsed.values()].sort() };
  }

  /** Every manifest path below DIR, not descending into dot-directories (podnet's 20,000 override files). */
  async #listFiles(): Promise<string[]> {
    const files: string[] = [];
    const dirs = new Set<string>();
    const walk = async (d: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw err;
      }
      dirs.add(d);
      await Promise.all(entries.map(async (e) => {
        if (e.name.startsWith('.')) return;
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (MANIFEST.test(e.name)) files.push(p);
      }));
    };
    await walk(this.dir);
    this.#dirs = dirs;
    return files;
  }

  /** Re-read one file if it changed; returns a syntax error message when it does not parse. */
  async #refresh(path: string): Promise<string | undefined> {
    let stamp: string;
    let text: string;
    let mtimeMs: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) return undefined;
      mtimeMs = st.mtimeMs;
      stamp = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
      if (this.#files.get(path)?.stamp === stamp) return undefined;
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#files.delete(path);
        return undefined;
      }
      throw err;
    }
    const name = relative(this.dir, path);
    const parsed = path.endsWith('.json') ? parseJsonManifest(text, name) : parseManifests(text, name);
    if (parsed.syntaxError) return parsed.syntaxError; // keep the previous entry; the stamp stays stale → re-read
    const created = new Date(Math.floor(mtimeMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    this.#files.set(path, {
      stamp,
      objects: parsed.objects.map(({ object }) => {
        // The version is taken before stamping, so touching a file does not make podnet's overrides of its
        // unchanged documents stale.
        const version = contentVersion(object);
        return { object: stampManifestObject(object, created), version, file: name };
      }),
      problems: parsed.problems.map(formatProblem),
    });
    return undefined;
  }
}
