import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCtl } from '../../../src/store/ctl/ctlCommands.ts';
import type { CtlIO } from '../../../src/store/ctl/ctlIO.ts';
import { storeSpecFor } from '../../../src/store/ctl/ctlIO.ts';

function setup(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = `file:${join(dir, 'store')}`;
  const run = async (verb: string, ...argv: string[]) => {
    let out = '';
    let err = '';
    const io: CtlIO = { out: (s) => { out += s; }, err: (s) => { err += s; }, readStdin: async () => '', env: {}, exists: () => false };
    const code = await runCtl(verb, [...argv, '--store', store], io);
    return { code, out, err };
  };
  return { dir, run };
}

const APP = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: broken}
spec: {ports: [{port: http}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
`;

test('apply reports bad documents, applies the rest (namespaces first) and is idempotent', async (t) => {
  const { dir, run } = setup(t);
  writeFileSync(join(dir, 'app.yaml'), APP);
  const first = await run('apply', '-f', join(dir, 'app.yaml'));
  t.is(first.code, 1);
  t.is(first.out, 'namespace/team-a created\nservice/web created\n');
  t.is(first.err, `error: ${join(dir, 'app.yaml')}: document 2 (Service default/broken): spec.ports[0].port: must be an integer 1-65535, got "http"\n`);
  const again = await run('apply', '-f', join(dir, 'app.yaml'));
  t.is(again.out, 'namespace/team-a unchanged\nservice/web unchanged\n');
});

test('get prints aligned tables, -o yaml/json, -A with a namespace column, and kubectl\'s NotFound', async (t) => {
  const { dir, run } = setup(t);
  writeFileSync(join(dir, 'app.yaml'), APP.split('---')[0]!);
  await run('apply', '-f', join(dir, 'app.yaml'));
  const table = await run('get', 'svc');
  t.is(table.code, 0);
  const lines = table.out.trimEnd().split('\n');
  t.regex(lines[0]!, /^NAME {3}TYPE {8}CLUSTER-IP {3}EXTERNAL-IP {3}PORT\(S\) {3}AGE$/);
  t.regex(lines[1]!, /^web {4}ClusterIP {3}<none> {7}<none> {8}80\/TCP {4}\d+s$/);
  t.is(lines[0]!.indexOf('TYPE'), lines[1]!.indexOf('ClusterIP'));
  const all = await run('get', 'services', '-A', '-o', 'wide');
  t.regex(all.out.split('\n')[0]!, /^NAMESPACE {3}NAME .* SELECTOR$/);
  const yaml = await run('get', 'service', 'web', '-o', 'yaml');
  t.regex(yaml.out, /^apiVersion: v1\nkind: Service\nmetadata:/);
  const json = JSON.parse((await run('get', 'svc', '-o', 'json')).out) as { kind: string; items: unknown[] };
  t.is(json.kind, 'List');
  t.is(json.items.length, 1);
  const missing = await run('get', 'svc', 'nope');
  t.is(missing.code, 1);
  t.is(missing.err, 'Error from server (NotFound): services "nope" not found\n');
  const several = await run('get', 'svc,ns');
  t.regex(several.out, /^NAME +TYPE .*\nservice\/web +ClusterIP /);
  const none = await run('get', 'po', '-n', 'empty');
  t.is(none.err, 'No resources found in empty namespace.\n');
  await t.throwsAsync(run('get', 'widgets'), { message: 'the server doesn\'t have a resource type "widgets"' });
});

test('delete by name and by file, and describe', async (t) => {
  const { dir, run } = setup(t);
  writeFileSync(join(dir, 'app.yaml'), APP.split('---')[0]!);
  await run('apply', '-f', join(dir, 'app.yaml'));
  const d = await run('describe', 'svc', 'web');
  t.regex(d.out, /^Name: +web\nNamespace: +default\n/);
  t.regex(d.out, /\nPort: +http {2}80\/TCP\nTargetPort: +8080\/TCP\n/);
  t.is((await run('delete', 'svc', 'web')).out, 'service "web" deleted\n');
  const again = await run('delete', '-f', join(dir, 'app.yaml'));
  t.is(again.code, 1);
  t.is(again.err, 'Error from server (NotFound): services "web" not found\n');
});

test('the default store: --store, then PODNET_STORE, then the running lab, then /etc/podnet/state', (t) => {
  const io = (env: NodeJS.ProcessEnv, lab: boolean): CtlIO => ({ out: () => undefined, err: () => undefined, readStdin: async () => '', env, exists: () => lab });
  t.is(storeSpecFor('etcd:http://x:2379', io({ PODNET_STORE: 'kube' }, true)), 'etcd:http://x:2379');
  t.is(storeSpecFor(undefined, io({ PODNET_STORE: 'kube' }, true)), 'kube');
  t.is(storeSpecFor(undefined, io({}, true)), 'file:/run/podnet-lab/podnet/store');
  t.is(storeSpecFor(undefined, io({}, false)), 'file:/etc/podnet/state');
});

test('reading a file store that does not exist is a usage error naming it, and creates nothing', async (t) => {
  const { dir, run } = setup(t);
  const err = await t.throwsAsync(run('get', 'svc'));
  t.is(err?.message, `--store file:${join(dir, 'store')}: no such directory (is the lab up? \`podnetctl lab up\`)`);
  t.false(existsSync(join(dir, 'store')), 'a typo in --store must not leave a new directory behind');
  t.is((await run('apply', '-f', '-')).code, 0, 'apply may create the store');
});
