import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab, podnetctlCommand } from '../../../src/lab/lab.ts';
import { labPaths } from '../../../src/lab/labState.ts';
import { findTool } from '../../../src/common/systemTools.ts';
import { listNetns, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { labStateRoot, podnetctl, uniqueLabName } from '../../helpers/labFixture.ts';

const labNamespaces = (name: string) => listNetns().filter((n) => n.startsWith(`${name}-`));

test('a failure half-way through up rolls back everything', async (t) => {
  const name = uniqueLabName();
  const stateRoot = labStateRoot(t);
  const root = rootSnapshot(`${name}-`);
  t.teardown(() => destroyLab(name, { stateRoot }).then(() => undefined));
  let seen: string[] = [];
  await t.throwsAsync(createLab({ name, stateRoot, onStep: (step) => {
    if (step === 'fabric') {
      seen = labNamespaces(name);
      throw new Error('injected failure after the fabric');
    }
  } }), { message: 'injected failure after the fabric' });
  t.is(seen.length, 5, 'the namespaces existed when the failure hit');
  t.deepEqual(root.leaks(), []);
  t.false(existsSync(labPaths(name, stateRoot).dir));
});

/** Start `podnetctl lab up` paused after `step` (PODNET_LAB_PAUSE_AFTER); resolves once it is paused. */
function upPausedAfter(name: string, stateRoot: string, step: string) {
  const cmd = podnetctlCommand();
  const child = spawn(cmd.argv[0]!, [...cmd.argv.slice(1), 'lab', 'up', '--name', name], {
    cwd: cmd.cwd, env: { ...process.env, PODNET_LAB_DIR: stateRoot, PODNET_LAB_PAUSE_AFTER: step },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  // 'close', not 'exit': stderr must be read to the end before the test looks at it.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const paused = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(`paused after ${step}`)) resolve();
    });
    exited.then(() => reject(new Error(`lab up exited before pausing: ${stderr}`)));
  });
  return { child, paused, exited, stderr: () => stderr };
}

test('SIGTERM during up removes what was made', async (t) => {
  const name = uniqueLabName();
  const stateRoot = labStateRoot(t);
  const root = rootSnapshot(`${name}-`);
  t.teardown(() => destroyLab(name, { stateRoot }).then(() => undefined));
  const up = upPausedAfter(name, stateRoot, 'fabric');
  t.teardown(() => { up.child.kill('SIGKILL'); });
  await up.paused;
  t.is(labNamespaces(name).length, 5);
  up.child.kill('SIGTERM');
  t.is(await up.exited, 1);
  t.regex(up.stderr(), /interrupted during fabric; everything made so far was removed/);
  t.deepEqual(root.leaks(), []);
  t.false(existsSync(join(stateRoot, name)));
});

test('down after an up killed half-way (kill -9) cleans everything, processes included', async (t) => {
  const name = uniqueLabName();
  const stateRoot = labStateRoot(t);
  const root = rootSnapshot(`${name}-`);
  t.teardown(() => destroyLab(name, { stateRoot }).then(() => undefined));
  const up = upPausedAfter(name, stateRoot, 'fabric');
  t.teardown(() => { up.child.kill('SIGKILL'); });
  await up.paused;
  up.child.kill('SIGKILL');
  await up.exited;
  t.is(JSON.parse(readFileSync(join(stateRoot, name, 'state.json'), 'utf8')).phase, 'creating');
  // A process left running inside one of the half-made namespaces (as podnetd would be).
  const sleeper = spawn(findTool('ip')!, ['netns', 'exec', `${name}-n2`, 'sleep', '60'], { stdio: 'ignore' });
  t.teardown(() => { sleeper.kill('SIGKILL'); });
  const sleeperExit = new Promise((resolve) => sleeper.once('exit', resolve));
  await new Promise((r) => sleeper.once('spawn', r));

  const down = podnetctl(['lab', 'down', '--name', name], { PODNET_LAB_DIR: stateRoot });
  t.is(down.code, 0, down.stderr);
  t.regex(down.stdout, /removed 5 namespaces.*stopped 1 process,/);
  await sleeperExit;
  t.deepEqual(root.leaks(), []);
  t.false(existsSync(join(stateRoot, name)));
  const again = podnetctl(['lab', 'down', '--name', name], { PODNET_LAB_DIR: stateRoot });
  t.is(again.code, 0);
  t.regex(again.stdout, /nothing left to remove/);
});
