import test from 'ava';
import { RecordIndex, type PodMode } from '../../../src/dns/recordIndex.ts';
import { ZoneResolver } from '../../../src/dns/zoneResolver.ts';
import { RRType, Rcode, type ResourceRecord } from '../../../src/dns/rrTypes.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, namespace, pod, slice } from './helpers/dnsObjects.ts';

const Z = 'cluster.local';

function setup(pods: PodMode = 'disabled') {
  const index = new RecordIndex({ zone: Z, pods });
  const resolver = new ZoneResolver(index, { ttl: 5 });
  index.markSynced();
  return { index, resolver, ask: (name: string, type: keyof typeof RRType) => ask(resolver, name, RRType[type]) };
}

function show(rr: ResourceRecord): string {
  const d = rr.data;
  switch (d.type) {
    case RRType.A: case RRType.AAAA: return `${rr.name} ${d.address}`;
    case RRType.CNAME: case RRType.PTR: case RRType.NS: return `${rr.name} ${d.target}`;
    case RRType.SRV: return `${rr.name} ${d.srv.priority} ${d.srv.weight} ${d.srv.port} ${d.srv.target}`;
    case RRType.TXT: return `${rr.name} "${d.text}"`;
    case RRType.SOA: return `${rr.name} SOA ${d.soa.mname} ${d.soa.minimum}`;
  }
}

function ask(resolver: ZoneResolver, name: string, type: number) {
  const d = resolver.resolve(name, type);
  if (d.kind === 'notOurs') return { rcode: -1, answer: [] as string[], authority: [] as string[], additional: [] as string[], chase: undefined };
  const r = d.resolution;
  return { rcode: r.rcode, answer: r.answer.map(show), authority: r.authority.map(show), additional: r.additional.map(show), chase: d.chase };
}

test('ClusterIP: A and AAAA from clusterIPs, the other family of a single-stack Service is NODATA', (t) => {
  const { index, ask } = setup();
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20', 'fd00::20'], [{ name: 'http', port: 80, protocol: 'TCP' }]));
  index.applyService('added', clusterIpService('default', 'v4only', ['10.96.0.21']));
  t.deepEqual(ask('web.default.svc.cluster.local', 'A').answer, ['web.default.svc.cluster.local 10.96.0.20']);
  t.deepEqual(ask('web.default.svc.cluster.local', 'AAAA').answer, ['web.default.svc.cluster.local fd00::20']);
  const nodata = ask('v4only.default.svc.cluster.local', 'AAAA');
  t.is(nodata.rcode, Rcode.NOERROR);
  t.deepEqual(nodata.answer, []);
  t.deepEqual(nodata.authority, ['cluster.local SOA ns.dns.cluster.local 5']);
});

