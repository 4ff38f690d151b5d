/**
 * @module ipam/diskLeaseStore — leases on disk in host-local's exact layout, so a node moved from host-local keeps
 * its leases and host-local can read ours:
 *
 *   <dataDir>/<network>/<ip>                  "<containerID>\r\n<ifname>"   (old host-local: just the id)
 *   <dataDir>/<network>/last_reserved_ip.<N>  the round-robin cursor of range set N
 *   <dataDir>/<network>/lock                  host-local's flock target (created, never used by us: see fileLock.ts)
 *
 * A lease is written to a temporary file first and then hard-linked into place: link(2) fails with EEXIST when the
 * address is taken (the exclusive create host-local does with O_EXCL) and, unlike O_EXCL + write, a crash can never
 * leave an empty lease file that blocks the address forever (containernetworking/plugins#498). Temporary files live
 * in `<dataDir>/.podnet-tmp/`, outside the network directory, because host-local walks that directory recursively.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, fdatasyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SystemError } from '../common/errors.ts';
import { withDirLock } from './fileLock.ts';
import { formatIp, tryParseIp, type IpAddress } from '../common/ipAddress.ts';
import { leaseMatches, type Lease, type LeaseOwner, type LeaseStore } from './leaseStore.ts';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';
const LAST_RESERVED = 'last_reserved_ip.';

function fsError(what: string, err: unknown): SystemError {
  const e = err as NodeJS.ErrnoException;
  return new SystemError(what, e.code ?? 'EIO', e.errno ?? 0, e.syscall ?? 'fs');
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* a temporary file: GC of the temp dir is not worth failing an allocation for */
  }
}

/** Parse a lease file's content the way host-local does (trimmed; `id\r\nifname` or a bare id). */
export function parseLeaseContent(text: string): LeaseOwner {
  const trimmed = text.trim();
  const sep = trimmed.indexOf('\r\n');
  return sep < 0 ? { containerId: trimmed, ifname: '' }
    : { containerId: trimmed.slice(0, sep), ifname: trimmed.slice(sep + 2) };
}

export class DiskLeaseStore implements LeaseStore {
  readonly dir: string;
  readonly #tmpDir: string;
  readonly #sync: boolean;

  /**
   * `sync`: fdatasync each lease before it becomes visible (default false, like host-local). Without it a lease is
   * still never visible half-written to other processes (link after write); only a power loss can lose a fresh
   * lease or leave it empty, which GC then frees. It costs ~17 ms per ADD on this machine's ext4.
   */
  constructor(dataDir: string, network: string, opts: { sync?: boolean } = {}) {
    this.dir = join(dataDir, network);
    this.#tmpDir = join(dataDir, '.podnet-tmp');
    this.#sync = opts.sync ?? false;
  }

  #ensureDirs(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
      mkdirSync(this.#tmpDir, { recursive: true, mode: 0o700 });
      closeSync(openSync(join(this.dir, 'lock'), 'a', 0o600));
    } catch (err) {
      throw fsError(`creating IPAM data directory ${this.dir}`, err);
    }
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    this.#ensureDirs();
    return withDirLock(this.dir, fn);
  }

  #writeTemp(content: string, sync: boolean): string {
    const tmp = join(this.#tmpDir, `${process.pid}.${randomBytes(6).toString('hex')}`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, content);
      if (sync) fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return tmp;
  }

  async reserve(owner: LeaseOwner, ip: IpAddress, rangeSetIndex: number): Promise<boolean> {
    const name = formatIp(ip);
    let tmp: string | undefined;
    try {
      tmp = this.#writeTemp(`${owner.containerId}\r\n${owner.ifname}`, this.#sync);
      linkSync(tmp, join(this.dir, name));
    } catch (err) {
      if (isCode(err, 'EEXIST')) return false;
      throw fsError(`writing lease ${join(this.dir, name)}`, err);
    } finally {
      if (tmp) unlinkQuietly(tmp);
    }
    try {
      // The cursor is advisory (round robin restarts at the range start without it): never worth an fsync.
      const cursor = this.#writeTemp(name, false);
      renameSync(cursor, join(this.dir, `${LAST_RESERVED}${rangeSetIndex}`));
    } catch (err) {
      throw fsError(`writing ${LAST_RESERVED}${rangeSetIndex} in ${this.dir}`, err);
    }
    return true;
  }

  async lastReservedIp(rangeSetIndex: number): Promise<IpAddress | null> {
    try {
      return tryParseIp(readFileSync(join(this.dir, `${LAST_RESERVED}${rangeSetIndex}`), 'utf8').trim()) ?? null;
    } catch {
      return null;
    }
  }

  async list(): Promise<Lease[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return [];
      throw fsError(`listing leases in ${this.dir}`, err);
    }
    const leases: Lease[] = [];
    for (const name of names) {
      const ip = tryParseIp(name);
      if (!ip) continue;
      try {
        leases.push({ ip, ...parseLeaseContent(readFileSync(join(this.dir, name), 'utf8')) });
      } catch (err) {
        if (!isCode(err, 'ENOENT') && !isCode(err, 'EISDIR')) throw fsError(`reading lease ${join(this.dir, name)}`, err);
      }
    }
    return leases;
  }

  async releaseByOwner(owner: LeaseOwner): Promise<Lease[]> {
    const gone = (await this.list()).filter((l) => leaseMatches(l, owner));
    for (const l of gone) await this.release(l.ip);
    return gone;
  }

  async release(ip: IpAddress): Promise<void> {
    try {
      unlinkSync(join(this.dir, formatIp(ip)));
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw fsError(`removing lease ${join(this.dir, formatIp(ip))}`, err);
    }
  }
}
