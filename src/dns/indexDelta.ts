/**
 * @module dns/indexDelta — the messages from the index worker (indexWorker.ts) to the answering thread's
 * ReplicaIndex: the merged records of the names that changed, never whole objects.
 *
 * DeltaRecorder (worker side) remembers which names and namespaces changed since the last chunk it handed out, and
 * hands them out in chunks of at most `maxNames`, each name with its records as they are *when the chunk is taken*.
 * So a name changed a thousand times while the answering thread was busy costs one entry, a chunk is small
 * enough to apply between two UDP batches, and the work per chunk is O(its names), never O(zone).
 *
 * `all` (cached answers must all go: namespaces, CNAME chains, the kube-dns Service, the first sync) stays set on
 * every chunk until the changes it came with are all handed out: an answer built between two chunks may embed a
 * name the later chunk changes (a CNAME's target), and only "all" drops it then.
 */
import type { RecordIndex, IndexChange } from './recordIndex.ts';
import type { SrvData } from './rrTypes.ts';

/** Records at one name, with absent (empty) fields left out to keep messages small. */
export interface WireRecords {
  a?: readonly string[];
  aaaa?: readonly string[];
  srv?: readonly SrvData[];
  ptr?: readonly string[];
  cname?: string;
}

export interface IndexDelta {
  /** Changes of a restarted worker start a new epoch: the replica loads them aside and swaps once synced. */
  epoch: number;
  /** [name, records now] or [name, null] when the name is gone. */
  names: Array<[string, WireRecords | null]>;
  /** [namespace, exists now]. */
  namespaces: Array<[string, boolean]>;
  all: boolean;
  /** The worker's index has synced and this chunk is the last of what it held: the replica is complete. */
  synced: boolean;
  serial: number;
}

export class DeltaRecorder {
  readonly #index: RecordIndex;
  readonly #epoch: number;
  readonly #names = new Set<string>();
  readonly #namespaces = new Set<string>();
  #all = false;

  constructor(index: RecordIndex, epoch: number) {
    this.#index = index;
    this.#epoch = epoch;
  }

  /** Pass to RecordIndex's `onChange`. */
  readonly record = (c: IndexChange): void => {
    for (const n of c.names) this.#names.add(n);
    for (const ns of c.namespaces) this.#namespaces.add(ns);
    if (c.all) this.#all = true;
  };

  /** Something to send: changed names, namespaces, or a sync the replica has not seen. */
  get pending(): boolean {
    return this.#names.size > 0 || this.#namespaces.size > 0 || this.#all;
  }

  get backlog(): number {
    return this.#names.size;
  }

  take(maxNames: number): IndexDelta {
    const names: IndexDelta['names'] = [];
    for (const n of this.#names) {
      if (names.length >= maxNames) break;
      this.#names.delete(n);
      names.push([n, wire(this.#index, n)]);
    }
    const namespaces: IndexDelta['namespaces'] = [...this.#namespaces].map((ns) => [ns, this.#index.namespaceExists(ns)]);
    this.#namespaces.clear();
    const all = this.#all;
    if (this.#names.size === 0) this.#all = false;
    return { epoch: this.#epoch, names, namespaces, all, synced: this.#index.synced && this.#names.size === 0, serial: this.#index.serial };
  }
}

function wire(index: RecordIndex, name: string): WireRecords | null {
  const r = index.lookup(name);
  if (!r) return null;
  // No copies: postMessage clones.
  const w: WireRecords = {};
  if (r.a.length) w.a = r.a;
  if (r.aaaa.length) w.aaaa = r.aaaa;
  if (r.srv.length) w.srv = r.srv;
  if (r.ptr.length) w.ptr = r.ptr;
  if (r.cname) w.cname = r.cname;
  return w;
}
