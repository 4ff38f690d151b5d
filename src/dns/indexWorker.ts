/**
 * @module dns/indexWorker — the worker thread that keeps the cluster zone current (indexWorkerFeed.ts starts it):
 * it opens the store, runs the informers (list, watch, and for the file store the directory scans and manifest
 * parsing), builds the RecordIndex, and posts the answering thread small IndexDelta chunks.
 *
 * Flow control: one chunk in flight. The next chunk is taken only when the answering thread has acknowledged
 * (applied) the previous one, so its event loop gets one bounded piece of work per round trip and queries are
 * answered between pieces; meanwhile changes keep coalescing here (DeltaRecorder), so a busy answering thread
 * receives each changed name once, with its latest records.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { LevelWithSilent } from 'pino';
import { createLogger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import { openStore } from '../store/openStore.ts';
import { DeltaRecorder } from './indexDelta.ts';
import { RecordIndex } from './recordIndex.ts';
import { feedIndexFromStore } from './storeFeed.ts';
import type { PodMode } from './zoneIndex.ts';

export interface IndexWorkerData {
  store: string;
  zone: string;
  pods: PodMode;
  startupTimeoutMs: number;
  logLevel: LevelWithSilent;
  logName: string;
  epoch: number;
  maxNames: number;
}

/** Answering thread → worker. */
export type ToIndexWorker = { type: 'ack' } | { type: 'stop' };
/** Worker → answering thread. */
export type FromIndexWorker = { type: 'delta'; delta: import('./indexDelta.ts').IndexDelta } | { type: 'stopped' };

/**
 * The index is bulk work (a 20,000-object apply is seconds of parsing) beside latency work of the same nice (this
 * process's answering thread, and BFD and lease renewals in the agent's other latency parts): run it at the bulk
 * parts' nice. Linux keeps nice per thread, and setpriority(PRIO_PROCESS, 0) sets the calling thread's.
 */
const INDEX_NICE = 10;

async function main(port: NonNullable<typeof parentPort>, data: IndexWorkerData): Promise<void> {
  const logger = createLogger({ name: data.logName, level: data.logLevel }).child({ subsystem: 'dns-index' });
  try { setPriority(INDEX_NICE); } catch (err) { logger.warn({ event: 'reniceFailed', err: describeError(err) }, 'could not lower the index thread\'s priority'); }
  let recorder: DeltaRecorder | undefined;
  let inFlight = false;
  let scheduled = false;
  const send = () => {
    scheduled = false;
    if (inFlight || !recorder?.pending) return;
    inFlight = true;
    port.postMessage({ type: 'delta', delta: recorder.take(data.maxNames) } satisfies FromIndexWorker);
  };
  // setImmediate: the events of one watch response or scan land first, so they share chunks.
  const schedule = () => { if (!scheduled && !inFlight) { scheduled = true; setImmediate(send); } };
  const index = new RecordIndex({ zone: data.zone, pods: data.pods, onChange: (c) => { recorder?.record(c); schedule(); } });
  recorder = new DeltaRecorder(index, data.epoch);
  const store = await openStore(data.store, { logger });
  const feed = feedIndexFromStore(store, index, { logger, startupTimeoutMs: data.startupTimeoutMs });
  port.on('message', (m: ToIndexWorker) => {
    if (m.type === 'ack') { inFlight = false; schedule(); return; }
    feed.stop();
    void store.close().catch(() => undefined).then(() => {
      port.postMessage({ type: 'stopped' } satisfies FromIndexWorker);
      port.close();
    });
  });
  void feed.ready.then(() => logger.debug({ event: 'indexSynced', names: index.nameCount, backlog: recorder?.backlog }, 'worker index synced'));
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as IndexWorkerData).catch((err: unknown) => {
    // The answering thread sees the exit and restarts the worker; the reason goes to the log.
    process.stderr.write(`${JSON.stringify({ level: 50, subsystem: 'dns-index', event: 'indexWorkerFailed', err: describeError(err) })}\n`);
    process.exit(1);
  });
}
