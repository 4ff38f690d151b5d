/** The file store's lock after a writer died while taking it: the next writer is never locked out. */
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLock } from '../../../src/store/backends/fileLock.ts';

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'podnet-lock-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('an empty lock left by a writer killed between creating and writing it is broken, not waited on forever', async (t) => {
  const d = dir(t);
  const path = join(d, 'lock');
  writeFileSync(path, '');
  const old = new Date(Date.now() - 10_000);
  utimesSync(path, old, old);
  const hold = await new FileLock(path, 5000).with(async (h) => h.recovered);
  t.true(hold, 'taken over as a dead owner\'s lock');
});

test('a taken lock always holds its owner\'s pid, and nothing of the taking is left behind', async (t) => {
  const d = dir(t);
  const path = join(d, 'lock');
  await new FileLock(path).with(async () => {
    t.is(readdirSync(d).join(), 'lock');
    t.true(existsSync(path));
  });
  t.deepEqual(readdirSync(d), [], 'released: no lock, no private file');
});
