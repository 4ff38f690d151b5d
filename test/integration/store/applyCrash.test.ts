/**
 * `podnetctl apply` killed -9 mid-way (issue 14): what it wrote is whole objects only, a rerun completes it with
 * every object present exactly once, and a watcher that was open all along sees each object added once.
 * A real apply process (the CLI through tsx) on a real directory and a real etcd.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../../src/store/backends/fileStore.ts';
import { EtcdStore } from '../../../src/store/backends/etcdStore.ts';
import { Informer } from '../../../src/store/informer.ts';
import { benchServices, benchSlices } from '../../../bench/storeBenchData.ts';
import { SharedTeardown, startEtcd } from './etcdFixture.ts';
import { waitFor } from './storeTestKit.ts';

const N = 3000; // Services; as many EndpointSlices
const shared = new SharedTeardown();
test.after.always(() => shared.run());

function listFile(t: { teardown(fn: () => void): void }): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-applycrash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const services = benchServices(N);
  const file = join(dir, 'list.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...services, ...benchSlices(services, 10)] }));
  return { dir, file };
}

/** Run `podnetctl apply`; with `killAfter`, SIGKILL it once that many output lines have appeared. */
function apply(file: string, store: string, killAfter?: number): Promise<{ lines: string[]; code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'cmd/podnetctl/main.ts', 'apply', '-f', file, '--store', store], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfter !== undefined && out.split('\n').length > killAfter) p.kill('SIGKILL');
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => { clearTimeout(timer); resolve({ lines: out.split('\n').filter(Boolean), code, signal }); });
  });
}

function verbs(lines: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) out[l.split(' ').pop()!] = (out[l.split(' ').pop()!] ?? 0) + 1;
  return out;
}

test.serial('file store: killed mid-apply leaves whole objects; a rerun completes it, each object once', async (t) => {
  const { dir, file } = listFile(t);
  const storeDir = join(dir, 'store');
  const watcher = await FileStore.open(join(storeDir), { rescanMs: 60_000 });
  t.teardown(() => watcher.close());
  const inf = new Informer(watcher, 'EndpointSlice').start();
  const svc = new Informer(watcher, 'Service').start();
  t.teardown(() => { inf.stop(); svc.stop(); });
  const added = new Map<string, number>();
  for (const i of [inf, svc]) i.on({ add: (o) => added.set(`${o.kind}/${o.metadata.name}`, (added.get(`${o.kind}/${o.metadata.name}`) ?? 0) + 1) });
  await Promise.all([inf.synced(), svc.synced()]);

  const first = await apply(file, `file:${storeDir}`, 1200);
  t.is(first.signal, 'SIGKILL', 'the apply was killed before it finished');
  // Whole objects only: every override file parses and holds a complete object.
  const objectsDir = join(storeDir, '.podnet', 'objects');
  let onDisk = 0;
  for (const kind of readdirSync(objectsDir)) {
    for (const ns of readdirSync(join(objectsDir, kind))) {
      for (const f of readdirSync(join(objectsDir, kind, ns)).filter((n) => n.endsWith('.json'))) {
        const rec = JSON.parse(readFileSync(join(objectsDir, kind, ns, f), 'utf8')) as { object: { metadata: { name: string } } };
        t.is(`${rec.object.metadata.name}.json`, f);
        onDisk += 1;
      }
    }
  }
  t.true(onDisk >= 1000 && onDisk < 2 * N, `${onDisk} objects written before the kill`);

  const rerun = await apply(file, `file:${storeDir}`);
  t.is(rerun.code, 0);
  const v = verbs(rerun.lines);
  t.is(rerun.lines.length, 2 * N);
  t.is((v.created ?? 0) + (v.unchanged ?? 0), 2 * N, JSON.stringify(v));
  t.true((v.unchanged ?? 0) >= 1000, 'what the killed run wrote is unchanged');
  await waitFor('the watcher to see all', () => inf.size === N && svc.size === N, 60_000);
  await new Promise((r) => setTimeout(r, 500));
  t.is(added.size, 2 * N);
  t.true([...added.values()].every((n) => n === 1), 'each object added exactly once');
  const fresh = await FileStore.open(storeDir);
  t.teardown(() => fresh.close());
  t.is((await fresh.list('EndpointSlice')).items.length, N);
});

test.serial('etcd: killed mid-apply leaves whole transactions; a rerun completes it, each object once', async (t) => {
  const { file } = listFile(t);
  const etcd = await startEtcd(shared, 1);
  const first = await apply(file, etcd.spec, 1200);
  t.is(first.signal, 'SIGKILL');
  const rerun = await apply(file, etcd.spec);
  t.is(rerun.code, 0);
  const v = verbs(rerun.lines);
  t.is((v.created ?? 0) + (v.unchanged ?? 0), 2 * N, JSON.stringify(v));
  t.true((v.unchanged ?? 0) >= 1000);
  const store = await EtcdStore.open(etcd.urls);
  t.teardown(() => store.close());
  const slices = (await store.list('EndpointSlice')).items;
  t.is(slices.length, N);
  t.is(new Set(slices.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).size, N);
  t.true(slices.every((s) => s.endpoints.length === 10), 'every object whole');
});
