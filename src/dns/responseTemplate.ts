/**
 * @module dns/responseTemplate — the hot path's answer: a pre-encoded response per (name, type), stamped per
 * query with the ID, the RD bit, the question exactly as asked (case preserved, 0x20-safe) and an OPT record, and
 * cut to the requester's size (drop the additional section first, then TC with an empty answer, RFC 2181 §9).
 * One Buffer copy per query; no general-purpose encoder.
 */
import type { DecodedQuery } from './queryDecoder.ts';
import { Rcode, type Resolution } from './rrTypes.ts';
import { encodeResponse, responseFlags } from './wireEncoder.ts';

export interface ResponseTemplate {
  bytes: Buffer;
  lengthWithoutAdditional: number;
  /** End of the question section inside `bytes`. */
  questionEnd: number;
  rcode: number;
}

/** The UDP payload size we advertise in our own OPT (the DNS flag day 2020 value, also CoreDNS bufsize's default). */
export const OUR_UDP_SIZE = 1232;
const OPT_LENGTH = 11;

export function buildTemplate(q: { qname: string; qtype: number; qclass: number }, res: Resolution): ResponseTemplate {
  const enc = encodeResponse(q, res);
  const nameLen = q.qname === '' ? 1 : Buffer.byteLength(q.qname, 'latin1') + 2;
  return { bytes: enc.bytes, lengthWithoutAdditional: enc.lengthWithoutAdditional, questionEnd: 12 + nameLen + 4, rcode: res.rcode };
}

/** The largest response this query may receive over its transport (RFC 6891 §6.2.5: at least 512). */
export function maxResponseSize(q: DecodedQuery, tcp: boolean): number {
  if (tcp) return 65535;
  return q.edns ? Math.max(512, q.edns.udpSize) : 512;
}

function writeOpt(out: Buffer, at: number, extendedRcode: number): void {
  out[at] = 0;
  out.writeUInt16BE(41, at + 1);
  out.writeUInt16BE(OUR_UDP_SIZE, at + 3);
  out[at + 5] = extendedRcode;
  out[at + 6] = 0;
  out[at + 7] = 0;
  out[at + 8] = 0;
  out.writeUInt16BE(0, at + 9);
}

const TRUNCATED = 1 << 20;
const NO_ADDITIONAL = 1 << 21;

/** The template's bytes this query gets (all, all but the additional section, or the question only + TC). */
function bodyFor(t: ResponseTemplate, opt: number, maxSize: number): number {
  if (t.bytes.length + opt <= maxSize) return t.bytes.length;
  if (t.lengthWithoutAdditional + opt <= maxSize) return t.lengthWithoutAdditional | NO_ADDITIONAL;
  return t.questionEnd | TRUNCATED;
}

/** The response's length for this query (what stampTemplateInto writes). */
export function stampedLength(t: ResponseTemplate, q: DecodedQuery, maxSize: number): number {
  const opt = q.edns ? OPT_LENGTH : 0;
  return (bodyFor(t, opt, maxSize) & (TRUNCATED - 1)) + opt;
}

/**
 * Write the response for this query into `out` at `at` (the caller checked that stampedLength bytes fit): the
 * template, then the query's ID, RD/CD bits and question bytes (its letter case), then the OPT.
 */
export function stampTemplateInto(t: ResponseTemplate, q: DecodedQuery, query: Uint8Array, maxSize: number, out: Buffer, at: number): number {
  const opt = q.edns ? OPT_LENGTH : 0;
  const layout = bodyFor(t, opt, maxSize);
  const body = layout & (TRUNCATED - 1);
  const truncated = (layout & TRUNCATED) !== 0;
  // TypedArray#set of a whole template, a plain loop for the question: no Buffer#copy checks, no subarray object.
  if (body === t.bytes.length) out.set(t.bytes, at);
  else t.bytes.copy(out, at, 0, body);
  out[at] = q.id >> 8;
  out[at + 1] = q.id & 0xff;
  // RD and CD are copied from the query (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
  out[at + 2] = (t.bytes[2]! & 0xfe) | ((q.flags >> 8) & 0x01) | (truncated ? 0x02 : 0);
  out[at + 3] = (t.bytes[3]! & ~0x10) | (q.flags & 0x10);
  if (!q.qnameCompressed && q.qnameEnd + 4 === t.questionEnd) {
    for (let i = 12; i < q.qnameEnd; i++) out[at + i] = query[i]!;
  }
  if (truncated) { out.writeUInt32BE(0, at + 6); out.writeUInt16BE(0, at + 10); }
  if (layout & NO_ADDITIONAL) out.writeUInt16BE(0, at + 10);
  if (opt) {
    writeOpt(out, at + body, 0);
    out.writeUInt16BE(out.readUInt16BE(at + 10) + 1, at + 10);
  }
  return body + opt;
}

/** Copy the template into a new response for this query. */
export function stampTemplate(t: ResponseTemplate, q: DecodedQuery, query: Uint8Array, maxSize: number): Buffer {
  const out = Buffer.allocUnsafe(stampedLength(t, q, maxSize));
  stampTemplateInto(t, q, query, maxSize, out, 0);
  return out;
}

/** A response with only the header and question (FORMERR, NOTIMP, REFUSED, BADVERS, SERVFAIL on errors). */
export function errorResponse(q: DecodedQuery | { id: number; flags: number }, query: Uint8Array, rcode: number): Buffer {
  const full = 'qnameEnd' in q;
  const qlen = full ? q.questionEnd - 12 : 0;
  const edns = full && q.edns !== null;
  const out = Buffer.alloc(12 + qlen + (edns ? OPT_LENGTH : 0));
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE((responseFlags(false, rcode) & ~0x7800) | (q.flags & 0x7900), 2);
  out.writeUInt16BE(full ? 1 : 0, 4);
  if (full) out.set(query.subarray(12, q.questionEnd), 12);
  if (edns) {
    writeOpt(out, 12 + qlen, rcode >> 4);
    out.writeUInt16BE(1, 10);
  }
  return out;
}

export const isNegative = (t: ResponseTemplate): boolean => t.rcode !== Rcode.NOERROR;
