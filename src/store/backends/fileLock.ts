/**
 * @module store/backends/fileLock — a lock file shared by every process that writes one file store (the lab runs
 * several podnetd and podnetctl against one directory). Created with O_EXCL and holding the owner's pid; a lock
 * whose owner is no longer alive is broken. The file store is a one-machine backend, so a pid check is
 * meaningful. Inside one process, writers queue on a promise chain first, so the process never contends with
 * itself.
 *
 * Fairness for bulk writers (issue 14): a process that finds the lock taken leaves a `lock.wait-<pid>` marker
 * until it gets it; a bulk writer between two batches (`yieldToOthers`) lets such a waiter go first, so a lease
 * renewal waits behind at most one batch.
 */
import { link, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StoreUnavailableError } from '../storeErrors.ts';

export interface LockHold {
  /** The lock was taken over from a holder that died: what it was writing may be half done. */
  recovered: boolean;
}

/** How long a bulk writer gives a waiting process to take the lock before it goes on anyway. */
const YIELD_MS = 100;

export class FileLock {
  readonly path: string;
  #chain: Promise<void> = Promise.resolve();
  #timeoutMs: number;

  constructor(path: string, timeoutMs = 10_000) {
    this.path = path;
    this.#timeoutMs = timeoutMs;
  }

  /** Run `fn` while holding the lock; `yieldToOthers`: let another process waiting for it go first. */
  async with<T>(fn: (hold: LockHold) => Promise<T>, opts: { yieldToOthers?: boolean } = {}): Promise<T> {
    const prev = this.#chain;
    let done!: () => void;
    this.#chain = new Promise((r) => { done = r; });
    await prev;
    try {
      if (opts.yieldToOthers) await this.#letWaitersGo();
      const hold = await this.#acquire();
      try {
        return await fn(hold);
      } finally {
        await unlink(this.path).catch(() => undefined);
      }
    } finally {
      done();
    }
  }

  async #acquire(): Promise<LockHold> {
    const deadline = Date.now() + this.#timeoutMs;
    const marker = `${this.path}.wait-${process.pid}`;
    let marked = false;
    let recovered = false;
    // The lock appears with its owner's pid already in it (written once to a private file, then hard-linked into
    // place, which fails if the lock exists): a process killed while taking it can never leave an empty lock
    // that looks "still being written" forever (seen: an apply killed -9 mid-acquire locked the store).
    const mine = `${this.path}.new-${process.pid}-${++attempts}`; // unique: two stores of one process may race
    await writeFile(mine, `${process.pid}\n`, { mode: 0o644 });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await link(mine, this.path);
          return { recovered };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        if (await this.#ownerIsGone()) {
          await unlink(this.path).catch(() => undefined);
          recovered = true;
          continue;
        }
        if (!marked) {
          marked = true;
          await writeFile(marker, '').catch(() => { marked = false; });
        }
        if (Date.now() > deadline) {
          throw new StoreUnavailableError(`store lock ${this.path} is held by another process for more than ${this.#timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, Math.min(10, 1 + attempt)));
      }
    } finally {
      await unlink(mine).catch(() => undefined);
      if (marked) await unlink(marker).catch(() => undefined);
    }
  }

  /** Wait (bounded) while another live process has a wait marker out. */
  async #letWaitersGo(): Promise<void> {
    const prefix = `${basename(this.path)}.wait-`;
    const deadline = Date.now() + YIELD_MS;
    while (Date.now() < deadline) {
      const names = await readdir(dirname(this.path)).catch(() => [] as string[]);
      const others = names.filter((n) => n.startsWith(prefix) && Number(n.slice(prefix.length)) !== process.pid && alive(Number(n.slice(prefix.length))));
      if (others.length === 0) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async #ownerIsGone(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return false; // released meanwhile: just retry
    }
    const pid = Number(text.trim());
    // Empty: left by an older podnet killed between creating and writing it (today's locks are never empty).
    if (!Number.isInteger(pid) || pid <= 0) return text.length > 0 || await olderThan(this.path, EMPTY_LOCK_MS);
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Private lock files made by this process (names must not collide between its FileLock instances). */
let attempts = 0;

/** An empty lock older than this was abandoned by a writer that died before writing its pid. */
const EMPTY_LOCK_MS = 2000;

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}
