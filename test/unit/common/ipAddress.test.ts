/**
 * The one address/prefix module every subsystem uses. Cases merged from the old per-area tests (ipam's Go-style
 * formatting, netlink's `ip -j` round trips, BGP's canonical prefixes, routing's CIDR math, services' membership).
 */
import test from 'ava';
import { AddressError } from '../../../src/common/errors.ts';
import {
  canonicalIp, compareIp, formatIp, ipBytesToText, ipFamilyOf, ipFromBigInt, ipFromBytes, ipTextToBytes, ipToBytes,
  isIpv4Mapped, mapIpv4, nextIp, offsetIp, parseIp, tryParseIp, unmapIpv4, type IpAddress,
} from '../../../src/common/ipAddress.ts';
import {
  canonicalPrefix, formatPrefix, hostPrefixOf, lastOf, networkOf, parsePrefix, prefixContains, prefixesOverlap,
  prefixSize, subnetAt, subnetCount, tryParsePrefix,
} from '../../../src/common/ipPrefix.ts';

const v4 = (s: string): IpAddress => parseIp(s);

// [input, canonical text]
const canonical: Array<[string, string]> = [
  ['10.0.0.1', '10.0.0.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['255.255.255.255', '255.255.255.255'],
  ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
  ['FD00:0:0::05', 'fd00::5'],
  ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // longest run wins
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // tie: longer later run wins over the earlier shorter one
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // equal runs: the first one
  ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'], // a single zero group is not compressed
  ['::', '::'],
  ['::1', '::1'],
  ['1::', '1::'],
  ['fd00:1:0:0:1::', 'fd00:1:0:0:1::'],
  ['fe80::a:b:c:d', 'fe80::a:b:c:d'],
  ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ['::ffff:1.2.3.4', '::ffff:1.2.3.4'], // IPv4-mapped: RFC 5952 section 5, as inet_ntop / ip -j print it
  ['::ffff:102:304', '::ffff:1.2.3.4'],
  ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is plain hex
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
];
for (const [input, want] of canonical) {
  test(`canonical text: ${input} → ${want}`, (t) => {
    t.is(canonicalIp(input), want);
    t.is(formatIp(parseIp(want)), want, 'canonical text is a fixed point');
  });
}

// [input, what the error must say]
const badAddresses: Array<[string, RegExp]> = [
  ['', /empty/],
  ['10.0.0', /four dot-separated octets, found 3/],
  ['10.0.0.0.1', /found 5/],
  ['10.01.0.1', /octet "01" has a leading zero/],
  ['256.0.0.1', /octet "256" is above 255/],
  ['10.0.0.x', /octet "x" is not a decimal/],
  [' 10.0.0.1', /octet " 10" is not a decimal/],
  ['fe80::1%eth0', /zone ids \("%eth0"\) are not accepted/],
  ['1::2::3', /"::" may appear only once/],
  ['1:2:3:4:5:6:7', /without "::" has 8 groups, found 7/],
  ['1:2:3:4:5:6:7:8:9', /found 9/],
  ['1:2:3:4:5:6:7:8::', /at least one zero group, but 8 groups/],
  ['12345::', /group "12345" is not 1-4 hex digits/],
  ['g::1', /group "g"/],
  [':1::', /empty group/],
  ['1.2.3.4::', /group "1\.2\.3\.4"/], // dotted part only at the end
  ['::ffff:1.2.3.256', /embedded IPv4 "1\.2\.3\.256": octet "256" is above 255/],
  ['example.com', /octet/],
];
for (const [input, why] of badAddresses) {
  test(`not an address: ${JSON.stringify(input)}`, (t) => {
    const err = t.throws(() => parseIp(input), { instanceOf: AddressError });
    t.is(err!.code, 'PODNET_ADDRESS_INVALID');
    t.true(err!.message.startsWith(`"${input}" is not an IP address: `), err!.message);
    t.regex(err!.message, why);
    t.is(tryParseIp(input), undefined);
    t.is(canonicalIp(input), undefined);
    t.is(ipFamilyOf(input), undefined);
  });
}

test('family detection is a full parse', (t) => {
  t.is(ipFamilyOf('10.0.0.1'), 4);
  t.is(ipFamilyOf('::'), 6);
  t.is(ipFamilyOf('::ffff:10.0.0.1'), 6);
  t.is(ipFamilyOf('1:2'), undefined);
});

const bytes: Array<[string, number[]]> = [
  ['10.1.2.3', [10, 1, 2, 3]],
  ['255.0.0.1', [255, 0, 0, 1]],
  ['fd00::1', [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
  ['::ffff:1.2.3.4', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
];
for (const [text, b] of bytes) {
  test(`bytes round trip: ${text}`, (t) => {
    t.deepEqual([...ipTextToBytes(text)], b);
    t.is(ipBytesToText(Uint8Array.from(b)), text);
    t.deepEqual(ipFromBytes(ipToBytes(parseIp(text))), parseIp(text));
  });
}

test('bytes of a wrong length are refused, not guessed', (t) => {
  t.throws(() => ipFromBytes(new Uint8Array(6)), { instanceOf: AddressError, message: /4 \(IPv4\) or 16 \(IPv6\) bytes/ });
  t.throws(() => ipTextToBytes('10.0.0'), { instanceOf: AddressError });
});

test('bigint values: range-checked per family', (t) => {
  t.deepEqual(ipFromBigInt(4, 0x0a000001n), v4('10.0.0.1'));
  t.is(formatIp(ipFromBigInt(6, (1n << 128n) - 1n)), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  t.throws(() => ipFromBigInt(4, 1n << 32n), { instanceOf: AddressError, message: /outside the IPv4 address space/ });
  t.throws(() => ipFromBigInt(6, -1n), { instanceOf: AddressError });
});

test('offset and next never wrap around', (t) => {
  t.is(formatIp(nextIp(v4('10.0.0.255'))), '10.0.1.0');
  t.is(formatIp(offsetIp(v4('10.0.1.0'), -1n)), '10.0.0.255');
  t.is(formatIp(nextIp(parseIp('fd00::ffff'))), 'fd00::1:0');
  t.throws(() => nextIp(v4('255.255.255.255')), { instanceOf: AddressError, message: /"255\.255\.255\.255 \+ 1" is out of range/ });
  t.throws(() => offsetIp(v4('0.0.0.0'), -1n), { instanceOf: AddressError });
});

test('IPv4-mapped addresses convert both ways; others are left alone', (t) => {
  const mapped = parseIp('::ffff:192.0.2.1');
  t.true(isIpv4Mapped(mapped));
  t.deepEqual(unmapIpv4(mapped), v4('192.0.2.1'));
  t.deepEqual(mapIpv4(v4('192.0.2.1')), mapped);
  t.false(isIpv4Mapped(parseIp('::1.2.3.4')));
  t.deepEqual(unmapIpv4(parseIp('fd00::1')), parseIp('fd00::1'));
});

test('ordering: IPv4 before IPv6, then by value', (t) => {
  const sorted = ['fd00::1', '10.0.0.2', '::1', '10.0.0.10'].map(parseIp).sort(compareIp).map(formatIp);
  t.deepEqual(sorted, ['10.0.0.2', '10.0.0.10', '::1', 'fd00::1']);
});

// [input, options, canonical result]
const prefixes: Array<[string, Parameters<typeof parsePrefix>[1], string]> = [
  ['10.244.0.0/16', {}, '10.244.0.0/16'],
  ['0.0.0.0/0', {}, '0.0.0.0/0'],
  ['10.0.0.1/32', {}, '10.0.0.1/32'],
  ['2001:DB8:0:0:1::/80', {}, '2001:db8:0:0:1::/80'],
  ['::/0', {}, '::/0'],
  ['10.244.3.7/20', { hostBits: 'clear' }, '10.244.0.0/20'],
  ['2001:DB8:0:0:1::/64', { hostBits: 'clear' }, '2001:db8::/64'],
  ['fd00:10:244:3::9/64', { hostBits: 'clear' }, 'fd00:10:244:3::/64'],
  ['10.0.0.7/24', { hostBits: 'keep' }, '10.0.0.7/24'],
  ['10.0.0.7', { bareAddress: true }, '10.0.0.7/32'],
  ['fd00::7', { bareAddress: true }, 'fd00::7/128'],
];
for (const [input, opts, want] of prefixes) {
  test(`prefix ${input} ${JSON.stringify(opts)} → ${want}`, (t) => {
    t.is(formatPrefix(parsePrefix(input, opts)), want);
  });
}

const badPrefixes: Array<[string, Parameters<typeof parsePrefix>[1], RegExp]> = [
  ['10.0.0.0/33', {}, /prefix length 33 is out of range 0\.\.32 for IPv4/],
  ['fd00::/129', {}, /prefix length 129 is out of range 0\.\.128 for IPv6/],
  ['10.0.0.0/', {}, /prefix length "" is not a decimal number 0\.\.32/],
  ['10.0.0.0/-1', {}, /prefix length "-1"/],
  ['10.0.0.0/24/1', {}, /prefix length "24\/1"/],
  ['10.0.0.0/0x10', {}, /prefix length "0x10"/],
  ['10.0.0.7/24', {}, /host bits are set \(the network is 10\.0\.0\.0\/24\)/],
  ['fd00::1/64', {}, /host bits are set \(the network is fd00::\/64\)/],
  ['10.0.0.0', {}, /expected ADDRESS\/LENGTH, there is no "\/"/],
  ['10.0.0/8', {}, /"10\.0\.0" is not an IP address: an IPv4 address has four/],
  ['fe80::%eth0/64', {}, /zone ids/],
  ['/24', {}, /"" is not an IP address/],
];
for (const [input, opts, why] of badPrefixes) {
  test(`not a prefix: ${input}`, (t) => {
    const err = t.throws(() => parsePrefix(input, opts), { instanceOf: AddressError });
    t.true(err!.message.startsWith(`"${input}" is not an IP prefix: `), err!.message);
    t.regex(err!.message, why);
    t.is(err!.kind, 'prefix');
    t.is(tryParsePrefix(input, opts), undefined);
  });
}

test('canonicalPrefix clears host bits and rejects what is not a prefix', (t) => {
  t.is(canonicalPrefix('10.1.2.3/16'), '10.1.0.0/16');
  t.is(canonicalPrefix('10.244.3.7/20'), '10.244.0.0/20');
  t.throws(() => canonicalPrefix('10.0.0.0/33'), { instanceOf: AddressError });
});

test('network, last (broadcast) and size', (t) => {
  const p = parsePrefix('10.1.2.77/24', { hostBits: 'keep' });
  t.is(formatIp(networkOf(p)), '10.1.2.0');
  t.is(formatIp(lastOf(p)), '10.1.2.255');
  t.is(prefixSize(p), 256n);
  const q = parsePrefix('fd00:1::/120');
  t.is(formatIp(lastOf(q)), 'fd00:1::ff');
  t.is(formatIp(lastOf(parsePrefix('0.0.0.0/0'))), '255.255.255.255');
  t.is(formatIp(lastOf(parsePrefix('10.0.0.1/32'))), '10.0.0.1');
  t.is(prefixSize(parsePrefix('::/0')), 1n << 128n);
});

// [prefix, address, contained]
const contains: Array<[string, string, boolean]> = [
  ['198.18.0.0/24', '198.18.0.200', true],
  ['198.18.0.0/24', '198.18.1.1', false],
  ['198.18.0.0/24', 'fd00::1', false],
  ['0.0.0.0/0', '1.2.3.4', true],
  ['::/0', '1.2.3.4', false],
  ['fd00::/64', 'fd00::ffff:1', true],
  ['fd00::/64', 'fd00:0:0:1::1', false],
  ['10.0.0.5/32', '10.0.0.5', true],
];
for (const [prefix, addr, want] of contains) {
  test(`${prefix} ${want ? 'contains' : 'does not contain'} ${addr}`, (t) => {
    t.is(prefixContains(parsePrefix(prefix), parseIp(addr)), want);
  });
}

const overlaps: Array<[string, string, boolean]> = [
  ['10.244.0.0/16', '10.244.9.0/24', true],
  ['10.244.9.0/24', '10.244.0.0/16', true],
  ['10.244.1.0/24', '10.244.2.0/24', false],
  ['10.0.0.0/8', '10.0.0.0/8', true],
  ['0.0.0.0/0', '::/0', false],
  ['fd00::/8', 'fd12::/16', true],
];
for (const [a, b, want] of overlaps) {
  test(`${a} and ${b} ${want ? 'overlap' : 'do not overlap'}`, (t) => {
    t.is(prefixesOverlap(parsePrefix(a), parsePrefix(b)), want);
  });
}

test('host prefixes and subnetting', (t) => {
  t.is(formatPrefix(hostPrefixOf(parseIp('10.244.3.0'))), '10.244.3.0/32');
  t.is(formatPrefix(hostPrefixOf(parseIp('fd00::1'))), 'fd00::1/128');
  const cluster = parsePrefix('10.244.0.0/16');
  t.is(subnetCount(cluster, 24), 256n);
  t.is(formatPrefix(subnetAt(cluster, 24, 0n)), '10.244.0.0/24');
  t.is(formatPrefix(subnetAt(cluster, 24, 255n)), '10.244.255.0/24');
  t.is(formatPrefix(subnetAt(parsePrefix('fd00::/48'), 64, 3n)), 'fd00:0:0:3::/64');
  t.throws(() => subnetAt(cluster, 24, 256n), { instanceOf: AddressError, message: /index 256 is outside 0\.\.255/ });
  t.throws(() => subnetCount(cluster, 8), { instanceOf: AddressError, message: /must be \/16\.\.32/ });
  t.throws(() => subnetCount(cluster, 33), { instanceOf: AddressError });
});
