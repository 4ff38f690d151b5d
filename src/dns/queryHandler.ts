/**
 * @module dns/queryHandler — one query in, one response out, independent of the transport.
 *
 * Hot path (a cluster name asked before): the query's bytes hashed straight to its template (fastPath.ts; the
 * general path is a hand decode → template Map lookup by name) → one copy (responseTemplate.ts). Templates are
 * built lazily from the zone resolver; when the index generation moves, the names the change touched (or all
 * templates, for structural changes) are dropped, so an answer changes with the first query after a store event. Everything else — names outside our zones, CNAME targets outside the
 * zone — goes through the forward cache and the upstreams and returns a Promise.
 */
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import { decodeQuery, type DecodedQuery } from './queryDecoder.ts';
import { buildTemplate, errorResponse, maxResponseSize, stampedLength, stampTemplate, stampTemplateInto, type ResponseTemplate } from './responseTemplate.ts';
import { chaseExternal } from './externalChase.ts';
import { FastTemplates } from './fastPath.ts';
import type { DnsMetrics, ZoneSlot } from './dnsMetrics.ts';
import type { ForwardCache } from './forwardCache.ts';
import type { ZoneIndex } from './zoneIndex.ts';
import type { UpstreamForwarder } from './upstreamForwarder.ts';
import type { ZoneResolver } from './zoneResolver.ts';
import { CLASS_IN, Rcode, rcodeName, typeName } from './rrTypes.ts';

export type Transport = 'udp' | 'tcp';

export interface QueryHandlerDeps {
  index: ZoneIndex;
  resolver: ZoneResolver;
  forwarder: UpstreamForwarder | null;
  cache: ForwardCache;
  metrics: DnsMetrics;
  logger: Logger;
  logQueries: boolean;
  /** Bound on cached templates; a flood of random in-zone names clears the map instead of growing it. */
  maxTemplates?: number;
}

export interface ClientInfo { transport: Transport; family: 1 | 2; address: string }

/**
 * Where a batching transport wants answers written: a template answer that fits in `buf` from `at` on is stamped
 * there (no Buffer per answer), `length` is set, and handle() returns `buf` itself.
 */
export interface ResponseSink { buf: Buffer; at: number; length: number }

const OPCODE_QUERY = 0;

export class QueryHandler {
  readonly #d: QueryHandlerDeps;
  /** By qtype, then lower-case name: no key concatenation per query. */
  readonly #templates = new Map<number, Map<string, ResponseTemplate>>();
  #templateCount = 0;
  /** The same templates, found from query bytes (fastPath.ts); entries go with their names' templates. */
  readonly #fast = new FastTemplates();
  #fastAnswers = 0;
  readonly #maxTemplates: number;
  #generation = -1;

  constructor(deps: QueryHandlerDeps) {
    this.#d = deps;
    this.#maxTemplates = deps.maxTemplates ?? 100_000;
  }

  /** How many answers were found straight from the query bytes (fastPath.ts), for tests and debugging. */
  get fastAnswers(): number {
    return this.#fastAnswers;
  }

  /** Whether transports must fill ClientInfo.address (only the query log reads it). */
  get wantsClientAddress(): boolean {
    return this.#d.logQueries;
  }

