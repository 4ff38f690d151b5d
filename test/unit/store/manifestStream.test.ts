import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestStream, type ManifestItem } from '../../../src/store/ctl/manifestStream.ts';
import { jsonItems } from '../../../src/store/ctl/jsonItemStream.ts';
import type { CtlIO } from '../../../src/store/ctl/ctlIO.ts';

const io: CtlIO = { out: () => undefined, err: () => undefined, readStdin: async () => '', env: {}, exists: () => false };

async function items(t: { teardown(fn: () => void): void }, name: string, text: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-stream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, name), text);
  const out: string[] = [];
  for await (const it of manifestStream(join(dir, name), io) as AsyncGenerator<ManifestItem>) {
    out.push('problem' in it ? it.problem.replace(`${dir}/`, '') : `${it.object.kind} ${it.object.metadata.name}`);
  }
  return out;
}

const svc = (name: string, port: unknown = 80) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port }] } });

async function* chunked(text: string, n: number) { for (let i = 0; i < text.length; i += n) yield text.slice(i, i + n); }

test('JSON items come one at a time from a List or an array, across any chunk boundary', async (t) => {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('a"]},'), svc('b')], metadata: { resourceVersion: '' } });
  for (const n of [1, 3, 7, 1000]) {
    const got: unknown[] = [];
    for await (const v of jsonItems(chunked(list, n))) got.push(v);
    t.deepEqual(got, [svc('a"]},'), svc('b')]);
  }
  const whole: unknown[] = [];
  for await (const v of jsonItems(chunked(JSON.stringify({ items: [svc('x')], kind: 'List' }), 4))) whole.push(v);
  t.deepEqual(whole, [{ items: [svc('x')], kind: 'List' }], 'kind after items: yielded whole, expanded by validation');
});

test('a JSON List streams with per-item document numbers; a syntax error ends the file after what came before', async (t) => {
  const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('a'), svc('bad', 'http'), svc('c')] });
  t.deepEqual(await items(t, 'l.json', text), [
    'Service a',
    'error: l.json: document 2 (Service default/bad): spec.ports[0].port: must be an integer 1-65535, got "http"',
    'Service c',
  ]);
  const cut = await items(t, 'cut.json', text.slice(0, text.indexOf('"c"') + 3));
  t.deepEqual(cut.slice(0, 2), ['Service a', 'error: cut.json: document 2 (Service default/bad): spec.ports[0].port: must be an integer 1-65535, got "http"']);
  t.regex(cut[2]!, /^error: cut\.json: cannot parse JSON: unexpected end of JSON input/);
});

test('YAML documents are parsed one by one; a syntax error names its document and line in the file', async (t) => {
  const yaml = [
    'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}',
    'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: b}, spec: {ports: [{port: 81}]}}\n- {apiVersion: v1, kind: Service, metadata: {name: c}, spec: {ports: [{port: http}]}}',
    'apiVersion: v1\nkind: Service\nmetadata: {name: d',
    'apiVersion: v1\nkind: Service\nmetadata: {name: e}\nspec: {ports: [{port: 80}]}',
  ].join('\n---\n');
  const got = await items(t, 'app.yaml', yaml);
  t.deepEqual(got.slice(0, 3), [
    'Service a',
    'error: app.yaml: document 3 (Service default/c): spec.ports[0].port: must be an integer 1-65535, got "http"',
    'Service b',
  ]);
  t.regex(got[3]!, /^error: app\.yaml: document 3: cannot parse: .* at line 1[0-9]/);
  t.is(got.length, 4, 'nothing after the broken document');
});
