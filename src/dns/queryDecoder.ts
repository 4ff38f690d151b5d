/**
 * @module dns/queryDecoder — hand-written decoder for what a query carries: header, the one question, and the
 * EDNS0 OPT record. Bounded work on hostile input: every read is range-checked, compression pointers must point
 * strictly backwards (no loops) and at most 64 are followed, section counts are checked against the bytes left.
 * Returns a drop reason or a FORMERR instead of throwing.
 */
import { RRType } from './rrTypes.ts';

export interface EdnsInfo {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface DecodedQuery {
  id: number;
  flags: number;
  opcode: number;
  /** Lower-case name without the trailing dot ('' for the root); odd bytes escaped as \DDD. */
  qname: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question's name; equals 12 + wire length when the name is not compressed. */
  qnameEnd: number;
  /** Whether the question name used a compression pointer (then its bytes cannot be copied as-is). */
  qnameCompressed: boolean;
  questionEnd: number;
  edns: EdnsInfo | null;
}

/** Why a message got no answer at all (no reply is sent: it is not a query we can reply to). */
export type DropReason = 'short' | 'response';

export type DecodeResult =
  | { ok: true; query: DecodedQuery }
  | { ok: false; drop: DropReason }
  | { ok: false; formerr: true; id: number; flags: number };

const MAX_POINTERS = 64;
const scratch = Buffer.alloc(1024);
// Buffer#latin1Slice is what toString('latin1') calls after argument checks; calling it directly saves a third of
// the decode time. It exists on every Node Buffer but is not in the typings.
const latin1Slice = (scratch as unknown as { latin1Slice?: (s: number, e: number) => string }).latin1Slice
  ? (n: number) => (scratch as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(0, n)
  : (n: number) => scratch.toString('latin1', 0, n);

interface NameRead { name: string; end: number; compressed: boolean }

/** Read a name at `offset`; null when malformed. */
export function readName(buf: Uint8Array, offset: number): NameRead | null {
  let pos = offset;
  let end = -1;
  let out = 0;
  let jumps = 0;
  let wireLen = 0;
  for (;;) {
    if (pos >= buf.length) return null;
    const len = buf[pos]!;
    if (len === 0) { pos++; break; }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length || ++jumps > MAX_POINTERS) return null;
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= pos) return null;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return null;
    wireLen += len + 1;
    if (wireLen > 255 || pos + 1 + len > buf.length) return null;
    if (out > 0) scratch[out++] = 0x2e;
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = buf[i]!;
      if (c >= 0x41 && c <= 0x5a) scratch[out++] = c | 0x20;
      else if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) scratch[out++] = c;
      else out += scratch.write(`\\${c.toString().padStart(3, '0')}`, out, 'latin1');
    }
    pos += len + 1;
  }
  return { name: latin1Slice(out), end: end < 0 ? pos : end, compressed: end >= 0 };
}

/** Skip one resource record at `offset`; returns the offset after it or -1. */
function skipRecord(buf: Uint8Array, offset: number): { type: number; at: number; end: number } | null {
  const name = readName(buf, offset);
  if (!name || name.end + 10 > buf.length) return null;
  const at = name.end;
  const type = (buf[at]! << 8) | buf[at + 1]!;
  const rdlen = (buf[at + 8]! << 8) | buf[at + 9]!;
  const end = at + 10 + rdlen;
  if (end > buf.length) return null;
  return { type, at, end };
}

function readEdns(buf: Uint8Array, offset: number, counts: number): { edns: EdnsInfo | null } | null {
  let pos = offset;
  let edns: EdnsInfo | null = null;
  // Every record takes at least 11 bytes, so an inflated count fails here instead of looping.
  if (counts * 11 > buf.length - pos) return null;
  for (let i = 0; i < counts; i++) {
    const rr = skipRecord(buf, pos);
    if (!rr) return null;
    if (rr.type === RRType.OPT) {
      if (edns) return null; // RFC 6891 §6.1.1: more than one OPT is FORMERR
      const at = rr.at;
      edns = {
        udpSize: (buf[at + 2]! << 8) | buf[at + 3]!,
        version: buf[at + 5]!,
        dnssecOk: (buf[at + 6]! & 0x80) !== 0,
      };
    }
    pos = rr.end;
  }
  return { edns };
}

export function decodeQuery(buf: Uint8Array): DecodeResult {
  if (buf.length < 12) return { ok: false, drop: 'short' };
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & 0x8000) return { ok: false, drop: 'response' };
  const qd = (buf[4]! << 8) | buf[5]!;
  const an = (buf[6]! << 8) | buf[7]!;
  const ns = (buf[8]! << 8) | buf[9]!;
  const ar = (buf[10]! << 8) | buf[11]!;
  if (qd !== 1) return { ok: false, formerr: true, id, flags };
  const name = readName(buf, 12);
  if (!name || name.end + 4 > buf.length) return { ok: false, formerr: true, id, flags };
  const qtype = (buf[name.end]! << 8) | buf[name.end + 1]!;
  const qclass = (buf[name.end + 2]! << 8) | buf[name.end + 3]!;
  const questionEnd = name.end + 4;
  const rest = readEdns(buf, questionEnd, an + ns + ar);
  if (!rest) return { ok: false, formerr: true, id, flags };
  return {
    ok: true,
    query: {
      id, flags, opcode: (flags >> 11) & 0xf, qname: name.name, qtype, qclass,
      qnameEnd: name.end, qnameCompressed: name.compressed, questionEnd, edns: rest.edns,
    },
  };
}