  /**
   * The response bytes, a Promise of them (forwarded names), or null when the message gets no reply. `msg` may be a
   * view of a buffer the transport reuses after this call returns (udpBatchTransport.ts): what awaits copies it.
   */
  handle(msg: Buffer, client: ClientInfo, sink?: ResponseSink, receivedAt?: number): Buffer | null | Promise<Buffer | null> {
    // A batching transport passes the batch's arrival time: one clock read per batch, and the duration then also
    // counts the wait behind earlier queries of the batch.
    const start = receivedAt ?? performance.now();
    if (!this.#d.logQueries) { // the query log wants the name as text: the general path has it
      if (this.#generation !== this.#d.index.generation) this.#dropChangedTemplates();
      const t = this.#fast.match(msg);
      if (t) {
        this.#fastAnswers++;
        return this.#stamp(t, this.#fast.query, msg, client, start, sink);
      }
    }
    const decoded = decodeQuery(msg);
    if (!decoded.ok) {
      if ('drop' in decoded) return null;
      return this.#finish(errorResponse(decoded, msg, Rcode.FORMERR), null, client, start, 1);
    }
    const q = decoded.query;
    try {
      if (q.opcode !== OPCODE_QUERY) return this.#finish(errorResponse(q, msg, Rcode.NOTIMP), q, client, start, 1);
      if (q.edns && q.edns.version !== 0) return this.#finish(errorResponse(q, msg, Rcode.BADVERS), q, client, start, 1);
      if (q.qclass === CLASS_IN) {
        const local = this.#answerLocally(q, msg, client, start, sink);
        if (local !== undefined) return local;
      }
      return this.#forward(q, msg, client, start);
    } catch (err) {
      this.#d.metrics.panic();
      this.#d.logger.error({ op: 'query', qname: q.qname, qtype: typeName(q.qtype), err: describeError(err) }, 'answering query failed');
      return this.#finish(errorResponse(q, msg, Rcode.SERVFAIL), q, client, start, 1);
    }
  }

  #answerLocally(q: DecodedQuery, msg: Buffer, client: ClientInfo, start: number, sink: ResponseSink | undefined): Buffer | Promise<Buffer | null> | undefined {
    if (this.#generation !== this.#d.index.generation) this.#dropChangedTemplates();
    let byName = this.#templates.get(q.qtype);
    let t = byName?.get(q.qname);
    if (t) {
      if (!q.qnameCompressed) this.#fast.add(t);
      return this.#stamp(t, q, msg, client, start, sink);
    }
    const decision = this.#d.resolver.resolve(q.qname, q.qtype);
    if (decision.kind === 'notOurs') return undefined;
    if (decision.chase) return this.#chase(q, msg, client, start, decision.resolution, decision.chase);
    t = buildTemplate(q, decision.resolution);
    if (this.#templateCount >= this.#maxTemplates) { this.#templates.clear(); this.#fast.clear(); this.#templateCount = 0; byName = undefined; }
    if (!byName) { byName = new Map(); this.#templates.set(q.qtype, byName); }
    byName.set(q.qname, t);
    this.#templateCount++;
    if (!q.qnameCompressed) this.#fast.add(t);
    return this.#stamp(t, q, msg, client, start, sink);
  }

  #stamp(t: ResponseTemplate, q: DecodedQuery, msg: Buffer, client: ClientInfo, start: number, sink: ResponseSink | undefined): Buffer {
    const max = maxResponseSize(q, client.transport === 'tcp');
    if (sink && sink.at + stampedLength(t, q, max) <= sink.buf.length) {
      sink.length = stampTemplateInto(t, q, msg, max, sink.buf, sink.at);
      return this.#finish(sink.buf, q, client, start, 0, sink.at);
    }
    return this.#finish(stampTemplate(t, q, msg, max), q, client, start, 0);
  }

  /** Forget the answers an index change touched (or all of them), so the next query re-resolves them. */
  #dropChangedTemplates(): void {
    const changed = this.#d.index.changesSince(this.#generation);
    this.#generation = this.#d.index.generation;
    if (changed === 'all') {
      this.#fast.clear();
      this.#templates.clear();
      this.#templateCount = 0;
      return;
    }
    // O(change): the index moves with every delta chunk during churn, and the rest of the zone keeps its fast path.
    for (const byName of this.#templates.values()) {
      for (const name of changed) {
        const t = byName.get(name);
        if (!t) continue;
        byName.delete(name);
        this.#fast.delete(t);
        this.#templateCount--;
      }
    }
  }

  async #chase(q: DecodedQuery, msg: Buffer, client: ClientInfo, start: number,
    base: Parameters<typeof chaseExternal>[0], target: { name: string; qtype: number }): Promise<Buffer | null> {
    msg = Buffer.from(msg); // outlives handle(): see there
    const r = await chaseExternal(base, target.name, target.qtype, { forwarder: this.#d.forwarder, cache: this.#d.cache });
    const out = stampTemplate(buildTemplate(q, r.resolution), q, msg, maxResponseSize(q, client.transport === 'tcp'));
    if (r.truncated) out[2] = out[2]! | 0x02;
    return this.#finish(out, q, client, start, 0);
  }

  async #forward(q: DecodedQuery, msg: Buffer, client: ClientInfo, start: number): Promise<Buffer | null> {
    const { cache, forwarder, metrics, logger } = this.#d;
    const key = `${q.qname}/${q.qtype}/${q.qclass}/${q.edns ? 1 : 0}${q.edns?.dnssecOk ? 1 : 0}`;
    const cached = cache.lookup(key);
    if (cached) {
      metrics.cacheHit((cached[3]! & 0xf) === Rcode.NOERROR && cached.readUInt16BE(6) > 0 ? 'success' : 'denial');
      return this.#finish(this.#fromCache(cached, q, msg, client), q, client, start, 1);
    }
    metrics.cacheMiss();
    if (!forwarder) return this.#finish(errorResponse(q, msg, Rcode.REFUSED), q, client, start, 1);
    msg = Buffer.from(msg); // outlives handle(): see there
    const sent = performance.now();
    const out = await forwarder.forward(msg, client.transport === 'tcp');
    if (!out.ok) {
      logger.error({ op: 'forward', qname: q.qname, qtype: typeName(q.qtype), upstream: out.upstream, reason: out.reason }, 'forwarding failed');
      const rcode = out.reason === 'overloaded' ? Rcode.REFUSED : Rcode.SERVFAIL;
      return this.#finish(errorResponse(q, msg, rcode), q, client, start, 1);
    }
    metrics.forwarded(out.upstream, out.response[3]! & 0xf, (performance.now() - sent) / 1000);
    cache.store(key, out.response);
    metrics.cacheSize(cache.size);
    return this.#finish(out.response, q, client, start, 1);
  }

  /** A cached upstream answer for this query: its ID and question, TC-only when too big for the transport. */
  #fromCache(cached: Buffer, q: DecodedQuery, msg: Buffer, client: ClientInfo): Buffer {
    if (cached.length > maxResponseSize(q, client.transport === 'tcp')) {
      const tc = errorResponse(q, msg, Rcode.NOERROR);
      tc[2] = tc[2]! | 0x02;
      return tc;
    }
    cached.writeUInt16BE(q.id, 0);
    if (!q.qnameCompressed && cached.length >= q.questionEnd) msg.copy(cached, 12, 12, q.qnameEnd);
    cached[2] = (cached[2]! & 0xfe) | ((q.flags >> 8) & 1);
    return cached;
  }

  #finish(out: Buffer, q: DecodedQuery | null, client: ClientInfo, start: number, zone: ZoneSlot, at = 0): Buffer {
    const rcode = out[at + 3]! & 0xf;
    const seconds = (performance.now() - start) / 1000;
    this.#d.metrics.query(zone, client.transport === 'tcp', client.family, q?.qtype ?? 0, rcode, seconds);
    if (this.#d.logQueries) {
      this.#d.logger.info({ op: 'query', client: client.address, proto: client.transport, qname: q?.qname, qtype: q ? typeName(q.qtype) : undefined, rcode: rcodeName(rcode), ms: +(seconds * 1000).toFixed(3) }, 'query');
    }
    return out;
  }
}
