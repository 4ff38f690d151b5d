import test from 'ava';
import { parseCniArgs } from '../../../src/cni/cniArgs.ts';
import { CniError } from '../../../src/cni/cniError.ts';
import { parseRequest } from '../../../src/cni/cniRequest.ts';
import { parseResult, resultForVersion, type CniResult } from '../../../src/cni/cniTypes.ts';
import { runPlugin, type CniPlugin } from '../../../src/cni/skel.ts';

const result: CniResult = {
  interfaces: [{ name: 'pn1', mac: 'ee:ee:ee:ee:ee:ee', mtu: 1450 }, { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450, sandbox: '/run/netns/x' }],
  ips: [{ address: '10.0.0.2/32', gateway: '169.254.1.1', interface: 1 }, { address: 'fd00::2/128', gateway: 'fe80::1', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1', mtu: 1400 }],
  dns: {},
};

test('results are printed in each version\'s shape and read back from any of them', (t) => {
  const v11 = resultForVersion(result, '1.1.0');
  t.deepEqual((v11.interfaces as object[])[0], { name: 'pn1', mac: 'ee:ee:ee:ee:ee:ee', mtu: 1450 });
  t.deepEqual((v11.routes as object[])[0], { dst: '0.0.0.0/0', gw: '169.254.1.1', mtu: 1400 });
  t.false('dns' in v11, 'an empty dns is omitted');
  const v10 = resultForVersion(result, '1.0.0');
  t.deepEqual((v10.interfaces as object[])[0], { name: 'pn1', mac: 'ee:ee:ee:ee:ee:ee' });
  t.deepEqual((v10.routes as object[])[0], { dst: '0.0.0.0/0', gw: '169.254.1.1' });
  t.false('version' in (v10.ips as object[])[0]!);
  const v031 = resultForVersion(result, '0.3.1');
  t.deepEqual((v031.ips as object[]).map((i) => (i as { version: string }).version), ['4', '6']);
  t.deepEqual(parseResult(JSON.parse(JSON.stringify(v031))).ips, result.ips);
  t.throws(() => parseResult({ ips: [{ gateway: '1.2.3.4' }] }), { message: 'prevResult.ips[0].address is required' });
});

test('CNI_ARGS: known keys, IgnoreUnknown, malformed pairs', (t) => {
  t.deepEqual(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u1;X=1'), {
    ignoreUnknown: true, podNamespace: 'default', podName: 'web-0', podInfraContainerId: 'abc', podUid: 'u1',
  });
  t.deepEqual(parseCniArgs('IP=10.0.0.5, fd00::5;MAC=02:00:00:00:00:09'), { ignoreUnknown: false, ips: ['10.0.0.5', 'fd00::5'], mac: '02:00:00:00:00:09' });
  const e = t.throws(() => parseCniArgs('K8S_POD_NAME=a;FOO=1;BAR=2'));
  t.is((e as CniError).cniCode, 4);
  t.is(e!.message, 'CNI_ARGS: unknown argument "FOO", "BAR"');
  t.throws(() => parseCniArgs('novalue'), { message: 'CNI_ARGS: "novalue" is not KEY=VALUE' });
});

const env = (extra: Record<string, string>) => ({ CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b', ...extra });
const stdin = (o: unknown) => Buffer.from(JSON.stringify(o));

test('request validation per verb', (t) => {
  const req = parseRequest(env({ CNI_COMMAND: 'ADD' }), stdin({ cniVersion: '0.4.0', name: 'n' }));
  t.deepEqual(req.path, ['/a', '/b']);
  t.is(req.version, '0.4.0');
  // DEL needs no netns; GC and STATUS need no attachment variables at all.
  t.notThrows(() => parseRequest({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, stdin({ cniVersion: '1.0.0' })));
  t.notThrows(() => parseRequest({ CNI_COMMAND: 'GC', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '' }, stdin({ cniVersion: '1.1.0' })));
  t.throws(() => parseRequest(env({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-bad id' }), stdin({ cniVersion: '1.1.0' })), { message: /CNI_CONTAINERID "-bad id" must match/ });
  t.throws(() => parseRequest(env({ CNI_COMMAND: 'ADD', CNI_IFNAME: 'a/b' }), stdin({ cniVersion: '1.1.0' })), { message: /contains "\/", ":" or whitespace/ });
  t.throws(() => parseRequest(env({ CNI_COMMAND: 'ADD' }), stdin({ name: 'n' })), { message: 'incompatible CNI versions' });
  t.throws(() => parseRequest(env({ CNI_COMMAND: 'ADD' }), stdin({ cniVersion: 1 })), { message: 'cniVersion 1 is not a version string' });
  t.throws(() => parseRequest(env({ CNI_COMMAND: 'ADD' }), stdin([1])), { message: /not a JSON object/ });
});

function fakePlugin(overrides: Partial<CniPlugin> = {}): CniPlugin {
  const nope = async () => { throw new Error('not called'); };
  return { add: nope, del: nope, check: nope, status: nope, gc: nope, ...overrides };
}

async function run(plugin: CniPlugin, e: Record<string, string>, input: Buffer) {
  let out = '';
  const code = await runPlugin(plugin, { env: e, stdin: input, writeStdout: (s) => { out += s; } });
  return { code, out };
}

test('skel: ADD prints the result in the config\'s version; errors print JSON and exit non-zero; DEL prints nothing', async (t) => {
  const ok = await run(fakePlugin({ add: async () => result }), env({ CNI_COMMAND: 'ADD' }), stdin({ cniVersion: '0.3.1' }));
  t.is(ok.code, 0);
  t.is(JSON.parse(ok.out).cniVersion, '0.3.1');
  const del = await run(fakePlugin({ del: async () => undefined }), env({ CNI_COMMAND: 'DEL' }), stdin({ cniVersion: '1.1.0' }));
  t.deepEqual(del, { code: 0, out: '' });
  const failing = await run(fakePlugin({ add: async () => { throw new CniError(11, 'later', 'why') } }), env({ CNI_COMMAND: 'ADD' }), stdin({ cniVersion: '1.0.0' }));
  t.deepEqual({ code: failing.code, json: JSON.parse(failing.out) }, { code: 1, json: { cniVersion: '1.0.0', code: 11, msg: 'later', details: 'why' } });
  const plain = await run(fakePlugin({ add: async () => { throw new Error('boom') } }), env({ CNI_COMMAND: 'ADD' }), stdin({ cniVersion: '1.1.0' }));
  t.deepEqual(JSON.parse(plain.out), { cniVersion: '1.1.0', code: 101, msg: 'boom' });
  const missing = await run(fakePlugin(), {}, stdin({ cniVersion: '1.1.0' }));
  t.deepEqual(JSON.parse(missing.out), { cniVersion: '1.1.0', code: 4, msg: 'required env variables [CNI_COMMAND] missing' });
});
