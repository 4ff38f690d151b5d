/**
 * @module services/nftables/nftDispatchMaps — endpoint choice through SHARED named interval maps (`eps-PROTO-K`),
 * so that adding, removing or replacing an endpoint changes map ELEMENTS only, never a rule:
 *
 *   map eps-tcp-0 { typeof numgen random mod 65536 : ip daddr . tcp dport; flags interval;
 *                   elements = { 0-32767 : 10.0.0.1 . 80, 32768-65535 : 10.0.0.2 . 8080,       (slot 0)
 *                                65536-131071 : 10.0.1.7 . 53 } }                               (slot 1)
 *   chain svc-… { … meta l4proto tcp dnat ip to numgen random mod 65536 offset 65536 map @eps-tcp-0 }
 *
 * Why elements: committing any new rule that holds an expression with a `validate` op (nat, verdicts, vmap
 * lookups) makes the kernel re-validate the whole table (nft_table_validate: 55–59 ms at 10,000 services on this
 * machine, 4 ms at 1,000), whatever the rule; a commit of set/map elements whose data are not verdicts costs ~0.1 ms.
 *
 * Why shared maps (SLOTS_PER_MAP endpoint sets each) and not one map per service port: the kernel finds a set by
 * NAME with a walk of the table's set list (nft_set_lookup), for every rule that references one and every element
 * batch, so 10,000 maps made a 10,000-service load quadratic (~10 s of kernel CPU of a 14 s full sync). One map for
 * everything is no better: nft 1.0.6 merges and checks each `add element` of an interval map against all its
 * elements in userspace (a 100,000-interval map did not load within 10 minutes). Measured at 10,000 × 10 (CPU of
 * `nft -f`, user + sys): 1 endpoint set per map 12.6 s, 10 per map 3.4 s, 20: 3.5 s, 50: 3.4 s, 100: 4.8 s,
 * 1,000: 9.8 s. Each endpoint set owns a SLOT: the key range [slot × 65536, slot × 65536 + 65535] of its map, and
 * its rule adds the slot's base with numgen's `offset`; slots are stable for the life of the port (DispatchSlots).
 *
 * N endpoints split a slot's 65536 keys into N ranges whose sizes differ by at most one: each endpoint gets 1/N of
 * new connections to within 1/65536. The rule never changes while the service port has at least one endpoint.
 */
import type { NftFamily } from './nftSkeleton.ts';
import type { EndpointTarget } from '../serviceModel.ts';

/** The numgen modulus: the key space the endpoints of one slot share. */
export const DISPATCH_SPACE = 65536;
/** Endpoint sets per shared map (see the module doc for the measurement that chose it). */
export const SLOTS_PER_MAP = 32;

/** One dispatch map: its L4 protocol (part of the map's typeof) and elements `lo-hi` → `addr . port`. */
export interface DispatchMap {
  proto: string;
  elements: Map<string, string>;
}

/** Which endpoint set of the port the map serves (ETP Local has a second, external, set). */
export type DispatchRole = 'int' | 'ext';

/** Where one endpoint set lives: its map and the first key of its slot. */
export interface DispatchSlot {
  map: string;
  base: number;
}