test('ClusterIP SRV: named ports only, Service port, target the Service, addresses in additional', (t) => {
  const { index, ask } = setup();
  index.applyService('added', clusterIpService('ns1', 'db', ['10.96.0.30'], [
    { name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 }, { port: 9999, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' },
  ]));
  const srv = ask('_pg._tcp.db.ns1.svc.cluster.local', 'SRV');
  t.deepEqual(srv.answer, ['_pg._tcp.db.ns1.svc.cluster.local 0 100 5432 db.ns1.svc.cluster.local']);
  t.deepEqual(srv.additional, ['db.ns1.svc.cluster.local 10.96.0.30']);
  t.deepEqual(ask('_dns._udp.db.ns1.svc.cluster.local', 'SRV').answer, ['_dns._udp.db.ns1.svc.cluster.local 0 100 53 db.ns1.svc.cluster.local']);
  t.is(ask('_pg._udp.db.ns1.svc.cluster.local', 'SRV').rcode, Rcode.NXDOMAIN, 'wrong protocol');
  t.is(ask('_nope._tcp.db.ns1.svc.cluster.local', 'SRV').rcode, Rcode.NXDOMAIN, 'unknown port name');
  const ent = ask('_tcp.db.ns1.svc.cluster.local', 'SRV');
  t.is(ent.rcode, Rcode.NOERROR, 'empty non-terminal is NODATA (RFC 8020)');
  t.deepEqual(ent.answer, []);
  t.is(ask('_pg._tcp.db.ns1.svc.cluster.local', 'A').rcode, Rcode.NOERROR);
  t.deepEqual(ask('_pg._tcp.db.ns1.svc.cluster.local', 'A').answer, [], 'SRV name has no address');
});

test('headless: one A per ready endpoint, NXDOMAIN with none ready, publishNotReadyAddresses admits not-ready', (t) => {
  const { index, ask } = setup();
  index.applyService('added', headlessService('default', 'nginx', [{ name: 'web', port: 80, protocol: 'TCP' }]));
  t.is(ask('nginx.default.svc.cluster.local', 'A').rcode, Rcode.NXDOMAIN, 'no endpoints yet');
  index.applyEndpointSlice('added', slice('default', 'nginx', 'nginx-a', [
    endpoint('10.244.1.5', { hostname: 'web-0' }), endpoint('10.244.2.6'), endpoint('10.244.2.7', { ready: false }),
  ], [{ name: 'web', port: 8080 }]));
  t.deepEqual(ask('nginx.default.svc.cluster.local', 'A').answer.sort(),
    ['nginx.default.svc.cluster.local 10.244.1.5', 'nginx.default.svc.cluster.local 10.244.2.6']);
  t.deepEqual(ask('web-0.nginx.default.svc.cluster.local', 'A').answer, ['web-0.nginx.default.svc.cluster.local 10.244.1.5']);
  t.deepEqual(ask('10-244-2-6.nginx.default.svc.cluster.local', 'A').answer, ['10-244-2-6.nginx.default.svc.cluster.local 10.244.2.6']);
  t.is(ask('10-244-2-7.nginx.default.svc.cluster.local', 'A').rcode, Rcode.NXDOMAIN, 'not-ready endpoint has no name');
  const srv = ask('_web._tcp.nginx.default.svc.cluster.local', 'SRV');
  t.deepEqual(srv.answer.sort(), [
    '_web._tcp.nginx.default.svc.cluster.local 0 50 8080 10-244-2-6.nginx.default.svc.cluster.local',
    '_web._tcp.nginx.default.svc.cluster.local 0 50 8080 web-0.nginx.default.svc.cluster.local',
  ]);
  t.is(srv.additional.length, 2);
  index.applyService('modified', headlessService('default', 'nginx', [{ name: 'web', port: 80, protocol: 'TCP' }], { publishNotReadyAddresses: true }));
  t.is(ask('nginx.default.svc.cluster.local', 'A').answer.length, 3);
  index.applyEndpointSlice('deleted', slice('default', 'nginx', 'nginx-a', []));
  t.is(ask('nginx.default.svc.cluster.local', 'A').rcode, Rcode.NXDOMAIN, 'slice gone');
});

test('PTR: ClusterIPs and headless endpoints, IPv4 and IPv6; hostname-bearing names first', (t) => {
  const { index, ask } = setup();
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20', 'fd00:96::20']));
  index.applyService('added', headlessService('default', 'h'));
  index.applyService('added', headlessService('default', 'g'));
  index.applyEndpointSlice('added', slice('default', 'h', 'h-1', [endpoint('10.244.1.5')]));
  index.applyEndpointSlice('added', slice('default', 'g', 'g-1', [endpoint('10.244.1.5', { hostname: 'db-0' })]));
  index.applyEndpointSlice('added', slice('default', 'h', 'h-2', [endpoint('fd00:244::5', { hostname: 'six' })], [], 'IPv6'));
  t.deepEqual(ask('20.0.96.10.in-addr.arpa', 'PTR').answer, ['20.0.96.10.in-addr.arpa web.default.svc.cluster.local']);
  const v6 = '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa';
  t.deepEqual(ask(v6, 'PTR').answer, [`${v6} web.default.svc.cluster.local`]);
  t.deepEqual(ask('5.1.244.10.in-addr.arpa', 'PTR').answer, [
    '5.1.244.10.in-addr.arpa db-0.g.default.svc.cluster.local', '5.1.244.10.in-addr.arpa 10-244-1-5.h.default.svc.cluster.local',
  ]);
  t.is(ask('5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa', 'PTR').answer.length, 1);
  t.is(ask('9.9.9.9.in-addr.arpa', 'PTR').rcode, -1, 'an address we do not hold goes upstream');
});

test('ExternalName: CNAME, in-zone target chased in the same answer, outside target left to the forwarder', (t) => {
  const { index, ask } = setup();
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20']));
  index.applyService('added', externalNameService('default', 'alias', 'web.default.svc.cluster.local'));
  index.applyService('added', externalNameService('default', 'out', 'example.org'));
  t.deepEqual(ask('alias.default.svc.cluster.local', 'A').answer, [
    'alias.default.svc.cluster.local web.default.svc.cluster.local', 'web.default.svc.cluster.local 10.96.0.20',
  ]);
  t.deepEqual(ask('alias.default.svc.cluster.local', 'CNAME').answer, ['alias.default.svc.cluster.local web.default.svc.cluster.local']);
  const out = ask('out.default.svc.cluster.local', 'A');
  t.deepEqual(out.answer, ['out.default.svc.cluster.local example.org']);
  t.deepEqual(out.chase, { name: 'example.org', qtype: RRType.A });
  t.is(ask('x.out.default.svc.cluster.local', 'A').rcode, Rcode.NXDOMAIN);
  t.is(ask('_p._tcp.out.default.svc.cluster.local', 'SRV').rcode, Rcode.NXDOMAIN);
});

test('NXDOMAIN vs NODATA for the zone structure, dns-version, SOA/NS, wildcards', (t) => {
  const { index, ask } = setup();
  index.applyNamespace('added', namespace('empty'));
  index.applyService('added', clusterIpService('default', 'web', ['10.96.0.20']));
  const cases: Array<[string, keyof typeof RRType, number]> = [
    ['cluster.local', 'A', Rcode.NOERROR],
    ['svc.cluster.local', 'A', Rcode.NOERROR],
    ['pod.cluster.local', 'A', Rcode.NOERROR],
    ['default.svc.cluster.local', 'A', Rcode.NOERROR],
    ['empty.svc.cluster.local', 'A', Rcode.NOERROR],
    ['missing.svc.cluster.local', 'A', Rcode.NXDOMAIN],
    ['nope.default.svc.cluster.local', 'A', Rcode.NXDOMAIN],
    ['nope.empty.svc.cluster.local', 'A', Rcode.NXDOMAIN],
    ['web.default.foo.cluster.local', 'A', Rcode.NXDOMAIN],
    ['a.b.web.default.svc.cluster.local', 'A', Rcode.NXDOMAIN],
    ['*.default.svc.cluster.local', 'A', Rcode.NXDOMAIN],
    ['any.default.svc.cluster.local', 'A', Rcode.NXDOMAIN],
    ['web.default.svc.cluster.local', 'TXT', Rcode.NOERROR],
    ['dns-version.cluster.local', 'A', Rcode.NOERROR],
    ['google.com.default.svc.cluster.local', 'A', Rcode.NXDOMAIN],
  ];
  for (const [name, type, rcode] of cases) {
    const r = ask(name, type);
    t.is(r.rcode, rcode, `${name} ${type}`);
    if (r.answer.length === 0) t.deepEqual(r.authority, ['cluster.local SOA ns.dns.cluster.local 5'], `${name} carries the SOA`);
  }
  t.deepEqual(ask('dns-version.cluster.local', 'TXT').answer, ['dns-version.cluster.local "1.1.0"']);
  t.deepEqual(ask('cluster.local', 'SOA').answer, ['cluster.local SOA ns.dns.cluster.local 5']);
  t.deepEqual(ask('cluster.local', 'NS').answer, ['cluster.local ns.dns.cluster.local']);
  t.is(ask('cluster.local', 'AXFR').rcode, Rcode.REFUSED);
  t.is(ask('example.com', 'A').rcode, -1, 'outside the zone: not ours');
});

test('pods: disabled is NXDOMAIN, insecure answers any IP in an existing namespace, verified only real pods', (t) => {
  const off = setup('disabled');
  off.index.applyNamespace('added', namespace('default'));
  t.is(off.ask('10-244-1-5.default.pod.cluster.local', 'A').rcode, Rcode.NXDOMAIN);

  const insecure = setup('insecure');
  insecure.index.applyNamespace('added', namespace('default'));
  t.deepEqual(insecure.ask('1-2-3-4.default.pod.cluster.local', 'A').answer, ['1-2-3-4.default.pod.cluster.local 1.2.3.4']);
  t.deepEqual(insecure.ask('fd00--5.default.pod.cluster.local', 'AAAA').answer, ['fd00--5.default.pod.cluster.local fd00::5']);
  t.deepEqual(insecure.ask('1-2-3-4.default.pod.cluster.local', 'AAAA').answer, [], 'other family NODATA');
  t.is(insecure.ask('1-2-3-4.nosuchns.pod.cluster.local', 'A').rcode, Rcode.NXDOMAIN);
  t.is(insecure.ask('not-an-ip.default.pod.cluster.local', 'A').rcode, Rcode.NXDOMAIN);

  const verified = setup('verified');
  verified.index.applyPod('added', pod('default', 'p1', ['10.244.1.5', 'fd00:244::5']));
  verified.index.applyPod('added', pod('default', 'p2', ['10.244.1.6'], { deleting: true }));
  t.deepEqual(verified.ask('10-244-1-5.default.pod.cluster.local', 'A').answer, ['10-244-1-5.default.pod.cluster.local 10.244.1.5']);
  t.deepEqual(verified.ask('fd00-244--5.default.pod.cluster.local', 'AAAA').answer, ['fd00-244--5.default.pod.cluster.local fd00:244::5']);
  t.is(verified.ask('10-244-1-6.default.pod.cluster.local', 'A').rcode, Rcode.NXDOMAIN, 'terminating pod');
  t.is(verified.ask('1-2-3-4.default.pod.cluster.local', 'A').rcode, Rcode.NXDOMAIN, 'no such pod');
  verified.index.applyPod('deleted', pod('default', 'p1', ['10.244.1.5']));
  t.is(verified.ask('10-244-1-5.default.pod.cluster.local', 'A').rcode, Rcode.NXDOMAIN);
});

test('events in any order; an update replaces the whole contribution; before sync zone names are SERVFAIL', (t) => {
  const index = new RecordIndex({ zone: Z, pods: 'disabled' });
  const resolver = new ZoneResolver(index, { ttl: 5 });
  t.is(ask(resolver, 'web.default.svc.cluster.local', RRType.A).rcode, Rcode.SERVFAIL);
  index.applyEndpointSlice('added', slice('default', 'h', 'h-1', [endpoint('10.244.1.5')]));
  index.applyService('added', headlessService('default', 'h'));
  index.markSynced();
  t.deepEqual(ask(resolver, 'h.default.svc.cluster.local', RRType.A).answer, ['h.default.svc.cluster.local 10.244.1.5'], 'slice before Service');
  const gen = index.generation;
  index.applyEndpointSlice('modified', slice('default', 'h', 'h-1', [endpoint('10.244.1.9')]));
  t.true(index.generation > gen);
  t.deepEqual(ask(resolver, 'h.default.svc.cluster.local', RRType.A).answer, ['h.default.svc.cluster.local 10.244.1.9']);
  t.is(ask(resolver, '5.1.244.10.in-addr.arpa', RRType.PTR).rcode, -1, 'old PTR gone');
  index.applyEndpointSlice('modified', slice('default', 'other', 'h-1', [endpoint('10.244.1.9')]));
  t.is(ask(resolver, 'h.default.svc.cluster.local', RRType.A).rcode, Rcode.NXDOMAIN, 'slice relabelled to another Service');
  index.applyService('deleted', headlessService('default', 'h'));
  t.is(index.nameCount, 0);
});

test('duplicates across slices are answered once; a dual-stack endpoint is one SRV target with A and AAAA', (t) => {
  const { index, ask } = setup();
  index.applyService('added', headlessService('default', 'ds', [{ name: 'p', port: 1, protocol: 'TCP' }]));
  index.applyEndpointSlice('added', slice('default', 'ds', 'ds-4', [endpoint('10.244.1.5', { hostname: 'a' }), endpoint('10.244.1.6')], [{ name: 'p', port: 7 }]));
  index.applyEndpointSlice('added', slice('default', 'ds', 'ds-4b', [endpoint('10.244.1.6')], [{ name: 'p', port: 7 }]));
  index.applyEndpointSlice('added', slice('default', 'ds', 'ds-6', [endpoint('fd00::5', { hostname: 'a' })], [{ name: 'p', port: 7 }], 'IPv6'));
  t.deepEqual(ask('ds.default.svc.cluster.local', 'A').answer.sort(), ['ds.default.svc.cluster.local 10.244.1.5', 'ds.default.svc.cluster.local 10.244.1.6']);
  const srv = ask('_p._tcp.ds.default.svc.cluster.local', 'SRV');
  t.deepEqual(srv.answer.sort(), [
    '_p._tcp.ds.default.svc.cluster.local 0 50 7 10-244-1-6.ds.default.svc.cluster.local',
    '_p._tcp.ds.default.svc.cluster.local 0 50 7 a.ds.default.svc.cluster.local',
  ]);
  t.deepEqual(srv.additional.sort(), [
    '10-244-1-6.ds.default.svc.cluster.local 10.244.1.6', 'a.ds.default.svc.cluster.local 10.244.1.5', 'a.ds.default.svc.cluster.local fd00::5',
  ]);
  t.deepEqual(ask('6.1.244.10.in-addr.arpa', 'PTR').answer, ['6.1.244.10.in-addr.arpa 10-244-1-6.ds.default.svc.cluster.local']);
});
