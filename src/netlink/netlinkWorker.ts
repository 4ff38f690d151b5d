/**
 * @module netlink/netlinkWorker — the worker-thread side of NetlinkWorkerPool: one NetlinkSocket in the given
 * namespace, sending pre-encoded request bodies and reporting, per request, success or the kernel's error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NetlinkSocket } from './netlinkSocket.ts';
import type { PoolJob, PoolResult, PoolWorkerData } from './netlinkWorkerPool.ts';

const data = workerData as PoolWorkerData;
const socket = await NetlinkSocket.open({ netns: data.netns, protocol: data.protocol, maxInFlight: data.maxInFlight });

parentPort!.on('message', (job: PoolJob | 'close') => {
  if (job === 'close') {
    socket.close();
    parentPort!.close();
    return;
  }
  void Promise.all(job.requests.map((r) =>
    socket.request({ type: r.type, flags: r.flags, what: r.what, body: (w) => w.bytes(r.body) }).then(
      (): PoolResult => null,
      (err: Error): PoolResult => ({ code: (err as { code?: string }).code ?? 'EIO', message: err.message }),
    ),
  )).then((results) => parentPort!.postMessage({ id: job.id, results }));
});
parentPort!.postMessage('ready');
