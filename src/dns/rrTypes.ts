/**
 * @module dns/rrTypes — the resource records the cluster zone serves, as plain data. The record index produces
 * them, the zone resolver selects them, the wire encoder turns them into bytes; nothing here does I/O.
 */

/** RR type codes (RFC 1035, 3596, 2782, 6891). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const CLASS_IN = 1;

/** Response codes (RFC 1035 §4.1.1, RFC 6891 BADVERS = 16 as an extended rcode). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? String(rcode);
}

const TYPE_NAMES = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export type RData =
  | { type: typeof RRType.A; address: string }
  | { type: typeof RRType.AAAA; address: string }
  | { type: typeof RRType.CNAME; target: string }
  | { type: typeof RRType.PTR; target: string }
  | { type: typeof RRType.NS; target: string }
  | { type: typeof RRType.SRV; srv: SrvData }
  | { type: typeof RRType.TXT; text: string }
  | { type: typeof RRType.SOA; soa: SoaData };

/** One resource record; `name` is absolute, lower case, without the trailing dot. */
export interface ResourceRecord {
  name: string;
  ttl: number;
  data: RData;
}

/** What the zone (or the forwarder) decided for one question. */
export interface Resolution {
  rcode: number;
  authoritative: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}
