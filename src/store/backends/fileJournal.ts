/**
 * @module store/backends/fileJournal — how the processes sharing a file store learn what the others wrote, in
 * O(change): `DIR/.podnet/journal.<n>`, append-only, one JSON line per changed key. Writers append (under the
 * store lock, after the override files are in place); every process tails it from its last offset. The
 * override files stay the state of record: the journal only says which keys changed and carries each key's new
 * override record (so readers need not open the file), and losing it costs a rescan, never data.
 *
 * - A reader consumes complete lines only; a line being appended is read on the next call.
 * - A writer that died mid-append leaves a torn last line: the next writer (under the lock) cuts it off and
 *   appends a `rescan` record, as it does when it breaks a dead writer's lock (files may have changed with no
 *   record). Readers then rescan the directory, stat-based, once.
 * - Segments: the journal is `journal.<n>`; past `maxBytes` a writer (under the lock) starts `journal.<n+1>` and
 *   removes `journal.<n-1>`. A reader finishes its segment (no one writes it any more: a newer one exists) and
 *   continues at offset 0 of the next, so nothing is missed or read twice. A reader that fell more than a whole
 *   segment behind finds the next one gone and rescans (as a watch from a compacted version relists).
 */
import { existsSync } from 'node:fs';
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { OverrideRecord } from './fileOverrides.ts';

/** `k`: `Kind/namespace/name`; `r`: the key's override record now (null: removed); `v`: the object's version. */
export type JournalRecord = { k: string; r: OverrideRecord | null; v?: string } | { rescan: true };

const READ_CHUNK = 4 * 1024 * 1024;

export class ChangeJournal {
  readonly path: string;
  #maxBytes: number;
  #fh: FileHandle | undefined;
  #seq = 0;
  #offset = 0;
  /** readNew and append of this process run one at a time (both move #offset). */
  #chain: Promise<unknown> = Promise.resolve();

  /** Which kinds' records the reader wants: other lines are skipped by their key, never parsed. */
  #wants: (kind: string) => boolean;

  constructor(path: string, maxBytes = 64 * 1024 * 1024, wants: (kind: string) => boolean = () => true) {
    this.path = path;
    this.#maxBytes = maxBytes;
    this.#wants = wants;
  }

  #segment(seq: number): string { return `${this.path}.${seq}`; }

  /** The newest segment number on disk (0: none yet). */
  async #newest(): Promise<number> {
    const prefix = `${basename(this.path)}.`;
    const seqs = (await readdir(dirname(this.path))).filter((n) => n.startsWith(prefix)).map((n) => Number(n.slice(prefix.length))).filter((n) => Number.isInteger(n) && n > 0);
    return seqs.length ? Math.max(...seqs) : 0;
  }

  /** Start tailing at the journal's current end (what is already there is covered by the caller's scan). */
  async open(): Promise<void> {
    await this.#follow(Math.max(1, await this.#newest()), true);
  }

  async #follow(seq: number, atEnd: boolean): Promise<void> {
    await this.#fh?.close();
    this.#fh = await open(this.#segment(seq), 'a+');
    this.#seq = seq;
    this.#offset = atEnd ? (await this.#fh.stat()).size : 0;
  }

  /** Records appended since the last call (complete lines only). Two stats when nothing changed. */
  readNew(): Promise<JournalRecord[]> {
    return this.#serial(() => this.#readNew());
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #readNew(): Promise<JournalRecord[]> {
    const out: JournalRecord[] = [];
    for (;;) {
      const st = await this.#fh!.stat();
      if (st.size > this.#offset) await this.#readTo(st.size, out);
      if (!existsSync(this.#segment(this.#seq + 1))) {
        if (st.nlink > 0) return out;
        // Our segment was removed and its successor too: we fell behind by more than a segment.
        out.push({ rescan: true });
        await this.#follow(await this.#newest(), true);
        return out;
      }
      // A newer segment exists, so ours is final: finish it, then follow the next from its start.
      await this.#readTo(Infinity, out);
      await this.#follow(this.#seq + 1, false);
    }
  }

  async #readTo(end: number, out: JournalRecord[]): Promise<void> {
    const fh = this.#fh!;
    while (this.#offset < end) {
      const want = Math.min(READ_CHUNK, end === Infinity ? READ_CHUNK : end - this.#offset);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, this.#offset);
      if (bytesRead === 0) return;
      const last = buf.lastIndexOf(10, bytesRead - 1);
      if (last < 0) {
        if (want < READ_CHUNK || bytesRead < want) return; // a line still being written
        throw new Error(`${this.path}: a line longer than ${READ_CHUNK} bytes at offset ${this.#offset}`);
      }
      for (const line of buf.toString('utf8', 0, last).split('\n')) {
        if (!line) continue;
        const kind = keyKind(line);
        if (kind !== undefined && !this.#wants(kind)) continue;
        try {
          out.push(JSON.parse(line) as JournalRecord);
        } catch {
          out.push({ rescan: true }); // cut off by a crash and repaired: what it named is found by a rescan
        }
      }
      this.#offset += last + 1;
      if (bytesRead < want) return;
    }
  }

  /**
   * Append lines (each `JSON.stringify(record)`) as the lock holder, after `readNew()` caught up. A torn tail
   * left by a dead writer is cut off first and answered with a rescan record. Returns whether it did that.
   */
  append(lines: string[]): Promise<boolean> {
    return this.#serial(() => this.#append(lines));
  }

  async #append(lines: string[]): Promise<boolean> {
    const fh = this.#fh!;
    const { size } = await fh.stat();
    const torn = size > this.#offset;
    if (torn) {
      await fh.truncate(this.#offset);
      lines = [JSON.stringify({ rescan: true }), ...lines];
    }
    if (this.#offset >= this.#maxBytes) await this.#rotate();
    if (lines.length === 0) return torn;
    const data = Buffer.from(`${lines.join('\n')}\n`);
    await this.#fh!.write(data, 0, data.length, this.#offset);
    this.#offset += data.length;
    return torn;
  }

  async #rotate(): Promise<void> {
    const next = this.#seq + 1;
    await (await open(this.#segment(next), 'wx')).close();
    await unlink(this.#segment(this.#seq - 1)).catch(() => undefined);
    await this.#follow(next, false);
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = undefined;
  }
}

const KEY_PREFIX = '{"k":"';

/**
 * The kind of a record line as writers write it (`{"k":"Kind/ns/name",...}`: kinds and object names never need
 * JSON escapes); undefined for any other line (a rescan record, a torn line), which is parsed as before.
 */
export function keyKind(line: string): string | undefined {
  if (!line.startsWith(KEY_PREFIX)) return undefined;
  const slash = line.indexOf('/', KEY_PREFIX.length);
  const kind = slash < 0 ? '' : line.slice(KEY_PREFIX.length, slash);
  return /^[A-Za-z]+$/.test(kind) ? kind : undefined;
}
