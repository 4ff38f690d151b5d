/**
 * @module dns/recordIndex — the cluster zone in memory, updated incrementally from object events.
 *
 * Each owner (a Service with its EndpointSlices, or a Pod) contributes a set of names (serviceRecords.ts); an event
 * recomputes only that owner's contribution, O(its endpoints), and swaps it in whole. A lookup is one Map get.
 * Several owners may share a name (reverse names of a shared address), so each name keeps its parts by owner and
 * merges them when read. Readers cache encoded answers and ask `changesSince(generation)` which names to drop:
 * the names an event touched, or "all" for changes whose effect reaches other names (namespace existence, CNAME
 * chains into the zone, the kube-dns Service behind the NS record, the first sync).
 * The index does not depend on the store's timing: events may arrive in any order (a slice before its Service).
 */
import type { EndpointSlice, Namespace, Pod, Service } from '../store/types.ts';
import { endpointsOfSlice, podContribution, serviceContribution, type Contribution, type EndpointModel, type NamePart } from './serviceRecords.ts';
import type { SrvData } from './rrTypes.ts';
import { ChangeLog } from './changeLog.ts';
import type { ChangedNames, NameRecords, PodMode, ZoneIndex } from './zoneIndex.ts';

export type EventType = 'added' | 'modified' | 'deleted';
export type { ChangedNames, NameRecords, PodMode } from './zoneIndex.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const NAMESERVER_OWNER = 'svc:kube-system/kube-dns';

/**
 * One index change as a replica needs it: the names whose merged records may differ now, namespaces whose
 * existence may differ, and whether cached answers elsewhere must all go (`all`; see changesSince).
 */
export interface IndexChange {
  names: readonly string[];
  namespaces: readonly string[];
  all: boolean;
}

export interface RecordIndexOptions {
  zone: string;
  pods: PodMode;
  /** Told every change after it is applied (indexWorker.ts turns these into deltas for the answering thread). */
  onChange?: (change: IndexChange) => void;
}

export class RecordIndex implements ZoneIndex {
  readonly zone: string;
  readonly pods: PodMode;
  /** Unix seconds of the last change: the SOA serial, like CoreDNS. */
  serial = Math.floor(Date.now() / 1000);
  #synced = false;

  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, { service: string; endpoints: EndpointModel[] }>();
  readonly #slicesByService = new Map<string, Set<string>>();
  readonly #namespaceObjects = new Set<string>();
  readonly #servicesPerNamespace = new Map<string, number>();
  readonly #contributions = new Map<string, Contribution>();
  /**
   * Who puts records at each name: the owner's key when one owner does (almost every name; its part is then read
   * from #contributions), a Map of parts by owner when several do (a reverse name of a shared address). A Map per
   * name cost ~20 MiB at 10,000 Services × 10 endpoints.
   */
  readonly #names = new Map<string, string | Map<string, NamePart>>();
  readonly #log = new ChangeLog();
  readonly #onChange: ((change: IndexChange) => void) | undefined;
  #cnameOwners = 0;

  constructor(opts: RecordIndexOptions) {
    this.zone = opts.zone;
    this.pods = opts.pods;
    this.#onChange = opts.onChange;
  }

