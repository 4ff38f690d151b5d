import test from 'ava';
// Address text rules (RFC 5952, leading zeros, lengths) are tested in test/unit/common/ipAddress.test.ts.
import { formatIp, parseIp } from '../../../src/common/ipAddress.ts';
import { candidates, compileRange, rangeSetSize, validateRangeSets, type IpRange } from '../../../src/ipam/rangeSet.ts';

function range(subnet: string, extra: Partial<{ rangeStart: string; rangeEnd: string; gateway: string }> = {}): IpRange {
  const problems: string[] = [];
  const r = compileRange({ subnet, ...extra }, 'r', problems);
  if (!r) throw new Error(problems.join('; '));
  return r;
}

const ips = (set: IpRange[], last: string | null, n = 100) =>
  [...candidates(set, last ? parseIp(last) : null)].slice(0, n).map((c) => formatIp(c.ip));

test('defaults follow host-local: gateway .1, first address .2, broadcast excluded', (t) => {
  const r = range('10.1.2.0/24');
  t.is(formatIp(r.gateway), '10.1.2.1');
  t.is(formatIp(r.start), '10.1.2.1');
  t.is(formatIp(r.end), '10.1.2.254');
  const order = ips([r], null, 300);
  t.is(order[0], '10.1.2.2');
  t.is(order.length, 253);
  t.false(order.includes('10.1.2.1'));
  t.is(rangeSetSize([r]), 253n);
});

test('IPv6 range ends at the last address', (t) => {
  const r = range('fd00:1::/120');
  t.is(formatIp(r.end), 'fd00:1::ff');
  t.is(ips([r], null, 1)[0], 'fd00:1::2');
});

test('an explicit gateway elsewhere makes .1 allocatable and is itself skipped', (t) => {
  const r = range('10.0.0.0/29', { gateway: '10.0.0.4' });
  t.deepEqual(ips([r], null), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.5', '10.0.0.6']);
});

test('round robin starts after the last reserved address and wraps through every range', (t) => {
  const a = range('10.0.0.0/29');
  const b = range('10.0.1.0/29');
  t.deepEqual(ips([a, b], '10.0.0.5'), ['10.0.0.6', '10.0.1.2', '10.0.1.3', '10.0.1.4', '10.0.1.5', '10.0.1.6',
    '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
  t.deepEqual(ips([a, b], '10.0.1.6').slice(0, 2), ['10.0.0.2', '10.0.0.3']);
  // A cursor outside the set (ranges edited) restarts at the first range.
  t.is(ips([a, b], '192.168.0.9')[0], '10.0.0.2');
});

test('validation names the field and the problem', (t) => {
  const problems: string[] = [];
  t.is(compileRange({ subnet: '10.0.0.1/24' }, 'ipam.ranges[0][0]', problems), null);
  t.regex(problems[0]!, /ipam\.ranges\[0\]\[0\]\.subnet: network 10\.0\.0\.1\/24 has host bits set.*10\.0\.0\.0/);
  problems.length = 0;
  compileRange({ subnet: '10.0.0.0/31' }, 'r', problems);
  t.regex(problems.join(), /too small/);
  problems.length = 0;
  compileRange({ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }, 'r', problems);
  t.regex(problems.join(), /r\.rangeStart: 10\.0\.1\.5 is not in network 10\.0\.0\.0\/24/);
  problems.length = 0;
  validateRangeSets([[range('10.0.0.0/24'), range('10.0.0.0/25')], [range('fd00::/120')], [range('10.0.0.128/25')]], 'ipam.ranges', problems);
  t.true(problems.some((p) => p.includes('ipam.ranges[0][1]: overlaps')));
  t.true(problems.some((p) => p.includes('ipam.ranges[2]: range set overlaps range set ipam.ranges[0]')));
  problems.length = 0;
  validateRangeSets([[range('10.0.0.0/24'), range('fd00::/120')]], 'x', problems);
  t.regex(problems.join(), /mixes IPv6 with IPv4/);
});
