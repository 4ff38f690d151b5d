/**
 * Every record rule of the Kubernetes DNS specification, asked with the real `dig` and `kdig` over UDP and TCP
 * against the server on 127.0.0.1, fed by a MemoryStore through the store informers.
 */
import test from 'ava';
import { startOpsServer } from '../../../src/common/opsServer.ts';
import { startFedServer } from './helpers/dnsServerFixture.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, namespace, pod, slice } from '../../unit/dns/helpers/dnsObjects.ts';

const objects = () => [
  namespace('default'), namespace('apps'), namespace('quiet'),
  clusterIpService('default', 'web', ['10.96.0.20', 'fd00:96::20'], [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }], { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] }),
  clusterIpService('default', 'v4only', ['10.96.0.21'], [{ port: 8080, protocol: 'TCP' }]),
  headlessService('apps', 'nginx', [{ name: 'web', port: 80, protocol: 'TCP' }]),
  slice('apps', 'nginx', 'nginx-a', [endpoint('10.244.1.5', { hostname: 'web-0' }), endpoint('10.244.2.6'), endpoint('10.244.2.7', { ready: false })], [{ name: 'web', port: 8080 }]),
  slice('apps', 'nginx', 'nginx-b', [endpoint('fd00:244::8', { hostname: 'web-1' })], [{ name: 'web', port: 8080 }], 'IPv6'),
  headlessService('apps', 'empty', [{ name: 'web', port: 80, protocol: 'TCP' }]),
  headlessService('apps', 'pnra', [], { publishNotReadyAddresses: true }),
  slice('apps', 'pnra', 'pnra-a', [endpoint('10.244.3.1', { ready: false })]),
  externalNameService('default', 'alias', 'web.default.svc.cluster.local'),
  externalNameService('default', 'ext', 'example.org'),
  pod('apps', 'p1', ['10.244.1.5']),
];

test('ClusterIP Service: A, AAAA, NODATA for the missing family, SRV per named port, case kept', async (t) => {
  const s = await startFedServer(t, objects());
  t.deepEqual(await s.short('web.default.svc.cluster.local'), ['10.96.0.20']);
  t.deepEqual(await s.short('web.default.svc.cluster.local', 'AAAA', ['+tcp']), ['fd00:96::20']);
  t.is(await s.status('v4only.default.svc.cluster.local', 'AAAA'), 'NOERROR');
  t.deepEqual(await s.short('v4only.default.svc.cluster.local', 'AAAA'), []);
  const srv = await s.kdig(['_http._tcp.web.default.svc.cluster.local', 'SRV']);
  t.regex(srv, /_http\._tcp\.web\.default\.svc\.cluster\.local\.\s+5\s+IN\s+SRV\s+0 100 80 web\.default\.svc\.cluster\.local\./);
  t.regex(srv, /ADDITIONAL SECTION:[\s\S]*web\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.20/);
  t.deepEqual(await s.short('_dns._udp.web.default.svc.cluster.local', 'SRV'), ['0 100 53 web.default.svc.cluster.local.']);
  t.is(await s.status('_http._udp.web.default.svc.cluster.local', 'SRV'), 'NXDOMAIN');
  const mixed = await s.dig(['+noall', '+answer', '+question', 'WeB.DeFault.SVC.cluster.LOCAL', 'A']);
  t.regex(mixed, /;WeB\.DeFault\.SVC\.cluster\.LOCAL\.\s+IN\s+A/);
  t.regex(mixed, /WeB\.DeFault\.SVC\.cluster\.LOCAL\.\s+5\s+IN\s+A\s+10\.96\.0\.20/);
});

