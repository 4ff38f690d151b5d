/** What only the file backend does: manifests edited by hand, podnet's writes beside them, several writers. */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../../src/store/backends/fileStore.ts';
import { Informer } from '../../../src/store/informer.ts';
import { service, waitFor } from './storeTestKit.ts';

async function open(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-filestore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await FileStore.open(dir, { rescanMs: 200, debounceMs: 20 });
  t.teardown(() => store.close());
  return { dir, store };
}

const svcYaml = (name: string, port: number | string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {ports: [{port: ${port}}]}\n`;

test('a half-written manifest keeps the file\'s previous objects until it parses again', async (t) => {
  const { dir, store } = await open(t);
  const inf = new Informer(store, 'Service');
  const seen: string[] = [];
  inf.on({ add: (s) => seen.push(`add ${s.metadata.name}`), update: (_o, s) => seen.push(`update ${s.metadata.name} ${s.spec.ports?.[0]?.port}`), delete: (s) => seen.push(`delete ${s.metadata.name}`) });
  inf.start();
  t.teardown(() => inf.stop());
  writeFileSync(join(dir, 'app.yaml'), `${svcYaml('a', 80)}---\n${svcYaml('b', 81)}`);
  await waitFor('a and b', () => inf.size === 2);
  // An editor's partial write: the first document changed, the second cut off mid-mapping.
  writeFileSync(join(dir, 'app.yaml'), `${svcYaml('a', 90)}---\napiVersion: v1\nkind: Service\nmetadata: {name: b`);
  await waitFor('the syntax error to be noticed', () => store.unparsedFiles.length === 1);
  t.regex(store.unparsedFiles[0]!, /^app\.yaml: document 2: cannot parse/);
  t.is(inf.get('default/a')?.spec.ports?.[0]?.port, 80, 'nothing of the half-written file applied');
  t.truthy(inf.get('default/b'));
  writeFileSync(join(dir, 'app.yaml'), `${svcYaml('a', 90)}---\n${svcYaml('c', 82)}`);
  await waitFor('the fixed file', () => inf.get('default/c') !== undefined && inf.get('default/b') === undefined);
  t.deepEqual(store.unparsedFiles, []);
  t.deepEqual(seen.slice(0, 2).sort(), ['add a', 'add b']);
  t.deepEqual(seen.slice(2).sort(), ['add c', 'delete b', 'update a 90'], 'the fixed file applied as a whole, once');
});

test('podnet\'s write overrides a manifest object until the operator edits that document', async (t) => {
  const { dir, store } = await open(t);
  writeFileSync(join(dir, 'svc.yaml'), svcYaml('web', 80));
  await store.rescan();
  const web = await store.get('Service', 'web', 'default');
  await store.update({ ...web!, spec: { ...web!.spec, clusterIP: '10.96.0.20' } });
  await store.rescan();
  t.is((await store.get('Service', 'web'))?.spec.clusterIP, '10.96.0.20');
  t.deepEqual(readdirSync(dir).filter((f) => !f.startsWith('.')), ['svc.yaml'], 'the manifest file itself is untouched');
  writeFileSync(join(dir, 'svc.yaml'), svcYaml('web', 8080));
  await store.rescan();
  const edited = await store.get('Service', 'web');
  t.is(edited?.spec.ports?.[0]?.port, 8080);
  t.is(edited?.spec.clusterIP, undefined, 'the operator\'s edit wins over the older override');
});

test('deleting a manifest object hides it until its document changes', async (t) => {
  const { dir, store } = await open(t);
  writeFileSync(join(dir, 'svc.yaml'), svcYaml('web', 80));
  await store.rescan();
  await store.delete('Service', 'web', 'default');
  t.deepEqual((await store.list('Service')).items, []);
  writeFileSync(join(dir, 'svc.yaml'), svcYaml('web', 81));
  await store.rescan();
  t.is((await store.list('Service')).items.length, 1);
});

test('two store instances creating the same objects at once: each object is created exactly once', async (t) => {
  const { dir, store } = await open(t);
  const other = await FileStore.open(dir);
  t.teardown(() => other.close());
  const attempts = Array.from({ length: 20 }, (_, i) => [store, other].map((s) => s.create(service(`s${i}`, 'race')).then(() => 1, () => 0)));
  const wins = await Promise.all(attempts.map((pair) => Promise.all(pair)));
  t.true(wins.every(([a, b]) => a! + b! === 1));
  t.is((await other.list('Service', { namespace: 'race' })).items.length, 20);
});

test('manifest problems are reported with file, document and field, and the rest loads', async (t) => {
  const { dir, store } = await open(t);
  writeFileSync(join(dir, 'app.yaml'), `${svcYaml('ok', 80)}---\n${svcYaml('web', '"http"')}`);
  await store.rescan();
  t.deepEqual(store.problems, ['app.yaml: document 2 (Service default/web): spec.ports[0].port: must be an integer 1-65535, got "http"']);
  t.deepEqual((await store.list('Service')).items.map((s) => s.metadata.name), ['ok']);
});
