import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniPluginError, CniRunner, podAddresses, type CniNetwork } from '../../../src/lab/kubeletCni.ts';

interface Call { command: string; plugin: string; env: Record<string, string>; conf: Record<string, unknown> }

/** Fake plugins (shell scripts) that log every call — env and stdin — and answer like a CNI plugin. */
function fakePlugins(t: { teardown(f: () => void): void }, behaviour: Record<string, 'ok' | 'fail'>) {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-fakecni-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  for (const [name, how] of Object.entries(behaviour)) {
    const answer = how === 'ok'
      ? `[ "$CNI_COMMAND" = ADD ] && printf '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.5/24"},{"address":"fd00::5/64"}],"by":"${name}"}'`
      : `printf '{"cniVersion":"1.0.0","code":7,"msg":"invalid config","details":"${name} says no"}'; exit 1`;
    writeFileSync(join(dir, name), `#!/bin/sh
conf=$(cat)
printf '{"command":"%s","plugin":"${name}","env":{"CNI_ARGS":"%s","CNI_NETNS":"%s","CNI_IFNAME":"%s","CNI_CONTAINERID":"%s","PATH":"%s"},"conf":%s}\\n' \\
  "$CNI_COMMAND" "$CNI_ARGS" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_CONTAINERID" "$PATH" "$conf" >> ${log}
${answer}
exit 0
`);
    chmodSync(join(dir, name), 0o755);
  }
  const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
  return { dir, calls };
}

const net = (...types: string[]): CniNetwork => ({ cniVersion: '1.0.0', name: 'lab', plugins: types.map((type) => ({ type, opt: type })) });
const attachment = { containerId: 'c0ffee', netns: '/run/netns/x', ifname: 'eth0', args: { K8S_POD_NAME: 'web-1', K8S_POD_NAMESPACE: 'default' } };

test('ADD runs the list in order with prevResult; DEL runs it in reverse with the cached result', async (t) => {
  const fake = fakePlugins(t, { first: 'ok', second: 'ok' });
  const cni = new CniRunner({ cniPath: `/nonexistent:${fake.dir}` });
  const result = await cni.add(net('first', 'second'), attachment);
  t.is(result.by, 'second');
  t.deepEqual(podAddresses(result), ['10.9.0.5', 'fd00::5']);
  await cni.del(net('first', 'second'), attachment, result);
  const calls = fake.calls();
  t.deepEqual(calls.map((c) => `${c.command} ${c.plugin}`), ['ADD first', 'ADD second', 'DEL second', 'DEL first']);
  t.is(calls[0]!.conf.prevResult, undefined);
  t.is((calls[1]!.conf.prevResult as { by: string }).by, 'first');
  t.is((calls[3]!.conf.prevResult as { by: string }).by, 'second');
  for (const c of calls) {
    t.like(c.conf, { cniVersion: '1.0.0', name: 'lab', opt: c.plugin });
    t.is(c.env.CNI_ARGS, 'IgnoreUnknown=1;K8S_POD_NAME=web-1;K8S_POD_NAMESPACE=default');
    t.like(c.env, { CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_CONTAINERID: 'c0ffee', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });
  }
});

test('a plugin error carries the spec\'s code and message; ADD stops there, DEL still runs every plugin', async (t) => {
  const fake = fakePlugins(t, { good: 'ok', bad: 'fail' });
  const cni = new CniRunner({ cniPath: fake.dir });
  const err = await t.throwsAsync(cni.add(net('bad', 'good'), attachment), { instanceOf: CniPluginError });
  t.is(err!.cniCode, 7);
  t.is(err!.message, 'CNI ADD with plugin bad: invalid config (bad says no) [code 7]');
  t.deepEqual(fake.calls().map((c) => c.plugin), ['bad']);
  await t.throwsAsync(cni.del(net('bad', 'good'), attachment, undefined), { message: /CNI DEL with plugin bad/ });
  t.deepEqual(fake.calls().map((c) => `${c.command} ${c.plugin}`), ['ADD bad', 'DEL good', 'DEL bad']);
});

test('a plugin missing from CNI_PATH is named', async (t) => {
  const cni = new CniRunner({ cniPath: '/nonexistent' });
  await t.throwsAsync(cni.add(net('nope'), attachment), { message: 'CNI lookup with plugin nope: no executable "nope" in CNI_PATH /nonexistent' });
});
