import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskLeaseStore } from '../../../src/ipam/diskLeaseStore.ts';
import { lockNameFor, withDirLock } from '../../../src/ipam/fileLock.ts';
import { formatIp, parseIp } from '../../../src/common/ipAddress.ts';
import { ipamAdd, ipamDel } from '../../../src/ipam/ipamPlugin.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-ipam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const conf = (dataDir: string, ranges: unknown = [[{ subnet: '10.3.0.0/24' }], [{ subnet: 'fd00:3::/120' }]]) => ({
  cniVersion: '1.1.0', name: 'podnet-test', type: 'podnet-ipam', ipam: { type: 'podnet-ipam', dataDir, ranges },
});
const req = (config: Record<string, unknown>, id: string, ifname = 'eth0') =>
  ({ config, containerId: id, ifname, cniArgs: { ignoreUnknown: true } });

test('writes host-local\'s layout: one file per IP with id\\r\\nifname, last_reserved_ip.N, lock', async (t) => {
  const dir = tempDir(t);
  const r = await ipamAdd(req(conf(dir), 'ctr-a'));
  t.deepEqual(r.ips, [{ address: '10.3.0.2/24', gateway: '10.3.0.1' }, { address: 'fd00:3::2/120', gateway: 'fd00:3::1' }]);
  const net = join(dir, 'podnet-test');
  t.deepEqual(readdirSync(net).sort(), ['10.3.0.2', 'fd00:3::2', 'last_reserved_ip.0', 'last_reserved_ip.1', 'lock']);
  t.is(readFileSync(join(net, '10.3.0.2'), 'utf8'), 'ctr-a\r\neth0');
  t.is(readFileSync(join(net, 'last_reserved_ip.1'), 'utf8'), 'fd00:3::2');
  t.deepEqual(readdirSync(join(dir, '.podnet-tmp')), [], 'no temporary file is left behind');
  await ipamDel(req(conf(dir), 'ctr-a'));
  t.deepEqual(readdirSync(net).sort(), ['last_reserved_ip.0', 'last_reserved_ip.1', 'lock']);
});

test('a legacy id-only lease is released by DEL of that container', async (t) => {
  const dir = tempDir(t);
  const store = new DiskLeaseStore(dir, 'podnet-test');
  await store.withLock(async () => undefined);
  writeFileSync(join(dir, 'podnet-test', '10.3.0.9'), 'old-ctr');
  t.deepEqual((await store.list()).map((l) => [formatIp(l.ip), l.containerId, l.ifname]), [['10.3.0.9', 'old-ctr', '']]);
  await ipamDel(req(conf(dir), 'old-ctr'));
  t.deepEqual(await store.list(), []);
});

test('reserve is exclusive even without the lock: two stores never both get one address', async (t) => {
  const dir = tempDir(t);
  const a = new DiskLeaseStore(dir, 'n');
  const b = new DiskLeaseStore(dir, 'n');
  await a.withLock(async () => undefined);
  const ip = parseIp('10.0.0.5')!;
  const results = await Promise.all([a.reserve({ containerId: 'x', ifname: 'eth0' }, ip, 0),
    b.reserve({ containerId: 'y', ifname: 'eth0' }, ip, 0)]);
  t.deepEqual(results.sort(), [false, true]);
});

test('the lock excludes other holders and is freed when its holder is killed with SIGKILL', async (t) => {
  const dir = tempDir(t);
  // A child process takes the lock and then hangs, like an ADD killed mid-flight.
  const child = spawn(process.execPath, ['-e', `
    const net = require('node:net');
    net.createServer().listen({ path: ${JSON.stringify(lockNameFor(dir))} }, () => process.stdout.write('locked\\n'));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  await t.throwsAsync(withDirLock(dir, async () => 'got it', { timeoutMs: 200 }), { code: 'PODNET_IPAM_LOCK_TIMEOUT' });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  t.is(await withDirLock(dir, async () => 'got it', { timeoutMs: 5000 }), 'got it');
});

test('the lock serialises holders inside one process', async (t) => {
  const dir = tempDir(t);
  let inside = 0;
  let maxInside = 0;
  await Promise.all(Array.from({ length: 20 }, () => withDirLock(dir, async () => {
    inside++;
    maxInside = Math.max(maxInside, inside);
    await new Promise((r) => setTimeout(r, 1));
    inside--;
  })));
  t.is(maxInside, 1);
});
