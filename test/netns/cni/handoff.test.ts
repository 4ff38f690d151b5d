/**
 * The podnetd hand-off: the native shim (installed by install-cni --handoff) passes the invocation to a running
 * server over a unix socket and falls back to the Node plugin when no server listens. The server here runs in the
 * test process (root namespace) while the shim is exec'd in the node namespace, so this also proves that the host
 * side lands in the *caller's* namespace.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { installCni } from '../../../src/cni/install/cniInstaller.ts';
import { bundleCniExecutables } from '../../../src/cni/install/cniBundler.ts';
import { execFileSync } from 'node:child_process';
import { DEFAULT_HANDOFF_SOCKET, startCniHandoffServer } from '../../../src/cni/handoff/cniHandoffServer.ts';
import { hostVethName } from '../../../src/cni/attachmentNames.ts';
import { makeCluster, ping } from './helpers/cniFixture.ts';

const prefix = uniquePrefix('ch');
const snap = rootSnapshot(prefix);
test.after.always('the root namespace is left as it was', (t) => t.deepEqual(snap.leaks(), []));

// Serial: the first test counts this process's file descriptors, which a concurrent test would change.
test.serial('the shim hands ADD/CHECK/DEL to the server, and falls back to the Node plugin without one', async (t) => {
  const c = await makeCluster(t, `${prefix}a`);
  const work = mkdtempSync(join(tmpdir(), 'podnet-handoff-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  await bundleCniExecutables(work);
  const socketPath = join(work, 'cni.sock');
  const [shim] = installCni({ binDir: join(work, 'bin'), confDir: join(work, 'net.d'), bundleDir: work, snapshot: true,
    handoff: { socketPath, shimSource: new URL('../../../src/cni/handoff/podnet-shim.c', import.meta.url).pathname } });
  const shimPath = shim!.path;
  const pod1 = c.makePod('p1');
  const pod2 = c.makePod('p2');
  const conf = c.conf();
  const served: string[] = [];
  const server = await startCniHandoffServer({ socketPath });
  server.server.on('connection', () => served.push('request'));
  t.teardown(() => server.close());
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const added = await c.exec({ command: 'ADD', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: conf }, shimPath);
  t.is(added.code, 0, added.stdout);
  t.is(served.length, 1, 'the server did the ADD');
  t.truthy(ipJsonIn<unknown[]>(c.node, ['link', 'show', hostVethName('ctr1', 'eth0')]).length, 'the host veth is in the caller\'s (node) namespace');
  t.true(await ping(pod1, '198.18.0.11'));
  const check = await c.exec({ command: 'CHECK', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: { ...conf, prevResult: added.json } }, shimPath);
  t.is(check.code, 0, check.stdout);
  // Errors come back byte for byte with the exit code.
  const dup = await c.exec({ command: 'ADD', containerId: 'ctr1', netns: pod1, ifname: 'eth0', config: conf }, shimPath);
  t.is(dup.code, 1);
  t.deepEqual(dup.json, { cniVersion: '1.1.0', code: 104, msg: '10.244.1.2 has been allocated to ctr1, duplicate allocation is not allowed' });
  // podnetd serves every pod of the node for months: a request must leave no socket open behind it.
  t.true(readdirSync('/proc/self/fd').length <= fdsBefore, 'no file descriptor leaked by 3 served requests');
  await server.close();
  const fallback = await c.exec({ command: 'ADD', containerId: 'ctr2', netns: pod2, ifname: 'eth0', config: conf }, shimPath);
  t.is(fallback.code, 0, fallback.stdout);
  t.is(served.length, 3, 'no server: the shim ran the Node plugin itself');
  t.true(await ping(pod1, '10.244.1.3'));
  for (const [id, pod] of [['ctr1', pod1], ['ctr2', pod2]] as const) {
    t.is((await c.exec({ command: 'DEL', containerId: id, netns: pod, ifname: 'eth0', config: conf }, shimPath)).code, 0);
  }
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(c.node, ['link', 'show']).map((l) => l.ifname).sort(), ['lo', 'up0']);
});

test.serial('a node without a C compiler: install-cni uses the prebuilt shim, which finds podnet-node beside itself', async (t) => {
  const c = await makeCluster(t, `${prefix}b`);
  const work = mkdtempSync(join(tmpdir(), 'podnet-handoff-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  await bundleCniExecutables(work);
  const source = new URL('../../../src/cni/handoff/podnet-shim.c', import.meta.url).pathname;
  execFileSync('cc', ['-O2', '-o', join(work, 'podnet-shim'), source]); // what `npm run build` leaves in bin/
  const binDir = join(work, 'bin');
  const [shim] = installCni({ binDir, confDir: join(work, 'net.d'), bundleDir: work, snapshot: false,
    handoff: { socketPath: DEFAULT_HANDOFF_SOCKET, shimSource: join(work, 'no-source-here.c') } });
  t.regex(shim!.note ?? '', /^prebuilt hand-off to \/run\/podnet\/cni\.sock/);
  t.is(shim!.path, join(binDir, 'podnet'));
  // No podnetd serves /run/podnet/cni.sock on this machine: the ADD runs in podnet-node found next to the shim.
  const pod = c.makePod('p3');
  const added = await c.exec({ command: 'ADD', containerId: 'ctr3', netns: pod, ifname: 'eth0', config: c.conf() }, shim!.path);
  t.is(added.code, 0, added.stdout);
  t.true(await ping(pod, '198.18.0.11'));
  t.is((await c.exec({ command: 'DEL', containerId: 'ctr3', netns: pod, ifname: 'eth0', config: c.conf() }, shim!.path)).code, 0);
});
