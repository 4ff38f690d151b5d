import test from 'ava';
import dnsPacket from 'dns-packet';
import { silentLogger } from '../../../src/common/logger.ts';
import { DnsMetrics } from '../../../src/dns/dnsMetrics.ts';
import { ForwardCache } from '../../../src/dns/forwardCache.ts';
import { QueryHandler } from '../../../src/dns/queryHandler.ts';
import { RecordIndex } from '../../../src/dns/recordIndex.ts';
import { ZoneResolver } from '../../../src/dns/zoneResolver.ts';
import { clusterIpService, endpoint, headlessService, slice } from './helpers/dnsObjects.ts';

function makeHandler() {
  const index = new RecordIndex({ zone: 'cluster.local', pods: 'insecure' });
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20'], [{ name: 'http', port: 80, protocol: 'TCP' }]));
  index.applyService('added', headlessService('default', 'h', [{ name: 'p', port: 1, protocol: 'TCP' }]));
  index.applyEndpointSlice('added', slice('default', 'h', 'h1', Array.from({ length: 50 }, (_, i) => endpoint(`10.244.0.${i + 1}`)), [{ name: 'p', port: 1 }]));
  index.markSynced();
  const handler = new QueryHandler({
    index, resolver: new ZoneResolver(index, { ttl: 5 }), forwarder: null,
    cache: new ForwardCache({ maxEntries: 100, maxPositiveTtl: 3600, maxNegativeTtl: 1800, defaultNegativeTtl: 5 }),
    metrics: new DnsMetrics('dns://test', 'cluster.local'), logger: silentLogger, logQueries: false, maxTemplates: 64,
  });
  return { index, handler };
}

/** xorshift32: the fuzz run is the same every time, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >> 17; s ^= s << 5; s >>>= 0; return s / 0x100000000; };
}

const SEEDS = ['web.default.svc.cluster.local', 'h.default.svc.cluster.local', '_p._tcp.h.default.svc.cluster.local', '1-2-3-4.default.pod.cluster.local', 'example.com', '20.0.96.10.in-addr.arpa'];
const TYPES: dnsPacket.RecordType[] = ['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'ANY' as dnsPacket.RecordType, 'SOA'];

test('bounded fuzz: 20,000 mutated queries never throw; replies echo the ID; replies to intact queries parse', async (t) => {
  const { handler } = makeHandler();
  const rand = rng(0x5eed);
  const client = { transport: 'udp' as const, family: 1 as const, address: '127.0.0.1' };
  let replies = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = Buffer.from(dnsPacket.encode({
      type: 'query', id: i & 0xffff, flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: SEEDS[i % SEEDS.length]!, type: TYPES[i % TYPES.length]!, class: 'IN' }],
      additionals: i % 2 ? [{ type: 'OPT', name: '.', udpPayloadSize: 512 + (i % 4000), flags: 0, options: [] } as unknown as dnsPacket.Answer] : [],
    }));
    let msg: Buffer = base;
    const mode = i % 4;
    if (mode === 1) { msg = Buffer.from(base); for (let k = 0; k < 3; k++) msg[Math.floor(rand() * msg.length)] = Math.floor(rand() * 256); }
    if (mode === 2) msg = base.subarray(0, Math.floor(rand() * base.length));
    if (mode === 3) msg = Buffer.from(Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)));
    const r = await handler.handle(msg, client);
    if (r === null) continue;
    replies++;
    t.is(r.readUInt16BE(0), msg.readUInt16BE(0));
    t.true((r[2]! & 0x80) !== 0, 'QR set');
    if (mode === 0) t.notThrows(() => dnsPacket.decode(r));
  }
  t.true(replies > 5_000);
});

test('answers change with the first query after an index change (template cache keyed by generation)', async (t) => {
  const { index, handler } = makeHandler();
  const client = { transport: 'udp' as const, family: 1 as const, address: '127.0.0.1' };
  const q = Buffer.from(dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }] }));
  const first = dnsPacket.decode((await handler.handle(q, client))!);
  t.is((first.answers![0] as { data: string }).data, '10.96.0.20');
  index.applyService('modified', clusterIpService('default', 'web', ['10.96.0.99']));
  const second = dnsPacket.decode((await handler.handle(q, client))!);
  t.is((second.answers![0] as { data: string }).data, '10.96.0.99');
  index.applyService('deleted', clusterIpService('default', 'web', ['10.96.0.99']));
  t.is((await handler.handle(q, client))![3]! & 0xf, 3, 'NXDOMAIN');
  // a cached NXDOMAIN for a name that a later event creates (precise invalidation, not a full clear)
  const other = Buffer.from(dnsPacket.encode({ type: 'query', id: 10, questions: [{ name: 'new.default.svc.cluster.local', type: 'A', class: 'IN' }] }));
  t.is((await handler.handle(other, client))![3]! & 0xf, 3);
  const before = index.generation;
  index.applyService('added', clusterIpService('default', 'new', ['10.96.0.77']));
  t.not(index.changesSince(before), 'all');
  t.is((dnsPacket.decode((await handler.handle(other, client))!).answers![0] as { data: string }).data, '10.96.0.77');
});
