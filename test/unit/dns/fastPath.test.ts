// The byte-level fast path (fastPath.ts) must answer exactly as the general decoder + name lookup does, for every
// query shape it accepts, and leave every other shape to the general path; an index change must reach it at once.
import test from 'ava';
import dnsPacket from 'dns-packet';
import { silentLogger } from '../../../src/common/logger.ts';
import { DnsMetrics } from '../../../src/dns/dnsMetrics.ts';
import { FastTemplates } from '../../../src/dns/fastPath.ts';
import { ForwardCache } from '../../../src/dns/forwardCache.ts';
import { QueryHandler, type ClientInfo } from '../../../src/dns/queryHandler.ts';
import { RecordIndex } from '../../../src/dns/recordIndex.ts';
import { buildTemplate } from '../../../src/dns/responseTemplate.ts';
import { RRType, Rcode } from '../../../src/dns/rrTypes.ts';
import { ZoneResolver } from '../../../src/dns/zoneResolver.ts';
import { clusterIpService, endpoint, headlessService, namespace, slice } from './helpers/dnsObjects.ts';

interface Q { name: string; type?: dnsPacket.RecordType; id?: number; flags?: number; udpSize?: number; version?: number; dnssecOk?: boolean }

function query(q: Q): Buffer {
  const opt = { type: 'OPT', name: '.', udpPayloadSize: q.udpSize ?? 1232, extendedRcode: 0, ednsVersion: q.version ?? 0, flags: q.dnssecOk ? dnsPacket.DNSSEC_OK : 0, options: [] };
  return Buffer.from(dnsPacket.encode({
    type: 'query', id: q.id ?? 7, flags: q.flags ?? dnsPacket.RECURSION_DESIRED, questions: [{ name: q.name, type: q.type ?? 'A', class: 'IN' }],
    additionals: q.udpSize !== undefined || q.version !== undefined || q.dnssecOk ? [opt as unknown as dnsPacket.Answer] : [],
  }));
}

function handlers() {
  const index = new RecordIndex({ zone: 'cluster.local', pods: 'disabled' });
  index.applyNamespace('added', namespace('default'));
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20', 'fd00::20'], [{ name: 'http', port: 80, protocol: 'TCP' }]));
  index.applyService('added', headlessService('default', 'big'));
  index.applyEndpointSlice('added', slice('default', 'big', 'big-a', Array.from({ length: 60 }, (_, i) => endpoint(`10.244.0.${i + 1}`))));
  index.markSynced();
  const make = (logQueries: boolean) => new QueryHandler({
    index, resolver: new ZoneResolver(index, { ttl: 5 }), forwarder: null, metrics: new DnsMetrics('t', 'cluster.local'),
    cache: new ForwardCache({ maxEntries: 10, maxPositiveTtl: 10, maxNegativeTtl: 10, defaultNegativeTtl: 5 }), logger: silentLogger, logQueries,
  });
  // The query log needs the name as text, so a handler that logs never takes the fast path: the reference.
  return { index, fast: make(false), general: make(true) };
}

const udp: ClientInfo = { transport: 'udp', family: 1, address: '' };
const tcp: ClientInfo = { transport: 'tcp', family: 1, address: '' };

const shapes: Q[] = [
  { name: 'web.default.svc.cluster.local' },
  { name: 'WEB.Default.svc.CLUSTER.local', id: 65535, flags: 0 },
  { name: 'web.default.svc.cluster.local', type: 'AAAA', udpSize: 512, dnssecOk: true },
  { name: 'web.default.svc.cluster.local', type: 'SRV', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED },
  { name: '_http._tcp.Web.default.svc.cluster.local', type: 'SRV', udpSize: 4096 },
  { name: 'nosuch.default.svc.cluster.local', udpSize: 1232 },
  { name: 'big.default.svc.cluster.local' }, // 60 A records: more than 512 bytes, TC
  { name: 'big.default.svc.cluster.local', udpSize: 1232 },
  { name: 'big.default.svc.cluster.local', udpSize: 600 },
  { name: 'cluster.local', type: 'SOA' },
];

test('every accepted shape gets the same bytes as from the general path, over UDP and TCP', (t) => {
  const { fast, general } = handlers();
  for (const q of shapes) {
    for (const client of [udp, tcp]) {
      const msg = query(q);
      const first = fast.handle(Buffer.from(msg), client) as Buffer; // builds the template (general path)
      const hits = fast.fastAnswers;
      const again = fast.handle(Buffer.from(msg), client) as Buffer; // from the bytes
      t.is(fast.fastAnswers, hits + 1, `${q.name} ${q.type ?? 'A'}: the second answer came from the fast path`);
      const reference = general.handle(Buffer.from(msg), client) as Buffer;
      t.deepEqual(first, reference, `${q.name} ${q.type ?? 'A'} first`);
      t.deepEqual(again, reference, `${q.name} ${q.type ?? 'A'} ${client.transport} fast`);
    }
  }
  const big = dnsPacket.decode(fast.handle(query({ name: 'big.default.svc.cluster.local' }), udp) as Buffer);
  t.true((big.flags! & dnsPacket.TRUNCATED_RESPONSE) !== 0, 'sanity: the 512-byte case is truncated');
});

