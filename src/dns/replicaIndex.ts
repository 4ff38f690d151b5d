/**
 * @module dns/replicaIndex — the answering thread's copy of the cluster zone: the merged records per name and the
 * namespaces that exist, kept current by IndexDelta chunks from the index worker (indexWorker.ts). Applying a
 * chunk is O(its names); lookups are one Map get, as in RecordIndex, and answers are built from it the same way.
 *
 * A restarted worker (new epoch) lists the store from scratch: its chunks go into a staging copy while the old
 * one keeps answering, and the staging copy replaces it whole once the new worker's first list is in — so names
 * deleted while no worker ran disappear, and nothing answers half-loaded.
 */
import { ChangeLog } from './changeLog.ts';
import type { IndexDelta, WireRecords } from './indexDelta.ts';
import type { ChangedNames, NameRecords, PodMode, ZoneIndex } from './zoneIndex.ts';

const NONE: readonly never[] = Object.freeze([]);

function toRecords(w: WireRecords): NameRecords {
  return { a: w.a ?? NONE, aaaa: w.aaaa ?? NONE, srv: w.srv ?? NONE, ptr: w.ptr ?? NONE, cname: w.cname };
}

interface Zone { names: Map<string, NameRecords>; namespaces: Set<string> }

export class ReplicaIndex implements ZoneIndex {
  readonly zone: string;
  readonly pods: PodMode;
  serial = Math.floor(Date.now() / 1000);
  #synced = false;
  #epoch = -1;
  #live: Zone = { names: new Map(), namespaces: new Set() };
  /** A new epoch's zone while it loads (see the module comment). */
  #staging: Zone | undefined;
  readonly #log = new ChangeLog();

  constructor(opts: { zone: string; pods: PodMode }) {
    this.zone = opts.zone;
    this.pods = opts.pods;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get generation(): number {
    return this.#log.generation;
  }

  get nameCount(): number {
    return this.#live.names.size;
  }

  has(name: string): boolean {
    return this.#live.names.has(name);
  }

  lookup(name: string): NameRecords | undefined {
    return this.#live.names.get(name);
  }

  namespaceExists(ns: string): boolean {
    return this.#live.namespaces.has(ns);
  }

  changesSince(generation: number): ChangedNames {
    return this.#log.since(generation);
  }

  apply(d: IndexDelta): void {
    if (d.epoch !== this.#epoch) {
      // The first worker loads straight into the (empty, unsynced) live zone; a later one aside.
      this.#staging = this.#epoch === -1 ? undefined : { names: new Map(), namespaces: new Set() };
      this.#epoch = d.epoch;
    }
    const into = this.#staging ?? this.#live;
    const changed: string[] = [];
    for (const [name, w] of d.names) {
      if (w) into.names.set(name, toRecords(w));
      else into.names.delete(name);
      changed.push(name);
    }
    for (const [ns, exists] of d.namespaces) {
      if (exists) into.namespaces.add(ns);
      else into.namespaces.delete(ns);
    }
    this.serial = d.serial;
    if (this.#staging) {
      if (!d.synced) return;
      this.#live = this.#staging;
      this.#staging = undefined;
      this.#log.add(null);
      return;
    }
    const becameSynced = d.synced && !this.#synced;
    if (becameSynced) this.#synced = true;
    this.#log.add(d.all || becameSynced ? null : changed);
  }
}
