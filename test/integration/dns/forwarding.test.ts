/**
 * Names outside the zone go to the upstreams, through a positive+negative cache; the ndots:5 search-path
 * suffixes that fall inside our zone are answered NXDOMAIN at once without asking upstream; a dead upstream is
 * marked down and skipped.
 */
import test from 'ava';
import { startFedServer } from './helpers/dnsServerFixture.ts';
import { startFakeUpstream } from './helpers/fakeUpstream.ts';
import { clusterIpService, externalNameService, namespace } from '../../unit/dns/helpers/dnsObjects.ts';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

const objects = () => [namespace('default'), clusterIpService('default', 'web', ['10.96.0.20']), externalNameService('default', 'ext', 'www.example.org')];

test('forwards other names over UDP and TCP and serves repeats from the cache', async (t) => {
  const up = await startFakeUpstream(t);
  const s = await startFedServer(t, objects(), { upstreams: [{ host: '127.0.0.1', port: up.port }] });
  t.deepEqual(await s.short('example.org'), ['192.0.2.1']);
  t.deepEqual(await s.short('example.org'), ['192.0.2.1']);
  t.deepEqual(await s.short('Example.ORG', 'A'), ['192.0.2.1'], 'cache is case-insensitive');
  t.is(up.asked.filter((n) => n === 'example.org').length, 1, 'asked upstream once');
  t.is(await s.status('nosuch.test'), 'NXDOMAIN');
  t.is(await s.status('nosuch.test'), 'NXDOMAIN');
  t.is(up.asked.filter((n) => n === 'nosuch.test').length, 1, 'negative answer cached');
  t.deepEqual(await s.short('tcp.example.org', 'A', ['+tcp']), ['192.0.2.1']);
  const body = await s.server.metrics.registry.metrics();
  t.regex(body, /coredns_cache_hits_total\{[^}]*type="success"[^}]*\} 2/);
  t.regex(body, /coredns_cache_hits_total\{[^}]*type="denial"[^}]*\} 1/);
});

test('ndots:5 search suffixes inside the zone are NXDOMAIN without an upstream round trip', async (t) => {
  const up = await startFakeUpstream(t);
  const s = await startFedServer(t, objects(), { upstreams: [{ host: '127.0.0.1', port: up.port }] });
  for (const suffix of ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']) {
    t.is(await s.status(`example.org.${suffix}`), 'NXDOMAIN', suffix);
  }
  t.deepEqual(up.asked, [], 'upstream never asked');
});

test('ExternalName with an outside target: CNAME followed by the upstream answer', async (t) => {
  const up = await startFakeUpstream(t);
  const s = await startFedServer(t, objects(), { upstreams: [{ host: '127.0.0.1', port: up.port }] });
  const out = await s.kdig(['ext.default.svc.cluster.local', 'A']);
  t.regex(out, /ext\.default\.svc\.cluster\.local\.\s+5\s+IN\s+CNAME\s+www\.example\.org\.\s+www\.example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/);
});

test('a dead upstream is marked down and the live one answers', async (t) => {
  const up = await startFakeUpstream(t);
  const dead = createSocket('udp4'); // bound but never answers
  const deadGot: string[] = [];
  dead.on('message', (m) => deadGot.push(m.toString('latin1')));
  await new Promise<void>((resolve) => dead.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => dead.close());
  const deadPort = (dead.address() as AddressInfo).port;
  const s = await startFedServer(t, objects(), {
    upstreams: [{ host: '127.0.0.1', port: deadPort }, { host: '127.0.0.1', port: up.port }], forwardTimeoutMs: 300,
  });
  const results: string[] = [];
  for (let i = 0; i < 12; i++) results.push((await s.dig(['+short', `n${i}.example.org`])).trim());
  const health = s.server.forwarder!.health();
  t.deepEqual(health.map((h) => h.healthy), [false, true]);
  t.deepEqual(results, Array(12).fill('192.0.2.1'), 'a query the dead upstream drops is retried on the live one');
  t.deepEqual((await s.dig(['+short', 'after.example.org'])).trim(), '192.0.2.1');
  t.false(deadGot.some((q) => q.includes('after')), 'once marked down, queries go straight to the live one');
});

test('no upstreams: other names are REFUSED, cluster names still answered', async (t) => {
  const s = await startFedServer(t, objects());
  t.is(await s.status('example.org'), 'REFUSED');
  t.deepEqual(await s.short('web.default.svc.cluster.local'), ['10.96.0.20']);
});
