import test from 'ava';
import dnsPacket from 'dns-packet';
import { ForwardCache } from '../../../src/dns/forwardCache.ts';

function response(rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL', answers: dnsPacket.Answer[], authorities: dnsPacket.Answer[] = [], tc = false): Buffer {
  return Buffer.from(dnsPacket.encode({
    type: 'response', id: 1, flags: (tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | dnsPacket.RECURSION_AVAILABLE | { NOERROR: 0, NXDOMAIN: 3, SERVFAIL: 2 }[rcode],
    questions: [{ name: 'example.org', type: 'A', class: 'IN' }], answers, authorities,
  } as dnsPacket.Packet));
}

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

const opts = { maxEntries: 3, maxPositiveTtl: 3600, maxNegativeTtl: 1800, defaultNegativeTtl: 5 };

test('positive answers live for their smallest TTL and come back with TTLs lowered by their age', (t) => {
  const c = clock();
  const cache = new ForwardCache({ ...opts, now: c.now });
  cache.store('k', response('NOERROR', [{ name: 'example.org', type: 'A', ttl: 30, data: '192.0.2.1' }, { name: 'example.org', type: 'A', ttl: 60, data: '192.0.2.2' }]));
  c.advance(10_000);
  const hit = dnsPacket.decode(cache.lookup('k')!);
  t.deepEqual(hit.answers!.map((a) => (a as { ttl: number }).ttl), [20, 50]);
  c.advance(20_000);
  t.is(cache.lookup('k'), null, 'expired at the smallest TTL');
});

test('negative answers live for the SOA minimum; SERVFAIL and truncated answers are not kept', (t) => {
  const c = clock();
  const cache = new ForwardCache({ ...opts, now: c.now });
  const soa = { name: 'org', type: 'SOA', ttl: 900, data: { mname: 'a.org', rname: 'h.org', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } } as dnsPacket.Answer;
  cache.store('nx', response('NXDOMAIN', [], [soa]));
  cache.store('sf', response('SERVFAIL', []));
  cache.store('tc', response('NOERROR', [{ name: 'example.org', type: 'A', ttl: 30, data: '192.0.2.1' }], [], true));
  t.truthy(cache.lookup('nx'));
  t.is(cache.lookup('sf'), null);
  t.is(cache.lookup('tc'), null);
  c.advance(61_000);
  t.is(cache.lookup('nx'), null);
});

test('bounded: the oldest entry goes when full', (t) => {
  const cache = new ForwardCache(opts);
  for (const k of ['a', 'b', 'c', 'd']) cache.store(k, response('NOERROR', [{ name: 'example.org', type: 'A', ttl: 30, data: '192.0.2.1' }]));
  t.is(cache.size, 3);
  t.is(cache.lookup('a'), null);
  t.truthy(cache.lookup('d'));
});
