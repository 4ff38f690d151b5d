/**
 * @module dns/dnsMetrics — Prometheus metrics under CoreDNS's names and labels, so existing dashboards and the
 * `prometheus.io/port: 9153` habit keep working. The per-query metrics (requests, responses, duration) use
 * fastMetrics.ts with their series bound once per (zone, proto, family, type, rcode) and found by an integer key;
 * the rest are ordinary prom-client metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './fastMetrics.ts';
import { rcodeName, typeName } from './rrTypes.ts';

/** CoreDNS counts these types by name and everything else as "other". */
const NAMED_TYPES = new Set(['A', 'AAAA', 'NS', 'CNAME', 'SOA', 'PTR', 'TXT', 'SRV', 'ANY', 'AXFR', 'IXFR', 'HINFO', 'MX']);
const BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i); // CoreDNS: ExponentialBuckets(0.00025, 2, 16)

export type CacheKind = 'success' | 'denial';
/** 0 = the cluster zone (plugin "kubernetes"), 1 = forwarded (zone ".", plugin "forward"). */
export type ZoneSlot = 0 | 1;

interface QuerySeries { requests: CounterSeries; responses: CounterSeries; duration: HistogramSeries }

export class DnsMetrics {
  readonly registry: Registry;
  readonly #server: string;
  readonly #zones: readonly [string, string];
  readonly #requests: FastCounter;
  readonly #responses: FastCounter;
  readonly #duration: FastHistogram;
  readonly #bound = new Map<number, QuerySeries>();
  readonly #cacheHits: Counter<string>;
  readonly #cacheMisses: Counter<string>;
  readonly #cacheEntries: Gauge<string>;
  readonly #forwardDuration: Histogram<string>;
  readonly #panics: Counter<string>;

  constructor(server: string, zone: string, registry = new Registry()) {
    this.registry = registry;
    this.#server = server;
    this.#zones = [`${zone}.`, '.'];
    const registers = [registry];
    this.#requests = new FastCounter(registry, 'coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', ['server', 'zone', 'view', 'proto', 'family', 'type']);
    this.#responses = new FastCounter(registry, 'coredns_dns_responses_total', 'Counter of response status codes.', ['server', 'zone', 'view', 'rcode', 'plugin']);
    this.#duration = new FastHistogram(registry, 'coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', ['server', 'zone', 'view', 'type'], BUCKETS);
    this.#cacheHits = new Counter({ name: 'coredns_cache_hits_total', help: 'The count of cache hits.', labelNames: ['server', 'type', 'zones', 'view'], registers });
    this.#cacheMisses = new Counter({ name: 'coredns_cache_misses_total', help: 'The count of cache misses.', labelNames: ['server', 'zones', 'view'], registers });
    this.#cacheEntries = new Gauge({ name: 'coredns_cache_entries', help: 'The number of elements in the cache.', labelNames: ['server', 'type', 'zones', 'view'], registers });
    this.#forwardDuration = new Histogram({ name: 'coredns_proxy_request_duration_seconds', help: 'Histogram of the time each request took.', labelNames: ['proxy_name', 'to', 'rcode'], buckets: BUCKETS, registers });
    this.#panics = new Counter({ name: 'coredns_panics_total', help: 'A metrics that counts the number of panics.', registers });
  }

  /** One query answered: request, response rcode and duration, under the zone that answered it. */
  query(zone: ZoneSlot, tcp: boolean, family: 1 | 2, qtype: number, rcode: number, seconds: number): void {
    const key = (qtype & 0xffff) * 256 + (rcode & 0x1f) * 8 + zone * 4 + (tcp ? 2 : 0) + (family - 1);
    let s = this.#bound.get(key);
    if (!s) { s = this.#bind(zone, tcp, family, qtype, rcode); this.#bound.set(key, s); }
    s.requests.value++;
    s.responses.value++;
    this.#duration.observe(s.duration, seconds);
  }

  #bind(zone: ZoneSlot, tcp: boolean, family: 1 | 2, qtype: number, rcode: number): QuerySeries {
    const name = typeName(qtype);
    const type = NAMED_TYPES.has(name) ? name : 'other';
    const z = this.#zones[zone];
    return {
      requests: this.#requests.bind([this.#server, z, '', tcp ? 'tcp' : 'udp', String(family), type]),
      responses: this.#responses.bind([this.#server, z, '', rcodeName(rcode), zone === 0 ? 'kubernetes' : 'forward']),
      duration: this.#duration.bind([this.#server, z, '', type]),
    };
  }

  cacheHit(kind: CacheKind): void {
    this.#cacheHits.labels(this.#server, kind, '.', '').inc();
  }

  cacheMiss(): void {
    this.#cacheMisses.labels(this.#server, '.', '').inc();
  }

  cacheSize(entries: number): void {
    this.#cacheEntries.labels(this.#server, 'success', '.', '').set(entries);
  }

  forwarded(to: string, rcode: number, seconds: number): void {
    this.#forwardDuration.labels('forward', to, rcodeName(rcode)).observe(seconds);
  }

  panic(): void {
    this.#panics.inc();
  }
}
