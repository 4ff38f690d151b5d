/**
 * @module store/backends/fileManifests — the operator's manifests in a file store directory: every
 * `*.yaml|*.yml|*.json` below DIR except dot-directories (podnet's own `.podnet/`). Files are re-read only when
 * their size/mtime/ctime change. A file that does not parse keeps its previous objects (a half-written file is
 * never half-applied) and is re-read on every scan until it parses.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { formatProblem, parseJsonManifest, parseManifests, type AnyObject } from '../validate.ts';
import { contentVersion } from '../contentVersion.ts';
import { createHash } from 'node:crypto';

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

  async scan(): Promise<ManifestScan> {
    const paths = await this.#listFiles();
    const present = new Set(paths);
    for (const p of [...this.#files.keys()]) if (!present.has(p)) this.#files.delete(p);
    const unparsed: string[] = [];
    await Promise.all(paths.map(async (p) => {
      const err = await this.#refresh(p);
      if (err) unparsed.push(err);
    }));
    const objects: ManifestObject[] = [];
    const problems: string[] = [];
    for (const p of [...this.#files.keys()].sort()) {
      const e = this.#files.get(p)!;
      objects.push(...e.objects);
      problems.push(...e.problems);
    }
    return { objects, problems, unparsed: unparsed.sort() };
  }

  async #listFiles(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => MANIFEST.test(n) && !n.split(sep).some((seg) => seg.startsWith('.'))).map((n) => join(this.dir, n));
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