test('headless Service: ready endpoints, hostnames, dashed IPs, SRV per endpoint, NXDOMAIN without endpoints, PNRA', async (t) => {
  const s = await startFedServer(t, objects());
  t.deepEqual(await s.short('nginx.apps.svc.cluster.local'), ['10.244.1.5', '10.244.2.6']);
  t.deepEqual(await s.short('nginx.apps.svc.cluster.local', 'AAAA'), ['fd00:244::8']);
  t.deepEqual(await s.short('web-0.nginx.apps.svc.cluster.local'), ['10.244.1.5']);
  t.deepEqual(await s.short('web-1.nginx.apps.svc.cluster.local', 'AAAA'), ['fd00:244::8']);
  t.deepEqual(await s.short('10-244-2-6.nginx.apps.svc.cluster.local'), ['10.244.2.6']);
  t.is(await s.status('10-244-2-7.nginx.apps.svc.cluster.local'), 'NXDOMAIN', 'not ready');
  t.deepEqual(await s.short('_web._tcp.nginx.apps.svc.cluster.local', 'SRV', ['+tcp']), [
    '0 33 8080 10-244-2-6.nginx.apps.svc.cluster.local.', '0 33 8080 web-0.nginx.apps.svc.cluster.local.', '0 33 8080 web-1.nginx.apps.svc.cluster.local.',
  ]);
  t.is(await s.status('empty.apps.svc.cluster.local'), 'NXDOMAIN', 'headless without ready endpoints (spec 2.4.1)');
  t.deepEqual(await s.short('pnra.apps.svc.cluster.local'), ['10.244.3.1'], 'publishNotReadyAddresses');
});

test('PTR for ClusterIPs and headless endpoints, IPv4 and IPv6 (dig -x, kdig -x)', async (t) => {
  const s = await startFedServer(t, objects());
  t.deepEqual(await s.short('', '', ['-x', '10.96.0.20']), ['web.default.svc.cluster.local.']);
  t.deepEqual(await s.short('', '', ['-x', 'fd00:96::20']), ['web.default.svc.cluster.local.']);
  t.deepEqual(await s.short('', '', ['-x', '10.244.1.5']), ['web-0.nginx.apps.svc.cluster.local.']);
  t.regex(await s.kdig(['-x', 'fd00:244::8']), /PTR\s+web-1\.nginx\.apps\.svc\.cluster\.local\./);
});

test('ExternalName: CNAME, in-zone target resolved in the same answer; names below it NXDOMAIN', async (t) => {
  const s = await startFedServer(t, objects());
  const a = await s.kdig(['alias.default.svc.cluster.local', 'A']);
  t.regex(a, /alias\.default\.svc\.cluster\.local\.\s+5\s+IN\s+CNAME\s+web\.default\.svc\.cluster\.local\.\s+web\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.20/);
  t.deepEqual(await s.short('ext.default.svc.cluster.local', 'CNAME'), ['example.org.']);
  t.is(await s.status('x.ext.default.svc.cluster.local'), 'NXDOMAIN');
});

test('zone apex SOA and NS, dns-version TXT, NXDOMAIN vs NODATA, wildcards unsupported', async (t) => {
  const s = await startFedServer(t, objects());
  t.regex((await s.short('cluster.local', 'SOA'))[0]!, /^ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/);
  t.deepEqual(await s.short('cluster.local', 'NS'), ['ns.dns.cluster.local.']);
  t.deepEqual(await s.short('dns-version.cluster.local', 'TXT'), ['"1.1.0"']);
  const nodata = ['cluster.local', 'svc.cluster.local', 'default.svc.cluster.local', 'quiet.svc.cluster.local', 'dns-version.cluster.local', '_tcp.web.default.svc.cluster.local'];
  for (const n of nodata) t.is(await s.status(n), 'NOERROR', n);
  const nx = ['nope.default.svc.cluster.local', 'missing.svc.cluster.local', 'web.default.bogus.cluster.local', '*.default.svc.cluster.local', 'any.apps.svc.cluster.local'];
  for (const n of nx) t.is(await s.status(n), 'NXDOMAIN', n);
  const neg = await s.dig(['nope.default.svc.cluster.local']);
  t.regex(neg, /AUTHORITY SECTION:\s+cluster\.local\.\s+5\s+IN\s+SOA/);
  t.regex(neg, /flags: qr aa rd ra/);
});

