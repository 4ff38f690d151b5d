/**
 * @module dns/wireEncoder — hand-written DNS message encoder for the records the zone serves, with name
 * compression (RFC 1035 §4.1.4). Used off the hot path: it builds the response *template* of a (name, type) once,
 * which the hot path then copies (responseTemplate.ts). dns-packet does not compress names, and a
 * general-purpose encode per query costs ~40% of a Node responder's throughput (issue 6 measurements).
 */
import { isIPv4 } from 'node:net';
import { ipv4Bytes, ipv6Bytes } from './dnsNames.ts';
import { CLASS_IN, RRType, type ResourceRecord, type Resolution } from './rrTypes.ts';

const MAX_POINTER_OFFSET = 0x3fff;

export class MessageWriter {
  buf: Buffer;
  pos = 0;
  readonly #names = new Map<string, number>();

  constructor(size = 512) {
    this.buf = Buffer.alloc(size);
  }

  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void { this.#ensure(1); this.buf[this.pos++] = v; }
  u16(v: number): void { this.#ensure(2); this.buf.writeUInt16BE(v, this.pos); this.pos += 2; }
  u32(v: number): void { this.#ensure(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  bytes(b: Uint8Array): void { this.#ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }

  /** Write a domain name (lower case, no trailing dot; '' is the root), compressing against earlier names. */
  name(name: string, compress = true): void {
    let rest = name;
    while (rest !== '') {
      const known = compress ? this.#names.get(rest) : undefined;
      if (known !== undefined) { this.u16(0xc000 | known); return; }
      if (this.pos <= MAX_POINTER_OFFSET && !this.#names.has(rest)) this.#names.set(rest, this.pos);
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.slice(0, dot);
      const bytes = Buffer.from(label, 'latin1');
      this.u8(bytes.length & 0x3f);
      this.bytes(bytes.subarray(0, 63));
      rest = dot < 0 ? '' : rest.slice(dot + 1);
    }
    this.u8(0);
  }

  setU16(offset: number, v: number): void { this.buf.writeUInt16BE(v, offset); }

  result(): Buffer { return this.buf.subarray(0, this.pos); }
}

function writeRData(w: MessageWriter, rr: ResourceRecord): void {
  const lenAt = w.pos;
  w.u16(0);
  const start = w.pos;
  const d = rr.data;
  switch (d.type) {
    case RRType.A: w.bytes(ipv4Bytes(d.address)); break;
    case RRType.AAAA: w.bytes(isIPv4(d.address) ? new Uint8Array(16) : ipv6Bytes(d.address)); break;
    case RRType.CNAME: case RRType.PTR: case RRType.NS: w.name(d.target); break;
    // RFC 2782: the SRV target is not compressed.
    case RRType.SRV: w.u16(d.srv.priority); w.u16(d.srv.weight); w.u16(d.srv.port); w.name(d.srv.target, false); break;
    case RRType.TXT: {
      const text = Buffer.from(d.text, 'utf8');
      for (let i = 0; i < text.length || i === 0; i += 255) {
        const chunk = text.subarray(i, i + 255);
        w.u8(chunk.length);
        w.bytes(chunk);
      }
      break;
    }
    case RRType.SOA:
      w.name(d.soa.mname); w.name(d.soa.rname);
      w.u32(d.soa.serial); w.u32(d.soa.refresh); w.u32(d.soa.retry); w.u32(d.soa.expire); w.u32(d.soa.minimum);
      break;
  }
  w.setU16(lenAt, w.pos - start);
}

export function writeRecord(w: MessageWriter, rr: ResourceRecord): void {
  w.name(rr.name);
  w.u16(rr.data.type);
  w.u16(CLASS_IN);
  w.u32(rr.ttl);
  writeRData(w, rr);
}

export interface EncodedResponse {
  bytes: Buffer;
  /** Length of the message without its additional section (it may be dropped without TC, RFC 2181 §9). */
  lengthWithoutAdditional: number;
}

export interface QuestionSpec { qname: string; qtype: number; qclass: number }

/** Flags of a response: QR, AA as decided, RA (we resolve other names through upstreams), the rcode's low 4 bits. */
export function responseFlags(authoritative: boolean, rcode: number): number {
  return 0x8000 | (authoritative ? 0x0400 : 0) | 0x0080 | (rcode & 0xf);
}

/** Encode a full response with ID 0 and RD clear; the caller stamps both per query. */
export function encodeResponse(q: QuestionSpec, res: Resolution): EncodedResponse {
  const w = new MessageWriter(512);
  w.u16(0);
  w.u16(responseFlags(res.authoritative, res.rcode));
  w.u16(1);
  w.u16(res.answer.length);
  w.u16(res.authority.length);
  w.u16(res.additional.length);
  w.name(q.qname);
  w.u16(q.qtype);
  w.u16(q.qclass);
  for (const rr of res.answer) writeRecord(w, rr);
  for (const rr of res.authority) writeRecord(w, rr);
  const lengthWithoutAdditional = w.pos;
  for (const rr of res.additional) writeRecord(w, rr);
  return { bytes: Buffer.from(w.result()), lengthWithoutAdditional };
}
