import test from 'ava';
import { FieldReader, ConfigProblems, parseConfigText } from '../../../src/common/config.ts';
import { ConfigError } from '../../../src/common/errors.ts';
import { parseListenAddress } from '../../../src/common/opsServer.ts';

test('every problem names the field path, all reported together', (t) => {
  const doc = parseConfigText('proxy:\n  mode: ipfw\n  minSyncPeriodMs: -1\nnode: 7\ntypo: true\n', 'podnetd.yaml');
  const r = new FieldReader(doc);
  const proxy = r.child('proxy');
  proxy.oneOf('mode', ['nftables', 'iptables', 'ipvs'] as const, 'nftables');
  proxy.int('minSyncPeriodMs', 1000, { min: 0 });
  proxy.rejectUnknown();
  r.string('node');
  r.rejectUnknown();
  const err = t.throws(() => r.throwIfProblems('podnetd.yaml'), { instanceOf: ConfigProblems });
  t.deepEqual(err.problems, [
    'proxy.mode: must be one of nftables, iptables, ipvs, got "ipfw"',
    'proxy.minSyncPeriodMs: must be at least 0, got -1',
    'node: must be a string, got 7',
    'typo: is not a known field',
  ]);
  t.true(err.message.startsWith('podnetd.yaml: 4 problems'));
});

test('values and defaults come back typed when the input is good', (t) => {
  const r = new FieldReader(parseConfigText('{"a": {"b": [{"c": 1}, {"c": 2}]}, "l": ["x"]}', 'x.json'));
  t.deepEqual(r.child('a').children('b').map((c) => c.int('c', 0)), [1, 2]);
  t.deepEqual(r.stringList('l'), ['x']);
  t.is(r.string('missing', 'dflt'), 'dflt');
  t.is(r.bool('flag', true), true);
  t.deepEqual(r.problems, []);
});

test('a syntax error names the file and line', (t) => {
  const err = t.throws(() => parseConfigText('a: 1\nb: [unclosed\n', 'bad.yaml'), { instanceOf: ConfigError });
  t.regex(err.message, /^bad\.yaml: cannot parse: .* at line \d+/);
});

test('duplicate keys are rejected rather than silently overwritten', (t) => {
  t.throws(() => parseConfigText('a: 1\na: 2\n', 'dup.yaml'), { instanceOf: ConfigError, message: /dup\.yaml/ });
});

test('listen addresses: IPv4, IPv6 in brackets, and a clear error for the flag', (t) => {
  t.deepEqual(parseListenAddress('127.0.0.1:9090', '--metrics'), { host: '127.0.0.1', port: 9090 });
  t.deepEqual(parseListenAddress('[::1]:53', '--listen'), { host: '::1', port: 53 });
  t.throws(() => parseListenAddress('localhost', '--metrics'), { message: /^--metrics: expected ADDR:PORT/ });
  t.throws(() => parseListenAddress('1.2.3.4:70000', '--health'), { message: /^--health/ });
});
