import test from 'ava';
import { UsageError } from '../../../src/common/cli.ts';
import { IprouteWiring } from '../../../src/lab/iprouteWiring.ts';
import { guardNamespace, isLabNamespace, LabGuardError, namespaceCandidates, validateLabName } from '../../../src/lab/labNames.ts';

test('the guard accepts only the lab\'s own namespaces', (t) => {
  t.is(guardNamespace('podnet', 'podnet-n1'), 'podnet-n1');
  t.is(guardNamespace('podnet', 'podnet-pod-web-1'), 'podnet-pod-web-1');
  for (const bad of ['', 'n1', 'other-n1', 'podnetx-n1', 'podnet-', 'podnet-../n1', 'podnet-a/b', 'podnet- x']) {
    t.throws(() => guardNamespace('podnet', bad), { instanceOf: LabGuardError }, bad);
  }
  t.throws(() => guardNamespace('', '-n1'), { instanceOf: LabGuardError });
});

test('an empty namespace is refused with a reason that says why', (t) => {
  t.throws(() => guardNamespace('podnet', ''), { message: /empty namespace name.*root namespace/ });
});

test('lab names: lowercase letters and digits, so one lab\'s prefix never starts another\'s', (t) => {
  t.is(validateLabName('podnet'), 'podnet');
  t.is(validateLabName('t1a2b3'), 't1a2b3');
  for (const bad of ['', 'pod-net', 'Podnet', '1lab', 'a'.repeat(17), 'a b', '../x']) {
    t.throws(() => validateLabName(bad), { instanceOf: UsageError }, bad);
  }
  t.false(isLabNamespace('podnet', 'podnetx-n1'));
});

test('exec targets: short names, pod names and full names', (t) => {
  t.deepEqual(namespaceCandidates('podnet', 'n1'), ['podnet-n1', 'podnet-pod-default-n1', 'podnet-pod-n1']);
  t.deepEqual(namespaceCandidates('podnet', 'podnet-client'), ['podnet-client']);
  t.deepEqual(namespaceCandidates('podnet', 'web-1'), ['podnet-web-1', 'podnet-pod-default-web-1', 'podnet-pod-web-1']);
  t.deepEqual(namespaceCandidates('podnet', 'kube-system/dns-1'), ['podnet-pod-kube-system-dns-1']);
});

test('the iproute2 wiring refuses foreign namespaces before running anything', async (t) => {
  const w = new IprouteWiring('podnet');
  await t.throwsAsync(w.addNamespaces(['podnet-n1', 'other']), { instanceOf: LabGuardError });
  await t.throwsAsync(w.deleteNamespaces(['']), { instanceOf: LabGuardError });
  await t.throwsAsync(w.pidsIn('init'), { instanceOf: LabGuardError });
  await t.throwsAsync(w.wire({ ns: 'podnet-fabric', bridges: [], addresses: [], linksUp: [], routes: [], sysctls: {},
    veths: [{ name: 'x', master: 'br0', peer: { name: 'eth0', ns: 'victim' } }] }), { instanceOf: LabGuardError });
});