test('into a sink: the answer is written at the offset and handle() returns the sink buffer', (t) => {
  const { fast, general } = handlers();
  const msg = query({ name: 'Web.default.svc.cluster.local', udpSize: 1232 });
  fast.handle(Buffer.from(msg), udp);
  const sink = { buf: Buffer.alloc(4096, 0xee), at: 100, length: 0 };
  t.is(fast.handle(Buffer.from(msg), udp, sink), sink.buf);
  t.is(fast.fastAnswers, 1);
  t.deepEqual(sink.buf.subarray(100, 100 + sink.length), general.handle(Buffer.from(msg), udp) as Buffer);
  t.is(sink.buf[99], 0xee);
  t.is(sink.buf[100 + sink.length], 0xee);
});

test('a store change reaches the next query on the fast path', (t) => {
  const { index, fast } = handlers();
  const msg = query({ name: 'web.default.svc.cluster.local' });
  fast.handle(Buffer.from(msg), udp);
  t.deepEqual(dnsPacket.decode(fast.handle(Buffer.from(msg), udp) as Buffer).answers!.map((a) => (a as { data: string }).data), ['10.96.0.20']);
  t.is(fast.fastAnswers, 1);
  index.applyService('modified', clusterIpService('default', 'web', ['10.96.0.99']));
  t.deepEqual(dnsPacket.decode(fast.handle(Buffer.from(msg), udp) as Buffer).answers!.map((a) => (a as { data: string }).data), ['10.96.0.99']);
});

test('an endpoint change drops only its own name from the fast path; other names stay on it', (t) => {
  const { index, fast } = handlers();
  index.applyEndpointSlice('added', slice('default', 'web', 'web-a', [endpoint('10.244.1.1')]));
  const web = query({ name: 'web.default.svc.cluster.local' });
  const ep = query({ name: '10-244-1-1.web.default.svc.cluster.local' });
  for (const m of [web, ep, web, ep]) fast.handle(Buffer.from(m), udp);
  const hits = fast.fastAnswers;
  index.applyEndpointSlice('modified', slice('default', 'web', 'web-a', [endpoint('10.244.1.1', { ready: false })]));
  fast.handle(Buffer.from(web), udp);
  t.is(fast.fastAnswers, hits + 1, 'the Service name was not touched: still answered from its bytes');
  t.is(dnsPacket.decode(fast.handle(Buffer.from(ep), udp) as Buffer).flags! & 0xf, Rcode.NXDOMAIN, 'the changed name answers anew');
});

test('shapes it does not handle are left to the general path', (t) => {
  const f = new FastTemplates();
  const name = 'web.default.svc.cluster.local';
  f.add(buildTemplate({ qname: name, qtype: RRType.A, qclass: 1 }, { rcode: Rcode.NOERROR, authoritative: true, answer: [], authority: [], additional: [] }));
  t.truthy(f.match(query({ name: 'Web.Default.svc.cluster.local' })), 'the common shape, any letter case');
  t.like(f.query, { id: 7, qtype: RRType.A, edns: null });
  t.truthy(f.match(query({ name, udpSize: 999, dnssecOk: true })));
  t.deepEqual(f.query.edns, { udpSize: 999, version: 0, dnssecOk: true });

  const misses: Array<[string, Buffer]> = [
    ['other type', query({ name, type: 'AAAA' })],
    ['other name', query({ name: 'web.default.svc.cluster.locak' })],
    ['EDNS version 1 (BADVERS)', query({ name, version: 1 })],
    ['a response', Object.assign(query({ name }), {}).fill(0x80, 2, 3)],
    ['opcode STATUS', query({ name }).fill(2 << 3, 2, 3)],
    ['trailing bytes', Buffer.concat([query({ name }), Buffer.from([0])])],
    ['cut short', query({ name }).subarray(0, 30)],
  ];
  const chaos = query({ name });
  chaos.writeUInt16BE(3, chaos.length - 2);
  misses.push(['class CH', chaos]);
  const twoQuestions = query({ name });
  twoQuestions.writeUInt16BE(2, 4);
  misses.push(['QDCOUNT 2', twoQuestions]);
  const compressed = Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x65, 0x62, 0xc0, 12, 0, 1, 0, 1]);
  misses.push(['compression pointer', compressed]);
  const nonOpt = Buffer.from(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: 'A', class: 'IN' }], additionals: [{ name: 'x', type: 'A', data: '1.2.3.4' }] }));
  misses.push(['additional record that is not OPT', nonOpt]);
  for (const [why, msg] of misses) t.is(f.match(msg), undefined, why);
});
