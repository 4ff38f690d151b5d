import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimLabDir, labPaths, LabStateError, readLabState, removeLabDir, writeLabState, type LabState } from '../../../src/lab/labState.ts';

function tmpRoot(t: { teardown(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'labstate-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

const state = (name: string): LabState => ({ version: 1, name, phase: 'creating', createdAt: 'now',
  options: { name, nodes: 3, routing: 'none', store: 'file' }, namespaces: [`${name}-fabric`], processes: [], hosts: [] });

test('the lab directory is claimed exclusively', (t) => {
  const paths = labPaths('lab1', tmpRoot(t));
  t.true(claimLabDir(paths));
  t.false(claimLabDir(paths), 'a second up of the same lab must not proceed');
  t.true(existsSync(paths.logDir));
});

test('state round-trips; a missing state is null; removal is complete', (t) => {
  const paths = labPaths('lab2', tmpRoot(t));
  t.is(readLabState(paths), null);
  claimLabDir(paths);
  writeLabState(paths, state('lab2'));
  t.deepEqual(readLabState(paths), state('lab2'));
  removeLabDir(paths);
  t.false(existsSync(paths.dir));
});

test('a corrupt state is an error naming the file', (t) => {
  const paths = labPaths('lab3', tmpRoot(t));
  claimLabDir(paths);
  writeFileSync(paths.stateFile, '{"version": 1, "name": ');
  t.throws(() => readLabState(paths), { instanceOf: LabStateError, message: new RegExp(`${paths.stateFile}: not valid JSON`) });
  writeFileSync(paths.stateFile, '{"version": 9}');
  t.throws(() => readLabState(paths), { instanceOf: LabStateError, message: /not a lab state of version 1/ });
});

test('paths live under the given root', (t) => {
  t.is(labPaths('x', '/tmp/a').stateFile, '/tmp/a/x/state.json');
  t.is(labPaths('x', '/tmp/a').storeDir, '/tmp/a/x/store');
});
