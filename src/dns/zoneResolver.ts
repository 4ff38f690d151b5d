/**
 * @module dns/zoneResolver — decides the answer for a question inside the cluster zone (and the reverse zones)
 * from the record index. Pure: no I/O, no encoding.
 *
 * NXDOMAIN vs NODATA (kubernetes/dns spec 1.1.0 + CoreDNS, minus its RFC 8020 quirks):
 * - a name with records of another type, an empty non-terminal (`_tcp.<svc>…`), the apex, `svc.<zone>`,
 *   `pod.<zone>`, `<ns>.svc.<zone>` / `<ns>.pod.<zone>` of an existing namespace, `dns-version.<zone>` for non-TXT:
 *   NOERROR with no answer and the zone SOA in authority;
 * - anything else in the zone, including a headless Service without ready endpoints and wildcard labels
 *   (`*`, `any`; CoreDNS dropped wildcards in 1.9): NXDOMAIN with the SOA.
 * - Reverse names we hold no PTR for are not ours: they go to the upstreams (CoreDNS `fallthrough in-addr.arpa
 *   ip6.arpa`), so host PTRs still resolve.
 */
import { ipFromDashedLabel, isInZone, labelsAbove } from './dnsNames.ts';
import type { NameRecords, ZoneIndex } from './zoneIndex.ts';
import { RRType, Rcode, type ResourceRecord, type Resolution } from './rrTypes.ts';

export const DNS_SCHEMA_VERSION = '1.1.0';
const DNS_VERSION_TTL = 28800;
const MAX_CNAME_CHAIN = 8;

export interface ZoneConfig {
  /** TTL of every record (CoreDNS `ttl`, default 5 s); also the SOA minimum, so NXDOMAIN is cached as briefly. */
  ttl: number;
}

export type ZoneDecision =
  | { kind: 'notOurs' }
  | { kind: 'answer'; resolution: Resolution; chase?: { name: string; qtype: number } };

const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'];

export class ZoneResolver {
  readonly #index: ZoneIndex;
  readonly #ttl: number;
  readonly #zone: string;

  constructor(index: ZoneIndex, cfg: ZoneConfig) {
    this.#index = index;
    this.#ttl = cfg.ttl;
    this.#zone = index.zone;
  }