test('pod records: verified answers only pods the store knows; insecure any IP in an existing namespace', async (t) => {
  const verified = await startFedServer(t, objects(), { pods: 'verified' });
  t.deepEqual(await verified.short('10-244-1-5.apps.pod.cluster.local'), ['10.244.1.5']);
  t.is(await verified.status('10-244-9-9.apps.pod.cluster.local'), 'NXDOMAIN');
  const insecure = await startFedServer(t, objects(), { pods: 'insecure' });
  t.deepEqual(await insecure.short('10-244-9-9.apps.pod.cluster.local'), ['10.244.9.9']);
  t.is(await insecure.status('10-244-9-9.nosuch.pod.cluster.local'), 'NXDOMAIN');
  const disabled = await startFedServer(t, objects());
  t.is(await disabled.status('10-244-1-5.apps.pod.cluster.local'), 'NXDOMAIN');
});

test('answers follow store changes; big answers truncate over UDP and dig falls back to TCP', async (t) => {
  const s = await startFedServer(t, objects());
  const web = clusterIpService('default', 'web', ['10.96.0.99']);
  const current = await s.store.get('Service', 'web', 'default');
  await s.store.update({ ...web, metadata: { ...web.metadata, resourceVersion: current!.metadata.resourceVersion } });
  t.true(await s.eventually(async () => (await s.short('web.default.svc.cluster.local')).join() === '10.96.0.99'));
  await s.store.delete('Service', 'web', 'default');
  t.true(await s.eventually(async () => (await s.status('web.default.svc.cluster.local')) === 'NXDOMAIN'));

  await s.store.create(headlessService('apps', 'big'));
  await s.store.create(slice('apps', 'big', 'big-a', Array.from({ length: 120 }, (_, i) => endpoint(`10.245.0.${i + 1}`))));
  t.true(await s.eventually(async () => (await s.short('big.apps.svc.cluster.local')).length === 120), 'TCP fallback gives all 120');
  const udpOnly = await s.dig(['+ignore', '+bufsize=1232', 'big.apps.svc.cluster.local']);
  t.regex(udpOnly, /flags: qr aa tc rd ra; QUERY: 1, ANSWER: 0/);
  t.is((await s.kdig(['+tcp', 'big.apps.svc.cluster.local'])).match(/IN\s+A\s+10\.245/g)?.length, 120);
});

test('metrics with CoreDNS names on the ops server', async (t) => {
  const s = await startFedServer(t, objects());
  const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: s.server.metrics.registry });
  t.teardown(() => ops.close());
  await s.short('web.default.svc.cluster.local');
  await s.status('nope.default.svc.cluster.local');
  await s.short('web.default.svc.cluster.local', 'A', ['+tcp']);
  const body = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
  t.regex(body, /coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:0",zone="cluster\.local\.",view="",proto="udp",family="1",type="A"\} 2/);
  t.regex(body, /coredns_dns_requests_total\{[^}]*proto="tcp"[^}]*\} 1/);
  t.regex(body, /coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN",plugin="kubernetes"\} 1/);
  t.regex(body, /coredns_dns_request_duration_seconds_count\{[^}]*type="A"\} 3/);
});

test('EDNS: OPT echoed with our size, unknown EDNS version is BADVERS, other opcodes NOTIMP', async (t) => {
  const s = await startFedServer(t, objects());
  t.regex(await s.dig(['+bufsize=4096', 'web.default.svc.cluster.local']), /EDNS: version: 0, flags:; udp: 1232/);
  t.regex(await s.dig(['+noedns', 'web.default.svc.cluster.local']), /ADDITIONAL: 0/);
  t.regex(await s.kdig(['+edns=1', 'web.default.svc.cluster.local']), /status: BADVERS/);
  t.regex(await s.dig(['+opcode=status', 'web.default.svc.cluster.local']), /status: NOTIMP/);
});
