/**
 * @module dns/forwardCache — positive and negative cache of upstream answers (RFC 2308), TTL-bounded.
 *
 * Stores the upstream's bytes and the offsets of their TTL fields; a hit copies the bytes, stamps ID and question,
 * and lowers each TTL by the time spent in the cache (no decode/encode). Negative answers live as long as the SOA
 * says (min of its TTL and MINIMUM), capped; SERVFAIL and truncated answers are not cached. Bounded in entries:
 * the oldest entry goes first (Map insertion order), so a flood of random names cannot grow memory.
 */
import { readName } from './queryDecoder.ts';
import { RRType, Rcode } from './rrTypes.ts';

export interface ForwardCacheOptions {
  maxEntries: number;
  maxPositiveTtl: number;
  maxNegativeTtl: number;
  /** Negative answers without an SOA are kept this long. */
  defaultNegativeTtl: number;
  now?: () => number;
}

interface Entry {
  bytes: Buffer;
  ttlOffsets: number[];
  storedAt: number;
  expiresAt: number;
}

interface Parsed { ttlOffsets: number[]; minAnswerTtl: number; negativeTtl: number | null }

/** Walk a response: TTL offsets of every RR except OPT, the smallest answer TTL, the SOA-derived negative TTL. */
export function scanResponse(buf: Buffer): Parsed | null {
  if (buf.length < 12) return null;
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  const qd = buf.readUInt16BE(4);
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    const n = readName(buf, pos);
    if (!n) return null;
    pos = n.end + 4;
  }
  const ttlOffsets: number[] = [];
  let minAnswerTtl = Infinity;
  let negativeTtl: number | null = null;
  for (let section = 0; section < 3; section++) {
    for (let i = 0; i < counts[section]!; i++) {
      const n = readName(buf, pos);
      if (!n || n.end + 10 > buf.length) return null;
      const type = buf.readUInt16BE(n.end);
      const ttl = buf.readUInt32BE(n.end + 4);
      const rdlen = buf.readUInt16BE(n.end + 8);
      const rdata = n.end + 10;
      if (rdata + rdlen > buf.length) return null;
      if (type !== RRType.OPT) ttlOffsets.push(n.end + 4);
      if (section === 0) minAnswerTtl = Math.min(minAnswerTtl, ttl);
      if (section === 1 && type === RRType.SOA && rdlen >= 22) {
        negativeTtl = Math.min(ttl, buf.readUInt32BE(rdata + rdlen - 4));
      }
      pos = rdata + rdlen;
    }
  }
  return { ttlOffsets, minAnswerTtl, negativeTtl };
}

export class ForwardCache {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: ForwardCacheOptions;
  readonly #now: () => number;

  constructor(opts: ForwardCacheOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? (() => Date.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Cache `response` under `key` if it is cacheable. */
  store(key: string, response: Buffer): void {
    const rcode = response[3]! & 0xf;
    const truncated = (response[2]! & 0x02) !== 0;
    if (truncated || (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN)) return;
    const scan = scanResponse(response);
    if (!scan) return;
    const answers = response.readUInt16BE(6);
    let ttl: number;
    if (rcode === Rcode.NOERROR && answers > 0) ttl = Math.min(scan.minAnswerTtl, this.#opts.maxPositiveTtl);
    else ttl = Math.min(scan.negativeTtl ?? this.#opts.defaultNegativeTtl, this.#opts.maxNegativeTtl);
    if (ttl <= 0) return;
    if (this.#entries.size >= this.#opts.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const now = this.#now();
    this.#entries.delete(key);
    this.#entries.set(key, { bytes: Buffer.from(response), ttlOffsets: scan.ttlOffsets, storedAt: now, expiresAt: now + ttl * 1000 });
  }

  /** A copy of the cached response with TTLs lowered by its age, or null on a miss/expiry. */
  lookup(key: string): Buffer | null {
    const e = this.#entries.get(key);
    if (!e) return null;
    const now = this.#now();
    if (now >= e.expiresAt) {
      this.#entries.delete(key);
      return null;
    }
    const out = Buffer.from(e.bytes);
    const age = Math.floor((now - e.storedAt) / 1000);
    if (age > 0) {
      for (const off of e.ttlOffsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(off) - age), off);
    }
    return out;
  }
}
