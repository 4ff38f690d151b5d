import test from 'ava';
import dnsPacket from 'dns-packet';
import { decodeQuery, readName } from '../../../src/dns/queryDecoder.ts';
import { buildTemplate, errorResponse, stampTemplate } from '../../../src/dns/responseTemplate.ts';
import { RRType, Rcode, type Resolution } from '../../../src/dns/rrTypes.ts';

function query(name: string, type: dnsPacket.RecordType, opts: { id?: number; udpSize?: number; ednsVersion?: number } = {}): Buffer {
  return Buffer.from(dnsPacket.encode({
    type: 'query', id: opts.id ?? 4242, flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: opts.udpSize ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.udpSize, extendedRcode: 0, ednsVersion: opts.ednsVersion ?? 0, flags: 0, options: [] } as unknown as dnsPacket.Answer] : [],
  }));
}

function decoded(buf: Buffer) {
  const r = decodeQuery(buf);
  if (!r.ok) throw new Error('expected a query');
  return r.query;
}

const zone = 'cluster.local';
const soa = { name: zone, ttl: 5, data: { type: RRType.SOA, soa: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: 7, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } } } as const;

test('decoder: question lower-cased, EDNS size and version read', (t) => {
  const q = decoded(query('Web.Default.SVC.cluster.local', 'AAAA', { udpSize: 1232 }));
  t.is(q.qname, 'web.default.svc.cluster.local');
  t.is(q.qtype, RRType.AAAA);
  t.is(q.id, 4242);
  t.deepEqual(q.edns, { udpSize: 1232, version: 0, dnssecOk: false });
  t.false(q.qnameCompressed);
});

test('decoder: malformed input is a drop or FORMERR, never a throw', (t) => {
  t.deepEqual(decodeQuery(Buffer.alloc(5)), { ok: false, drop: 'short' });
  const resp = query('a.b', 'A');
  resp[2] = resp[2]! | 0x80;
  t.deepEqual(decodeQuery(resp), { ok: false, drop: 'response' });
  // a name that points at itself
  const loop = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  t.like(decodeQuery(loop), { ok: false, formerr: true });
  // a pointer forwards
  const fwd = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 16, 0, 1, 0, 1, 0]);
  t.like(decodeQuery(fwd), { ok: false, formerr: true });
  // label runs past the end
  t.like(decodeQuery(Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 40, 97, 98])), { ok: false, formerr: true });
  // 65535 additional records claimed, none present
  const huge = query('a.b', 'A');
  huge.writeUInt16BE(0xffff, 10);
  t.like(decodeQuery(huge), { ok: false, formerr: true });
  // two questions
  const two = query('a.b', 'A');
  two.writeUInt16BE(2, 4);
  t.like(decodeQuery(two), { ok: false, formerr: true });
  // a name longer than 255 bytes
  const long = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...Array.from({ length: 5 }, () => Buffer.from([60, ...Buffer.alloc(60, 97)])), Buffer.from([0, 0, 1, 0, 1])]);
  t.like(decodeQuery(long), { ok: false, formerr: true });
  t.is(readName(Buffer.from([3, 0x41, 0x2e, 0x00, 0]), 0)?.name, 'a\\046\\000', 'odd bytes escaped, never confused with a dot');
});

test('template: compressed, decodable, ID/RD/case stamped, OPT echoed', (t) => {
  const res: Resolution = {
    rcode: Rcode.NOERROR, authoritative: true,
    answer: [{ name: 'web.default.svc.cluster.local', ttl: 5, data: { type: RRType.A, address: '10.96.0.20' } }],
    authority: [], additional: [],
  };
  const tpl = buildTemplate({ qname: 'web.default.svc.cluster.local', qtype: RRType.A, qclass: 1 }, res);
  const raw = query('WEB.default.svc.Cluster.Local', 'A', { id: 777, udpSize: 4096 });
  const out = stampTemplate(tpl, decoded(raw), raw, 4096);
  const p = dnsPacket.decode(out);
  t.is(p.id, 777);
  t.true(p.flag_rd && p.flag_aa && p.flag_qr);
  t.is(p.questions![0]!.name, 'WEB.default.svc.Cluster.Local');
  t.is(p.answers![0]!.name, 'WEB.default.svc.Cluster.Local', 'owner compressed onto the question');
  t.is((p.answers![0] as { data: string }).data, '10.96.0.20');
  t.is(p.additionals![0]!.type, 'OPT');
  t.is(out.length, 12 + 31 + 4 + (2 + 10 + 4) + 11, 'answer owner is a 2-byte pointer');
});

test('template: too big for the requester drops additional first, then sets TC', (t) => {
  const answer = Array.from({ length: 60 }, (_, i) => ({ name: 'h.default.svc.cluster.local', ttl: 5, data: { type: RRType.A, address: `10.244.0.${i}` } } as const));
  const res: Resolution = { rcode: 0, authoritative: true, answer, authority: [], additional: answer.slice(0, 10) };
  const tpl = buildTemplate({ qname: 'h.default.svc.cluster.local', qtype: RRType.A, qclass: 1 }, res);
  const raw = query('h.default.svc.cluster.local', 'A');
  const q = decoded(raw);
  const small = dnsPacket.decode(stampTemplate(tpl, q, raw, 512));
  t.true(small.flag_tc);
  t.is(small.answers!.length, 0);
  const mid = dnsPacket.decode(stampTemplate(tpl, q, raw, tpl.lengthWithoutAdditional));
  t.false(mid.flag_tc);
  t.is(mid.answers!.length, 60);
  t.is(mid.additionals!.length, 0);
  const full = dnsPacket.decode(stampTemplate(tpl, q, raw, 65535));
  t.is(full.additionals!.length, 10);
});

test('negative template carries SOA; error responses echo the question and BADVERS goes in OPT', (t) => {
  const tpl = buildTemplate({ qname: 'x.cluster.local', qtype: RRType.A, qclass: 1 }, { rcode: Rcode.NXDOMAIN, authoritative: true, answer: [], authority: [soa], additional: [] });
  const raw = query('x.cluster.local', 'A');
  const bytes = stampTemplate(tpl, decoded(raw), raw, 512);
  const p = dnsPacket.decode(bytes);
  t.is(bytes[3]! & 0xf, Rcode.NXDOMAIN);
  t.is(p.authorities![0]!.type, 'SOA');
  const bad = query('x.cluster.local', 'A', { udpSize: 1232, ednsVersion: 1 });
  const e = errorResponse(decoded(bad), bad, Rcode.BADVERS);
  t.is(e[3]! & 0xf, 0);
  t.is(e[e.length - 11 + 5], 1, 'extended rcode 1 = BADVERS (16)');
  t.is(dnsPacket.decode(e).questions![0]!.name, 'x.cluster.local');
});