/** `lo-hi` keys of N near-equal ranges covering base..base+DISPATCH_SPACE-1. */
export function dispatchRanges(n: number, base = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${base + Math.floor((i * DISPATCH_SPACE) / n)}-${base + Math.floor(((i + 1) * DISPATCH_SPACE) / n) - 1}`);
  return out;
}

/** The elements of one endpoint set at `base`. */
export function dispatchElements(eps: readonly EndpointTarget[], base = 0): Array<[string, string]> {
  const ranges = dispatchRanges(eps.length, base);
  return eps.map((e, i) => [ranges[i]!, `${e.ip} . ${e.port}`]);
}

export function dispatchMapFor(proto: string, eps: readonly EndpointTarget[], base = 0): DispatchMap {
  return { proto, elements: new Map(dispatchElements(eps, base)) };
}

/** The one dispatch rule of a service (or external) chain; `base` is the slot's first key (numgen's offset). */
export function dispatchRule(f: NftFamily, proto: string, name: string, base = 0): string {
  return `meta l4proto ${proto} dnat ${f} to numgen random mod ${DISPATCH_SPACE}${base ? ` offset ${base}` : ''} map @${name}`;
}

/** `add map` text (idempotent, like every declaration of a full sync). */
export function dispatchMapDecl(f: NftFamily, table: string, name: string, proto: string): string {
  return `add map ${f} ${table} ${name} { typeof numgen random mod ${DISPATCH_SPACE} : ${f} daddr . ${proto} dport; flags interval; }`;
}

export function isDispatchMapName(name: string): boolean {
  return name.startsWith('eps-');
}

export function sameDispatchMap(a: DispatchMap | undefined, b: DispatchMap): boolean {
  if (a === b) return true;
  if (!a || a.proto !== b.proto || a.elements.size !== b.elements.size) return false;
  for (const [k, v] of b.elements) if (a.elements.get(k) !== v) return false;
  return true;
}

/**
 * Slot allocation for one family's table. A key (a port's endpoint set, e.g. its dispatch name) keeps its slot
 * while any planned fragment holds it; a slot let go becomes reusable only at the NEXT planning (`settle`), after
 * the sync that deletes its elements, so one transaction never deletes and re-adds the same key range for two
 * different ports. Lowest free slot first, so maps stay dense and few.
 */
export class DispatchSlots {
  readonly #byKey = new Map<string, { proto: string; index: number }>();
  readonly #refs = new Map<string, number>();
  readonly #free = new Map<string, number[]>();
  readonly #next = new Map<string, number>();
  #letGo: Array<[string, number]> = [];

  claim(key: string, proto: string): DispatchSlot {
    let s = this.#byKey.get(key);
    if (!s || s.proto !== proto) {
      const free = this.#free.get(proto);
      const index = free?.length ? free.pop()! : this.#next.get(proto) ?? 0;
      if (index === (this.#next.get(proto) ?? 0)) this.#next.set(proto, index + 1);
      if (index >= SLOTS_PER_MAP * 65536) throw new Error('out of endpoint dispatch slots');
      s = { proto, index };
      this.#byKey.set(key, s);
    }
    return { map: `eps-${proto}-${Math.floor(s.index / SLOTS_PER_MAP)}`, base: (s.index % SLOTS_PER_MAP) * DISPATCH_SPACE };
  }

  hold(keys: readonly string[]): void {
    for (const k of keys) this.#refs.set(k, (this.#refs.get(k) ?? 0) + 1);
  }

  release(keys: readonly string[]): void {
    for (const k of keys) {
      const n = (this.#refs.get(k) ?? 0) - 1;
      if (n > 0) {
        this.#refs.set(k, n);
        continue;
      }
      this.#refs.delete(k);
      const s = this.#byKey.get(k);
      if (!s) continue;
      this.#byKey.delete(k);
      this.#letGo.push([s.proto, s.index]);
    }
  }

  /** Slots let go before the last sync become reusable. */
  settle(): void {
    for (const [proto, index] of this.#letGo) {
      const free = this.#free.get(proto) ?? [];
      free.push(index);
      this.#free.set(proto, free);
    }
    if (this.#letGo.length) for (const free of this.#free.values()) free.sort((a, b) => b - a); // pop() = lowest
    this.#letGo = [];
  }

  get size(): number {
    return this.#byKey.size;
  }
}

// ------------------------------------------------------------------ netlink form (as nft 1.0.6 sends it)

/** nft's protocol description ids (proto.h enum proto_desc_id) and header field indexes of the typeof. */
const NET_DESC = { ip: { desc: 0x0c, daddrField: 0x0c }, ip6: { desc: 0x0d, daddrField: 0x09 } } as const;
const L4_DESC: Readonly<Record<string, number>> = { udp: 0x06, tcp: 0x08, sctp: 0x0a };
const DPORT_FIELD = 0x02;

function hex(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
}
const le32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer).toString('hex');

/**
 * NFTA_SET_USERDATA of `typeof numgen random mod 65536 : F daddr . P dport` (nftnl udata TLVs: key byte order
 * host, data byte order unset, key typeof = numgen(random, mod, offset 0), data typeof = concat(payload F daddr,
 * payload P dport), then attribute 6 = 0). Checked byte for byte against nft for all six family × protocol pairs.
 */
export function dispatchMapUserdata(f: NftFamily, proto: string): Uint8Array {
  const l4 = L4_DESC[proto];
  if (l4 === undefined) throw new Error(`no dispatch map for protocol ${proto}`);
  const net = NET_DESC[f];
  const payload = (desc: number, field: number) => `0014 0004${le32(7)} 010c 0004${le32(desc)} 0104${le32(field)}`;
  return hex(`0004${le32(1)} 0104${le32(0)}`
    + ` 031a 0004${le32(0x17)} 0112 0004${le32(1)} 0104${le32(DISPATCH_SPACE)} 0204${le32(0)}`
    + ` 0434 0004${le32(0x0d)} 012c ${payload(net.desc, net.daddrField)} ${payload(l4, DPORT_FIELD).replace(/^0014/, '0114')}`
    + ` 0604${le32(0)}`);
}

export interface IntervalElement {
  key: Uint8Array;
  data?: Uint8Array;
  flags?: number;
}

function be32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/**
 * Interval elements as the kernel stores them: each `lo-hi` is a start element (key lo, with the data when
 * adding) and an INTERVAL_END element at hi+1. The key is numgen's value after nft's `byteorder hton`, so
 * big-endian (65536 = 00 01 00 00). nft 1.0.6 sorts the ranges it adds but deletes them in the order given.
 */
export function intervalElements(ranges: ReadonlyArray<readonly [string, Uint8Array | undefined]>, endFlag: number, sort = true): IntervalElement[] {
  const out: IntervalElement[] = [];
  const parsed = ranges.map(([r, data]) => [r.split('-').map(Number) as [number, number], data] as const);
  const sorted = sort ? parsed.sort((a, b) => a[0][0] - b[0][0]) : parsed;
  for (const [[lo, hi], data] of sorted) {
    out.push(data ? { key: be32(lo), data } : { key: be32(lo) });
    out.push({ key: be32(hi + 1), flags: endFlag });
  }
  return out;
}
