/** How file store processes learn each other's writes: the change journal (O(change)), rotation, crash repair. */
import test, { type ExecutionContext } from 'ava';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, type FileStoreOptions } from '../../../src/store/backends/fileStore.ts';
import { keyKind } from '../../../src/store/backends/fileJournal.ts';
import { Informer } from '../../../src/store/informer.ts';
import { service, waitFor } from './storeTestKit.ts';

async function pair(t: ExecutionContext, writerOpts: FileStoreOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const reader = await FileStore.open(dir, { rescanMs: 60_000 });
  const writer = await FileStore.open(dir, { rescanMs: 60_000, ...writerOpts });
  t.teardown(async () => { await reader.close(); await writer.close(); });
  const inf = new Informer(reader, 'Service');
  const events: string[] = [];
  inf.on({ add: (s) => events.push(`add ${s.metadata.name}`), update: (o, s) => { if (o !== s) events.push(`update ${s.metadata.name}`); }, delete: (s) => events.push(`delete ${s.metadata.name}`) });
  inf.start();
  t.teardown(() => inf.stop());
  await inf.synced();
  return { dir, reader, writer, inf, events };
}

test('another instance\'s batch reaches a watcher once per object, without walking the directory', async (t) => {
  const { reader, writer, inf, events } = await pair(t);
  const scans = reader.fullScans;
  const objects = Array.from({ length: 2000 }, (_, i) => service(`s${i}`, `ns-${i % 10}`));
  const results = await writer.writeBatch(objects.map((object) => ({ op: 'apply', object })));
  t.true(results.every((r) => r.status === 'created'));
  await waitFor('all 2000', () => inf.size === 2000, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  t.is(events.length, 2000);
  t.is(new Set(events).size, 2000, 'each object once');
  t.is(reader.fullScans, scans, 'learned from the journal, not by rescanning');
  t.is((await reader.list('Service', { namespace: 'ns-3' })).items.length, 200);
});

test('a reader follows the journal across rotations: nothing missed, nothing twice', async (t) => {
  const { writer, inf, events } = await pair(t, { journalBytes: 8_000 });
  for (let b = 0; b < 10; b++) {
    await writer.writeBatch(Array.from({ length: 50 }, (_, i) => ({ op: 'apply' as const, object: service(`r${b * 50 + i}`, 'rot') })));
  }
  await writer.delete('Service', 'r7', 'rot');
  await waitFor('all but one', () => inf.size === 499 && events.length === 501, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  t.is(events.length, 501);
  t.is(new Set(events).size, 501);
  t.true(events.includes('delete r7'));
});

test('a writer that died mid-write: the next writer repairs the journal and readers rescan once', async (t) => {
  const { dir, reader, writer, inf } = await pair(t);
  // What a writer killed -9 leaves: an override file in place, its journal line cut off, its lock file.
  const path = join(dir, '.podnet', 'objects', 'Service', 'crash');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'orphan.json'), `${JSON.stringify({ base: 'none', object: service('orphan', 'crash') })}\n`);
  appendFileSync(join(dir, '.podnet', 'journal.1'), '{"k":"Service/crash/orph');
  writeFileSync(join(dir, '.podnet', 'lock'), '999999999\n'); // a pid that does not exist
  const scans = reader.fullScans;
  await writer.create(service('next', 'crash'));
  await waitFor('the orphan and the next write', () => inf.get('crash/orphan') !== undefined && inf.get('crash/next') !== undefined, 20_000);
  t.true(reader.fullScans > scans, 'the reader rescanned after the repair');
  t.deepEqual((await reader.list('Service', { namespace: 'crash' })).items.map((s) => s.metadata.name).sort(), ['next', 'orphan']);
});

test('list and get of an idle store read no directory: a manifest edit is found by its fs.watch event', async (t) => {
  const { dir, reader, inf } = await pair(t);
  const scans = reader.fullScans;
  for (let i = 0; i < 50; i++) await reader.list('Service');
  t.is(reader.fullScans, scans);
  writeFileSync(join(dir, 'app.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: edited}\nspec: {ports: [{port: 80}]}\n');
  await waitFor('the manifest object', () => inf.get('default/edited') !== undefined, 20_000);
  t.is(reader.fullScans, scans, 'one file re-read, no walk');
});

test('a process reads only the kinds it uses: others are read through per key, and loaded on their first list', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const writer = await FileStore.open(dir, { rescanMs: 60_000 });
  await writer.writeBatch(Array.from({ length: 50 }, (_, i) => ({ op: 'apply' as const, object: service(`old${i}`, 'default') })));
  const reader = await FileStore.open(dir, { rescanMs: 60_000 });
  t.teardown(async () => { await reader.close(); await writer.close(); });
  const nodes = new Informer(reader, 'Node');
  nodes.start();
  t.teardown(() => nodes.stop());
  await nodes.synced();
  await writer.writeBatch(Array.from({ length: 500 }, (_, i) => ({ op: 'apply' as const, object: service(`new${i}`, 'default') })));
  await writer.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n9' }, spec: {} });
  await waitFor('the Node through the journal', () => nodes.size === 1, 10_000);
  t.deepEqual([...reader.loadedKinds], ['Node'], 'the Services written meanwhile were skipped, not loaded');
  t.is((await reader.get('Service', 'new7', 'default'))?.metadata.name, 'new7', 'a get of a kind not loaded reads that key from disk');
  t.is((await reader.get('Service', 'missing', 'default')), undefined);
  t.deepEqual([...reader.loadedKinds], ['Node']);
  t.is((await reader.list('Service')).items.length, 550, 'the first list loads every Service, older and newer');
  const services = new Informer(reader, 'Service');
  services.start();
  t.teardown(() => services.stop());
  await services.synced();
  await writer.create(service('later', 'default'));
  await waitFor('a Service written after the load arrives by the journal', () => services.get('default/later') !== undefined, 10_000);
  t.is(services.size, 551);
});

test('a journal line\'s kind is read from its key without parsing it; other lines are left to JSON.parse', (t) => {
  t.is(keyKind('{"k":"EndpointSlice/default/web-1","v":"x","r":{"base":"none"}}'), 'EndpointSlice');
  t.is(keyKind('{"k":"Node//n1","r":null}'), 'Node');
  t.is(keyKind('{"rescan":true}'), undefined);
  t.is(keyKind('{"k":"Serv'), undefined, 'a torn line');
});
