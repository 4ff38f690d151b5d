import test from 'ava';
import { canonicalIp, dashedIp, ipFromDashedLabel, reverseName } from '../../../src/dns/dnsNames.ts';
import { parseUpstream, nameserversOf, loopingUpstreams } from '../../../src/dns/resolvConf.ts';

test('reverse names: in-addr.arpa and full-nibble ip6.arpa', (t) => {
  t.is(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa');
  t.is(reverseName('2001:db8::567:89ab'), 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  t.is(reverseName('::ffff:10.1.2.3'), '3.0.2.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa');
});

test('dashed labels are valid hostnames and map back to the address', (t) => {
  t.is(dashedIp('10.244.1.5'), '10-244-1-5');
  t.is(dashedIp('fd00:10::5'), 'fd00-10--5');
  t.is(dashedIp('fd00::'), 'fd00--0');
  t.is(dashedIp('::1'), '0--1');
  t.is(ipFromDashedLabel('10-244-1-5'), '10.244.1.5');
  t.is(ipFromDashedLabel('fd00-10--5'), 'fd00:10::5');
  t.is(ipFromDashedLabel('10-244-1'), null);
  t.is(ipFromDashedLabel('web-0'), null);
  t.is(canonicalIp('FD00:0:0::05'), 'fd00::5');
  t.is(canonicalIp('nope'), null);
});

test('upstreams: flags and resolv.conf parsed; our own address is a loop', (t) => {
  t.deepEqual(parseUpstream('1.1.1.1', '--upstream'), { host: '1.1.1.1', port: 53 });
  t.deepEqual(parseUpstream('[2001:db8::1]:5353', '--upstream'), { host: '2001:db8::1', port: 5353 });
  t.deepEqual(parseUpstream('2001:db8::1', '--upstream'), { host: '2001:db8::1', port: 53 });
  t.throws(() => parseUpstream('dns.google', '--upstream'), { message: /--upstream: expected an IP address/ });
  t.deepEqual(nameserversOf('# x\nnameserver 10.0.0.2\nsearch a b\nnameserver fe80::1%eth0\n'), [{ host: '10.0.0.2', port: 53 }, { host: 'fe80::1', port: 53 }]);
  const local = new Set(['127.0.0.1', '10.0.0.5']);
  t.is(loopingUpstreams([{ host: '127.0.0.1', port: 53 }], { host: '0.0.0.0', port: 53 }, local).length, 1);
  t.is(loopingUpstreams([{ host: '127.0.0.53', port: 53 }], { host: '0.0.0.0', port: 53 }, local).length, 1, 'all of 127/8');
  t.is(loopingUpstreams([{ host: '10.0.0.5', port: 53 }], { host: '0.0.0.0', port: 53 }, local).length, 1, 'own interface');
  t.is(loopingUpstreams([{ host: '10.0.0.5', port: 53 }], { host: '10.0.0.5', port: 53 }, local).length, 1);
  t.is(loopingUpstreams([{ host: '127.0.0.2', port: 53 }], { host: '127.0.0.1', port: 53 }, local).length, 0, 'another loopback address');
  t.is(loopingUpstreams([{ host: '127.0.0.53', port: 53 }], { host: '10.96.0.10', port: 53 }, local).length, 0);
  t.is(loopingUpstreams([{ host: '10.0.0.9', port: 53 }], { host: '0.0.0.0', port: 53 }, local).length, 0);
});
