/**
 * @module store/backends/fileLock — a lock file shared by every process that writes one file store (the lab runs
 * several podnetd and podnetctl against one directory). Created with O_EXCL and holding the owner's pid; a lock
 * whose owner is no longer alive is broken. The file store is a one-machine backend, so a pid check is
 * meaningful. Inside one process, writers queue on a promise chain first, so the process never contends with
 * itself.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { StoreUnavailableError } from '../storeErrors.ts';

export class FileLock {
  readonly path: string;
  #chain: Promise<void> = Promise.resolve();
  #timeoutMs: number;

  constructor(path: string, timeoutMs = 10_000) {
    this.path = path;
    this.#timeoutMs = timeoutMs;
  }

  /** Run `fn` while holding the lock. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#chain;
    let done!: () => void;
    this.#chain = new Promise((r) => { done = r; });
    await prev;
    try {
      await this.#acquire();
      try {
        return await fn();
      } finally {
        await unlink(this.path).catch(() => undefined);
      }
    } finally {
      done();
    }
  }

  async #acquire(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await open(this.path, 'wx', 0o644);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await this.#ownerIsGone()) {
        await unlink(this.path).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new StoreUnavailableError(`store lock ${this.path} is held by another process for more than ${this.#timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt)));
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
    if (!Number.isInteger(pid) || pid <= 0) return text.length > 0; // empty: its owner is still writing the pid
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}