  resolve(qname: string, qtype: number): ZoneDecision {
    if (!isInZone(qname, this.#zone)) {
      const rev = REVERSE_ZONES.find((z) => isInZone(qname, z));
      if (!rev || !this.#index.has(qname)) return { kind: 'notOurs' };
      if (qtype === RRType.AXFR || qtype === RRType.IXFR) return this.#refused();
      return this.#fromRecords(qname, qtype, this.#index.lookup(qname)!, rev, 0);
    }
    if (qtype === RRType.AXFR || qtype === RRType.IXFR) return this.#refused();
    if (!this.#index.synced) return this.#negative(Rcode.SERVFAIL, this.#zone);
    return this.#resolveInZone(qname, qtype, 0);
  }

  #resolveInZone(qname: string, qtype: number, depth: number): ZoneDecision {
    const zone = this.#zone;
    const labels = labelsAbove(qname, zone);
    if (labels.length === 0) return this.#apex(qtype);
    const rec = this.#index.lookup(qname);
    if (rec) return this.#fromRecords(qname, qtype, rec, zone, depth);
    if (qname === `dns-version.${zone}`) {
      return qtype === RRType.TXT || qtype === RRType.ANY
        ? this.#positive([{ name: qname, ttl: DNS_VERSION_TTL, data: { type: RRType.TXT, text: DNS_SCHEMA_VERSION } }])
        : this.#nodata(zone);
    }
    if (qname === `ns.dns.${zone}`) return this.#nameserverAddress(qname, qtype);
    const last = labels[labels.length - 1]!;
    if (labels.length === 1 && (last === 'svc' || last === 'pod' || last === 'dns')) return this.#nodata(zone);
    if (last === 'svc' || last === 'pod') {
      const ns = labels[labels.length - 2]!;
      if (!this.#index.namespaceExists(ns)) return this.#negative(Rcode.NXDOMAIN, zone);
      if (labels.length === 2) return this.#nodata(zone);
      if (last === 'pod' && labels.length === 3 && this.#index.pods === 'insecure') {
        return this.#insecurePod(qname, qtype, labels[0]!);
      }
    }
    return this.#negative(Rcode.NXDOMAIN, zone);
  }

  #fromRecords(qname: string, qtype: number, rec: NameRecords, zone: string, depth: number): ZoneDecision {
    const ttl = this.#ttl;
    if (rec.cname && qtype !== RRType.CNAME) {
      const cname: ResourceRecord = { name: qname, ttl, data: { type: RRType.CNAME, target: rec.cname } };
      return this.#chase(cname, rec.cname, qtype, depth);
    }
    const answer: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    const any = qtype === RRType.ANY;
    if (rec.cname && (qtype === RRType.CNAME)) answer.push({ name: qname, ttl, data: { type: RRType.CNAME, target: rec.cname } });
    if (qtype === RRType.A || any) for (const address of rec.a) answer.push({ name: qname, ttl, data: { type: RRType.A, address } });
    if (qtype === RRType.AAAA || any) for (const address of rec.aaaa) answer.push({ name: qname, ttl, data: { type: RRType.AAAA, address } });
    if (qtype === RRType.PTR || any) for (const target of rec.ptr) answer.push({ name: qname, ttl, data: { type: RRType.PTR, target } });
    if (qtype === RRType.SRV || any) {
      for (const srv of rec.srv) answer.push({ name: qname, ttl, data: { type: RRType.SRV, srv } });
      this.#srvAdditional(rec, additional);
    }
    if (answer.length === 0) return this.#nodata(zone);
    return { kind: 'answer', resolution: { rcode: Rcode.NOERROR, authoritative: true, answer, authority: [], additional } };
  }

  /** RFC 2782 suggests the targets' addresses in the additional section; CoreDNS adds them too. */
  #srvAdditional(rec: NameRecords, additional: ResourceRecord[]): void {
    const seen = new Set<string>();
    for (const srv of rec.srv) {
      if (seen.has(srv.target)) continue;
      seen.add(srv.target);
      const t = this.#index.lookup(srv.target);
      if (!t) continue;
      for (const address of t.a) additional.push({ name: srv.target, ttl: this.#ttl, data: { type: RRType.A, address } });
      for (const address of t.aaaa) additional.push({ name: srv.target, ttl: this.#ttl, data: { type: RRType.AAAA, address } });
    }
  }

  /** CNAME first, then the target's records when it is in the zone; an outside target is left to the caller. */
  #chase(cname: ResourceRecord, target: string, qtype: number, depth: number): ZoneDecision {
    const done = (r: Resolution): ZoneDecision => ({ kind: 'answer', resolution: { ...r, answer: [cname, ...r.answer] } });
    if (!isInZone(target, this.#zone)) {
      const base: Resolution = { rcode: Rcode.NOERROR, authoritative: true, answer: [cname], authority: [], additional: [] };
      return qtype === RRType.ANY ? { kind: 'answer', resolution: base } : { kind: 'answer', resolution: base, chase: { name: target, qtype } };
    }
    if (depth >= MAX_CNAME_CHAIN) return done({ rcode: Rcode.SERVFAIL, authoritative: true, answer: [], authority: [], additional: [] });
    const next = this.#resolveInZone(target, qtype, depth + 1);
    if (next.kind !== 'answer') return next;
    const r = next.resolution;
    return { kind: 'answer', resolution: { ...r, answer: [cname, ...r.answer] }, ...(next.chase ? { chase: next.chase } : {}) };
  }

  #apex(qtype: number): ZoneDecision {
    const zone = this.#zone;
    const answer: ResourceRecord[] = [];
    if (qtype === RRType.SOA || qtype === RRType.ANY) answer.push(this.soa(zone));
    if (qtype === RRType.NS || qtype === RRType.ANY) answer.push({ name: zone, ttl: this.#ttl, data: { type: RRType.NS, target: `ns.dns.${zone}` } });
    if (answer.length === 0) return this.#nodata(zone);
    const additional = qtype === RRType.NS ? this.#nameserverRecords(`ns.dns.${zone}`, RRType.ANY) : [];
    return { kind: 'answer', resolution: { rcode: Rcode.NOERROR, authoritative: true, answer, authority: [], additional } };
  }

  /** `ns.dns.<zone>` has the addresses of the kube-dns Service when there is one (CoreDNS answers its own IP). */
  #nameserverRecords(name: string, qtype: number): ResourceRecord[] {
    const svc = this.#index.lookup(`kube-dns.kube-system.svc.${this.#zone}`);
    if (!svc) return [];
    const out: ResourceRecord[] = [];
    if (qtype !== RRType.AAAA) for (const address of svc.a) out.push({ name, ttl: this.#ttl, data: { type: RRType.A, address } });
    if (qtype !== RRType.A) for (const address of svc.aaaa) out.push({ name, ttl: this.#ttl, data: { type: RRType.AAAA, address } });
    return out;
  }

  #nameserverAddress(qname: string, qtype: number): ZoneDecision {
    const answer = qtype === RRType.A || qtype === RRType.AAAA || qtype === RRType.ANY ? this.#nameserverRecords(qname, qtype) : [];
    return answer.length ? this.#positive(answer) : this.#nodata(this.#zone);
  }

  #insecurePod(qname: string, qtype: number, label: string): ZoneDecision {
    const ip = ipFromDashedLabel(label);
    if (!ip) return this.#negative(Rcode.NXDOMAIN, this.#zone);
    const v6 = ip.includes(':');
    const wanted = qtype === RRType.ANY || qtype === (v6 ? RRType.AAAA : RRType.A);
    if (!wanted) return this.#nodata(this.#zone);
    const data = v6 ? { type: RRType.AAAA, address: ip } as const : { type: RRType.A, address: ip } as const;
    return this.#positive([{ name: qname, ttl: this.#ttl, data }]);
  }

  /** The SOA of `zone` as CoreDNS writes it; the serial is the time of the last change. */
  soa(zone: string): ResourceRecord {
    return {
      name: zone, ttl: this.#ttl,
      data: {
        type: RRType.SOA,
        soa: {
          mname: `ns.dns.${this.#zone}`, rname: `hostmaster.${this.#zone}`, serial: this.#index.serial,
          refresh: 7200, retry: 1800, expire: 86400, minimum: this.#ttl,
        },
      },
    };
  }

  #positive(answer: ResourceRecord[]): ZoneDecision {
    return { kind: 'answer', resolution: { rcode: Rcode.NOERROR, authoritative: true, answer, authority: [], additional: [] } };
  }

  #nodata(zone: string): ZoneDecision {
    return this.#negative(Rcode.NOERROR, zone);
  }

  #negative(rcode: number, zone: string): ZoneDecision {
    return { kind: 'answer', resolution: { rcode, authoritative: true, answer: [], authority: [this.soa(zone)], additional: [] } };
  }

  #refused(): ZoneDecision {
    return { kind: 'answer', resolution: { rcode: Rcode.REFUSED, authoritative: false, answer: [], authority: [], additional: [] } };
  }
}
