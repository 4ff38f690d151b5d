/**
 * @module services/nftables/nftDispatchMaps — endpoint choice as one named interval map per endpoint set of a
 * service port (`eps-*`), so that adding, removing or replacing an endpoint changes map ELEMENTS only, never a rule:
 *
 *   map eps-… { typeof numgen random mod 65536 : ip daddr . tcp dport; flags interval;
 *               elements = { 0-32767 : 10.0.0.1 . 80, 32768-65535 : 10.0.0.2 . 8080 } }
 *   chain svc-… { … meta l4proto tcp dnat ip to numgen random mod 65536 map @eps-… }
 *
 * Why: committing any new rule that holds an expression with a `validate` op (nat, verdicts, vmap lookups) makes
 * the kernel re-validate the whole table (nft_table_validate: 55–59 ms at 10,000 services on this machine, 4 ms at
 * 1,000), whatever the rule; a commit of set/map elements whose data are not verdicts costs ~0.1 ms.
 *
 * N endpoints split 0..65535 into N ranges whose sizes differ by at most one: each endpoint gets 1/N of new
 * connections to within 1/65536. The rule never changes while the service port has at least one endpoint.
 */
export { dispatchMapName } from './nftNames.ts';
import type { NftFamily } from './nftSkeleton.ts';
import type { EndpointTarget } from '../serviceModel.ts';

/** The numgen modulus: the key space the endpoints share. */
export const DISPATCH_SPACE = 65536;

/** One dispatch map: its L4 protocol (part of the map's typeof) and elements `lo-hi` → `addr . port`. */
export interface DispatchMap {
  proto: string;
  elements: Map<string, string>;
}

/** Which endpoint set of the port the map serves (ETP Local has a second, external, set). */
export type DispatchRole = 'int' | 'ext';

/** `lo-hi` keys of N near-equal ranges covering 0..DISPATCH_SPACE-1. */
export function dispatchRanges(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${Math.floor((i * DISPATCH_SPACE) / n)}-${Math.floor(((i + 1) * DISPATCH_SPACE) / n) - 1}`);
  return out;
}

export function dispatchMapFor(proto: string, eps: readonly EndpointTarget[]): DispatchMap {
  const ranges = dispatchRanges(eps.length);
  return { proto, elements: new Map(eps.map((e, i) => [ranges[i]!, `${e.ip} . ${e.port}`])) };
}

/** The one dispatch rule of a service (or external) chain. */
export function dispatchRule(f: NftFamily, proto: string, name: string): string {
  return `meta l4proto ${proto} dnat ${f} to numgen random mod ${DISPATCH_SPACE} map @${name}`;
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
 * big-endian (65536 = 00 01 00 00).
 */
export function intervalElements(ranges: ReadonlyArray<readonly [string, Uint8Array | undefined]>, endFlag: number): IntervalElement[] {
  const out: IntervalElement[] = [];
  const sorted = ranges.map(([r, data]) => [r.split('-').map(Number) as [number, number], data] as const).sort((a, b) => a[0][0] - b[0][0]);
  for (const [[lo, hi], data] of sorted) {
    out.push(data ? { key: be32(lo), data } : { key: be32(lo) });
    out.push({ key: be32(hi + 1), flags: endFlag });
  }
  return out;
}
