/**
 * @module ipam/fileLock — an exclusive lock on a data directory that a crashed holder can never wedge.
 *
 * host-local takes flock(2) on `<dir>/lock`. Node has no flock, and the native addon's contract has none. Rejected
 * alternatives:
 *  - an O_EXCL lock file holding PID + start time with stale detection: breaking a stale lock races (two waiters
 *    both see it stale; the second unlinks the lock the first has just taken), and a lock file outlives a
 *    `kill -9`, so every waiter must do the /proc dance;
 *  - exec'ing util-linux `flock`: ~3 ms per exec on the ADD path, and the lock dies with that child, not with us.
 * Chosen: bind a Linux *abstract* unix socket whose name is derived from the directory. bind(2) on a name that
 * is taken fails with EADDRINUSE, atomically, and the kernel frees the name when the holder exits for any reason
 * (kill -9 included), exactly like flock. Cost: one socket + bind, ~0.1 ms.
 * Scope: abstract names are per network namespace. All CNI calls of one node come from the runtime's namespace, so
 * they exclude each other; a caller in another namespace sharing the directory would not, and then only the
 * round-robin cursor can suffer — every lease is still created with an exclusive create, so an address is never
 * handed out twice (the same argument covers host-local running side by side on the same directory).
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { PodnetError } from '../common/errors.ts';

export class LockTimeoutError extends PodnetError {
  constructor(dir: string, waitedMs: number) {
    super('PODNET_IPAM_LOCK_TIMEOUT', `locking IPAM data directory ${dir}: still held by another process after ${waitedMs} ms`);
  }
}

export interface LockOptions {
  /** Give up after this long (default 60 s, below the runtimes' usual CNI timeout). */
  timeoutMs?: number;
}

export function lockNameFor(dir: string): string {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    /* not created yet: the given path is the identity */
  }
  return `\0podnet-ipam-lock:${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
}

function tryBind(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(null);
      else reject(err);
    });
    server.listen({ path: name, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `fn` holding the lock of `dir`; waits (polling with capped, jittered backoff) while another holder has it. */
export async function withDirLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const name = lockNameFor(dir);
  const timeout = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  let delay = 1;
  let server: Server | null;
  while (!(server = await tryBind(name))) {
    const waited = Date.now() - started;
    if (waited > timeout) throw new LockTimeoutError(dir, waited);
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 25);
  }
  try {
    return await fn();
  } finally {
    await new Promise<void>((r) => server!.close(() => r()));
  }
}