  /** Bumped on every change that can alter an answer. */
  get generation(): number {
    return this.#log.generation;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** The first full list has been applied: zone names are answered from now on (SERVFAIL before). */
  markSynced(): void {
    if (!this.#synced) { this.#synced = true; this.#changed([], true); }
  }

  get nameCount(): number {
    return this.#names.size;
  }

  applyService(type: EventType, svc: Service): void {
    const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`.toLowerCase();
    const had = this.#services.has(key);
    let structural = false;
    if (type === 'deleted') {
      if (!had) return;
      this.#services.delete(key);
      structural = this.#countService(key, -1);
    } else {
      this.#services.set(key, svc);
      if (!had) structural = this.#countService(key, +1);
    }
    this.#recomputeService(key, structural ? key.slice(0, key.indexOf('/')) : undefined);
  }

  applyEndpointSlice(type: EventType, slice: EndpointSlice): void {
    const ns = (slice.metadata.namespace ?? 'default').toLowerCase();
    const sliceKey = `${ns}/${slice.metadata.name}`;
    const before = this.#slices.get(sliceKey);
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (before) {
      this.#slices.delete(sliceKey);
      this.#slicesByService.get(before.service)?.delete(sliceKey);
    }
    const service = svcName ? `${ns}/${svcName.toLowerCase()}` : undefined;
    if (type !== 'deleted' && service) {
      this.#slices.set(sliceKey, { service, endpoints: endpointsOfSlice(slice) });
      let set = this.#slicesByService.get(service);
      if (!set) { set = new Set(); this.#slicesByService.set(service, set); }
      set.add(sliceKey);
    }
    if (before && before.service !== service) this.#recomputeService(before.service);
    if (service) this.#recomputeService(service);
  }

  applyPod(type: EventType, pod: Pod): void {
    if (this.pods !== 'verified') return;
    const owner = `pod:${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
    this.#setContribution(owner, type === 'deleted' ? new Map() : podContribution(pod, this.zone));
  }

  applyNamespace(type: EventType, ns: Namespace): void {
    const name = ns.metadata.name.toLowerCase();
    if (type === 'deleted') this.#namespaceObjects.delete(name);
    else this.#namespaceObjects.add(name);
    this.#changed([], true, [name]);
  }

  /** A namespace exists when its Namespace object does, or (stores without Namespace objects) it has a Service. */
  namespaceExists(ns: string): boolean {
    return this.#namespaceObjects.has(ns) || (this.#servicesPerNamespace.get(ns) ?? 0) > 0;
  }

  /** Whether any record or empty non-terminal exists at `name` (lower case, no trailing dot). */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** Merged records at `name`, or undefined when no owner puts anything there. Read-only. */
  lookup(name: string): NameRecords | undefined {
    const parts = this.#names.get(name);
    if (parts === undefined) return undefined;
    if (typeof parts === 'string') {
      // The common case: one owner, whose part is already deduplicated.
      const p = this.#contributions.get(parts)!.get(name)!;
      return { a: p.a ?? [], aaaa: p.aaaa ?? [], srv: p.srv ?? [], ptr: p.ptr ?? [], cname: p.cname };
    }
    const out = { a: [] as string[], aaaa: [] as string[], srv: [] as SrvData[], ptr: [] as string[], cname: undefined as string | undefined };
    const ptrLater: string[] = [];
    for (const p of parts.values()) {
      if (p.a) for (const ip of p.a) if (!out.a.includes(ip)) out.a.push(ip);
      if (p.aaaa) for (const ip of p.aaaa) if (!out.aaaa.includes(ip)) out.aaaa.push(ip);
      if (p.srv) out.srv.push(...p.srv);
      if (p.ptr) (p.ptrPreferred ? out.ptr : ptrLater).push(...p.ptr);
      if (p.cname && !out.cname) out.cname = p.cname;
    }
    for (const t of ptrLater) if (!out.ptr.includes(t)) out.ptr.push(t);
    return out;
  }

  /** Names cached answers must drop since `generation` (a reader's last seen generation). */
  changesSince(generation: number): ChangedNames {
    return this.#log.since(generation);
  }

  /** Returns whether the namespace appeared or disappeared through this Service (a structural change). */
  #countService(key: string, delta: number): boolean {
    const ns = key.slice(0, key.indexOf('/'));
    const before = this.#servicesPerNamespace.get(ns) ?? 0;
    const n = before + delta;
    if (n > 0) this.#servicesPerNamespace.set(ns, n);
    else this.#servicesPerNamespace.delete(ns);
    return (before === 0) !== (n === 0) && !this.#namespaceObjects.has(ns);
  }

  /** `namespaceMoved`: the namespace whose existence this Service's arrival or departure changed. */
  #recomputeService(key: string, namespaceMoved?: string): void {
    const svc = this.#services.get(key);
    if (!svc) {
      this.#setContribution(`svc:${key}`, new Map(), namespaceMoved);
      return;
    }
    const endpoints: EndpointModel[] = [];
    for (const sliceKey of this.#slicesByService.get(key) ?? []) {
      endpoints.push(...(this.#slices.get(sliceKey)?.endpoints ?? []));
    }
    this.#setContribution(`svc:${key}`, serviceContribution(svc, endpoints, this.zone), namespaceMoved);
  }

  #setContribution(owner: string, next: Contribution, namespaceMoved?: string): void {
    const prev = this.#contributions.get(owner);
    const hadCname = prev ? hasCname(prev) : false;
    const hasCnameNow = hasCname(next);
    this.#cnameOwners += Number(hasCnameNow) - Number(hadCname);
    // A CNAME anywhere can chain onto any name, and kube-dns backs the NS record: drop everything then.
    const all = namespaceMoved !== undefined || hadCname || hasCnameNow || this.#cnameOwners > 0 || owner === NAMESERVER_OWNER;
    // Only names whose records differ: one endpoint of a ClusterIP Service changing touches its own name alone.
    const touched: string[] = [];
    for (const [name, p] of next) if (!samePart(prev?.get(name), p)) touched.push(name);
    if (prev) for (const name of prev.keys()) if (!next.has(name)) touched.push(name);
    if (prev) {
      for (const name of prev.keys()) {
        if (next.has(name)) continue;
        const parts = this.#names.get(name);
        if (typeof parts === 'string') { this.#names.delete(name); continue; }
        parts?.delete(owner);
        if (parts?.size === 1) this.#names.set(name, parts.keys().next().value!);
      }
    }
    for (const [name, p] of next) {
      const parts = this.#names.get(name);
      if (parts === undefined) this.#names.set(name, owner);
      else if (typeof parts !== 'string') parts.set(owner, p);
      else if (parts !== owner) this.#names.set(name, new Map([[parts, this.#contributions.get(parts)!.get(name)!], [owner, p]]));
    }
    if (next.size > 0) this.#contributions.set(owner, next);
    else this.#contributions.delete(owner);
    this.#changed(touched, all, namespaceMoved === undefined ? [] : [namespaceMoved]);
  }

  #changed(names: readonly string[], all: boolean, namespaces: readonly string[] = []): void {
    this.#log.add(all ? null : names);
    this.serial = Math.floor(Date.now() / 1000);
    this.#onChange?.({ names, namespaces, all });
  }
}

const sameList = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined, eq: (x: T, y: T) => boolean): boolean =>
  (a?.length ?? 0) === (b?.length ?? 0) && (a ?? []).every((x, i) => eq(x, b![i]!));

function samePart(a: NamePart | undefined, b: NamePart): boolean {
  if (!a) return false;
  const is = <T>(x: T, y: T) => x === y;
  return a.cname === b.cname && Boolean(a.ptrPreferred) === Boolean(b.ptrPreferred) && sameList(a.a, b.a, is)
    && sameList(a.aaaa, b.aaaa, is) && sameList(a.ptr, b.ptr, is)
    && sameList(a.srv, b.srv, (x, y) => x.port === y.port && x.target === y.target && x.weight === y.weight && x.priority === y.priority);
}

function hasCname(c: Contribution): boolean {
  for (const p of c.values()) if (p.cname) return true;
  return false;
}
