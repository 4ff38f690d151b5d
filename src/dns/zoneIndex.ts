/**
 * @module dns/zoneIndex — what answering reads from the cluster zone, whichever thread built it: RecordIndex
 * (recordIndex.ts: built here from store objects) and ReplicaIndex (replicaIndex.ts: a copy of the merged names
 * kept current by deltas from the index worker) both provide it. ZoneResolver and QueryHandler see only this.
 */
import type { SrvData } from './rrTypes.ts';

export type PodMode = 'disabled' | 'insecure' | 'verified';

/** The merged records at one name. */
export interface NameRecords {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  readonly srv: readonly SrvData[];
  readonly ptr: readonly string[];
  readonly cname: string | undefined;
}

/** Names whose cached answers an index change invalidates, or 'all'. */
export type ChangedNames = ReadonlySet<string> | 'all';

export interface ZoneIndex {
  readonly zone: string;
  readonly pods: PodMode;
  /** False until the first full list is in: zone names are SERVFAIL until then. */
  readonly synced: boolean;
  /** Moves on every change that can alter an answer. */
  readonly generation: number;
  /** Unix seconds of the last change: the SOA serial, like CoreDNS. */
  readonly serial: number;
  readonly nameCount: number;
  /** Whether any record or empty non-terminal exists at `name` (lower case, no trailing dot). */
  has(name: string): boolean;
  /** Merged records at `name`, or undefined when nothing is there. Read-only. */
  lookup(name: string): NameRecords | undefined;
  namespaceExists(ns: string): boolean;
  /** Names cached answers must drop since `generation` (a reader's last seen generation). */
  changesSince(generation: number): ChangedNames;
}
