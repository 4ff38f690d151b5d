// How src/native/index.ts finds the addon. No root needed: only file lookups and the error for a missing addon.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonCandidates, loadNative } from '../../../src/native/index.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('PODNET_NATIVE_ADDON, when set, is the only place looked at', (t) => {
  t.deepEqual(addonCandidates({ PODNET_NATIVE_ADDON: '/opt/x/podnet_native.node' }, '/usr/bin/whatever'), [
    '/opt/x/podnet_native.node',
  ]);
});

test('the file beside the running script comes before build/Release of the checkout', (t) => {
  const found = addonCandidates({}, '/opt/cni/bin/podnet-no-such-file');
  t.is(found[0], '/opt/cni/bin/podnet_native.node');
  const checkout = join(repoRoot, 'build', 'Release', 'podnet_native.node');
  t.true(found.includes(checkout));
  t.true(found.indexOf(checkout) > 0);
  t.is(found.at(-1), '/build/Release/podnet_native.node', 'the walk up ends at the filesystem root');
});

function withAddonPath<T>(path: string, run: () => T): T {
  const saved = process.env.PODNET_NATIVE_ADDON;
  process.env.PODNET_NATIVE_ADDON = path;
  try {
    return run();
  } finally {
    if (saved === undefined) delete process.env.PODNET_NATIVE_ADDON;
    else process.env.PODNET_NATIVE_ADDON = saved;
  }
}

// Serial: these run before the test that loads (and caches) the real addon.
test.serial('a missing addon is a clear error that says how to build it', (t) => {
  const err = withAddonPath('/nonexistent/podnet_native.node', () => t.throws(() => loadNative()));
  t.is((err as { code?: string }).code, 'PODNET_NATIVE_MISSING');
  t.regex(err!.message, /\/nonexistent\/podnet_native\.node.*npm run build/);
});

test.serial('an addon older than the contract is refused, naming what it lacks', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-native-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stale = join(dir, 'old.cjs');
  writeFileSync(stale, 'module.exports = { openNetlink() {} };');
  const err = withAddonPath(stale, () => t.throws(() => loadNative()));
  t.is((err as { code?: string }).code, 'PODNET_NATIVE_STALE');
  t.regex(err!.message, /lacks netlinkPortId, .*setTcpMd5.*npm run build/);
});

test('the built addon loads and has every function of the contract', (t) => {
  if (!existsSync(join(repoRoot, 'build', 'Release', 'podnet_native.node'))) {
    t.fail('build/Release/podnet_native.node is missing: run `npm run build:native` first');
    return;
  }
  const binding = loadNative();
  t.is(typeof binding.openNetlink, 'function');
  t.is(typeof binding.setTcpMd5, 'function');
});
