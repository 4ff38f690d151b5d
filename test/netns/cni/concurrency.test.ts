/**
 * Many runtimes' worth of concurrency, through the real executable: 100 parallel ADDs against one range, and an ADD
 * killed with SIGKILL in the middle, cleaned up by DEL or by GC.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { makeCluster, type Cluster } from './helpers/cniFixture.ts';

const prefix = uniquePrefix('cc');
const snap = rootSnapshot(prefix);
test.after.always('the root namespace is left as it was', (t) => t.deepEqual(snap.leaks(), []));

const leaseFiles = (c: Cluster) => {
  const dir = join(c.dataDir, 'podnet-test');
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f.:]+$/.test(f)) : [];
};
const hostVeths = (c: Cluster) => ipJsonIn<Array<{ ifname: string }>>(c.node, ['link', 'show']).map((l) => l.ifname).filter((n) => n.startsWith('pn'));

test.serial('100 concurrent ADDs get 100 distinct addresses; DEL of all leaves no lease and no link', async (t) => {
  const c = await makeCluster(t, `${prefix}a`);
  const conf = c.conf({}, { ranges: [[{ subnet: '10.60.0.0/24' }]] });
  const calls = Array.from({ length: 100 }, (_, i) => ({
    containerId: `ctr${i}`, netns: c.makePod(`p${i}`), ifname: 'eth0', config: conf,
  }));
  const added = await Promise.all(calls.map((call) => c.exec({ command: 'ADD', ...call })));
  t.deepEqual(added.filter((r) => r.code !== 0).map((r) => r.stdout), []);
  const addrs = added.map((r) => (r.json!.ips as Array<{ address: string }>)[0]!.address);
  t.is(new Set(addrs).size, 100);
  t.is(leaseFiles(c).length, 100);
  t.is(hostVeths(c).length, 100);
  const deleted = await Promise.all(calls.map((call) => c.exec({ command: 'DEL', ...call })));
  t.deepEqual(deleted.filter((r) => r.code !== 0).map((r) => r.stdout), []);
  t.deepEqual(leaseFiles(c), []);
  t.deepEqual(hostVeths(c), []);
});

/**
 * Start an ADD and SIGKILL it the moment its first lease file appears: the plugin is then between IPAM and the
 * kernel work (two execs away from done). A synchronous poll (0.2 ms naps), not a timer on the event loop, so a
 * loaded machine cannot make us notice late; bounded to 60 s. Resolves with the signal that ended the process (null = it finished first).
 */
async function killMidAdd(c: Cluster, conf: Record<string, unknown>, pod: string, id: string): Promise<NodeJS.Signals | null> {
  const before = leaseFiles(c).length;
  const child = c.spawnExec({ command: 'ADD', containerId: id, netns: pod, ifname: 'eth0', config: conf });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  // The config must reach the plugin before the synchronous poll below blocks our event loop.
  if (!child.stdin!.writableFinished) await new Promise((r) => child.stdin!.once('finish', r));
  const deadline = Date.now() + 60_000;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (leaseFiles(c).length === before && Date.now() < deadline) Atomics.wait(nap, 0, 0, 0.2);
  child.kill('SIGKILL');
  return exited;
}

test.serial('an ADD killed with SIGKILL mid-flight is cleaned up by DEL', async (t) => {
  const c = await makeCluster(t, `${prefix}k`);
  const conf = c.conf({ ipMasq: true });
  const pod = c.makePod('p1');
  t.is(await killMidAdd(c, conf, pod, 'ctrk'), 'SIGKILL', 'the plugin was killed before it finished');
  t.true(leaseFiles(c).length >= 1, 'the killed ADD held a lease');
  const del = await c.exec({ command: 'DEL', containerId: 'ctrk', netns: pod, ifname: 'eth0', config: conf });
  t.is(del.code, 0, del.stdout);
  t.deepEqual(leaseFiles(c), []);
  t.deepEqual(hostVeths(c), []);
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(pod.split('/').pop()!, ['link', 'show']).map((l) => l.ifname), ['lo']);
  // The lock died with the killed process: the next ADD goes through.
  t.is((await c.exec({ command: 'ADD', containerId: 'ctrk2', netns: pod, ifname: 'eth0', config: conf })).code, 0);
});

test.serial('an ADD killed mid-flight is cleaned up by GC, which keeps valid attachments and other networks', async (t) => {
  const c = await makeCluster(t, `${prefix}g`);
  const conf = c.conf();
  const keep = c.makePod('keep');
  const other = c.makePod('other');
  const kept = await c.exec({ command: 'ADD', containerId: 'ctr-keep', netns: keep, ifname: 'eth0', config: conf });
  t.is(kept.code, 0);
  const otherConf = { ...c.conf({ name: 'other-net' }, { ranges: [[{ subnet: '10.61.0.0/24' }]] }) };
  t.is((await c.exec({ command: 'ADD', containerId: 'ctr-other', netns: other, ifname: 'eth0', config: otherConf })).code, 0);
  const pod = c.makePod('p1');
  t.is(await killMidAdd(c, conf, pod, 'ctr-killed'), 'SIGKILL', 'the plugin was killed before it finished');
  const gc = await c.exec({ command: 'GC', config: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr-keep', ifname: 'eth0' }] } });
  t.is(gc.code, 0, gc.stdout);
  t.is(gc.stdout, '', 'GC prints nothing on success');
  t.is(leaseFiles(c).length, 2, 'only the valid attachment\'s two leases remain');
  t.is(hostVeths(c).length, 2, 'the valid attachment\'s veth and the other network\'s stay');
  const check = await c.exec({ command: 'CHECK', containerId: 'ctr-keep', netns: keep, ifname: 'eth0', config: { ...conf, prevResult: kept.json } });
  t.is(check.code, 0, `the valid attachment is intact: ${check.stdout}`);
});
