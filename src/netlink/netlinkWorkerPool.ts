/**
 * @module netlink/netlinkWorkerPool — several netlink sockets on worker threads, for bulk work the kernel
 * serialises *inside* sendmsg.
 *
 * Why: rtnetlink runs a request synchronously in the sender's sendmsg. Deleting a link waits there for an RCU
 * barrier (measured ≈16 ms per veth on this machine), so one socket, however pipelined, deletes one link per
 * barrier — as does `ip -batch`. Barriers of concurrent callers are shared, so N threads each sending their share
 * finish close to N times sooner. The main thread's event loop is not blocked meanwhile.
 *
 * Only pre-encoded bodies cross the thread boundary (bytes in, per-request result out). The worker module is
 * loaded from source beside this file, so the pool is for source runs (tsx: tests, bench, lab tooling); bundled
 * executables use a single NetlinkSocket.
 */
import { Worker } from 'node:worker_threads';
import type { NetnsRef } from '../native/types.ts';
import { NETLINK_ROUTE } from './constants.ts';
import { PodnetError } from '../common/errors.ts';
import { resolveNetnsRef } from './netnsRef.ts';

/** A request whose body (family header + attributes) is already encoded. */
export interface RawRequest {
  type: number;
  flags?: number;
  body: Uint8Array;
  what: string;
}
/** null = acknowledged; otherwise the error's code (errno name) and message. */
export type PoolResult = null | { code: string; message: string };
export interface PoolJob { id: number; requests: RawRequest[] }
export interface PoolWorkerData { netns?: NetnsRef; protocol: number; maxInFlight: number }

const WORKER_ENTRY = new URL('./netlinkWorker.ts', import.meta.url).href;
// Node 20 does not carry module hooks (tsx) into workers: the worker registers tsx itself, then loads the entry.
const WORKER_BOOT = `
  const { workerData } = require('node:worker_threads');
  import('tsx/esm/api').then((api) => { api.register(); return import(workerData.entry); })
    .catch((err) => { console.error('netlink worker: ' + err.message); process.exit(1); });
`;

export interface PoolOptions {
  netns?: NetnsRef;
  protocol?: number;
  /** Worker threads (sockets); default 16. */
  size?: number;
  /** Requests in flight per socket; default 64. */
  maxInFlight?: number;
}

export class NetlinkWorkerPool {
  readonly #workers: Worker[];
  #nextId = 1;

  static async open(opts: PoolOptions = {}): Promise<NetlinkWorkerPool> {
    const data: PoolWorkerData = {
      netns: opts.netns === undefined ? undefined : resolveNetnsRef(opts.netns),
      protocol: opts.protocol ?? NETLINK_ROUTE,
      maxInFlight: opts.maxInFlight ?? 64,
    };
    const workers = Array.from({ length: opts.size ?? 16 }, () => new Worker(WORKER_BOOT, { eval: true, workerData: { ...data, entry: WORKER_ENTRY } }));
    try {
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => reject(new PodnetError('PODNET_NETLINK_POOL', `netlink worker exited with code ${code} before it was ready`)));
      })));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new NetlinkWorkerPool(workers);
  }

  private constructor(workers: Worker[]) {
    this.#workers = workers;
  }

  /** Spread the requests over the workers (contiguous shares, order kept within a share); one result each. */
  async run(requests: RawRequest[]): Promise<PoolResult[]> {
    const share = Math.ceil(requests.length / this.#workers.length);
    const parts = await Promise.all(this.#workers.map((w, i) => this.#send(w, requests.slice(i * share, (i + 1) * share))));
    return parts.flat();
  }

  #send(worker: Worker, requests: RawRequest[]): Promise<PoolResult[]> {
    if (!requests.length) return Promise.resolve([]);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { id: number; results: PoolResult[] }) => {
        if (msg.id !== id) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(msg.results);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.postMessage({ id, requests } satisfies PoolJob);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(async (w) => {
      w.postMessage('close');
      await w.terminate();
    }));
  }
}
