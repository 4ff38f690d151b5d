/**
 * @module native — the one file that loads the C++ addon (native/, built by binding.gyp) and gives it its types.
 *
 * Loading is lazy, at the first call, so code that imports a module using the addon (the CLI's `--help`, unit
 * tests of pure codecs) works without a built addon. Search order:
 *   1. $PODNET_NATIVE_ADDON, when set (and then only it: an explicit choice must not silently fall through);
 *   2. `podnet_native.node` beside the running script (the CNI binaries are copied into /opt/cni/bin with it);
 *   3. `build/Release/podnet_native.node` in this module's directory or any parent (a checkout, or bin/ bundles).
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PodnetError } from '../common/errors.ts';
import type { NativeBinding } from './types.ts';

export type * from './types.ts';
export * from './constants.ts';

const ADDON_FILE = 'podnet_native.node';

const EXPECTED: ReadonlyArray<keyof NativeBinding> = [
  'openNetlink', 'netlinkPortId', 'addMembership', 'dropMembership', 'openPacket', 'openIcmp6', 'openSocket',
  'setsockoptInt', 'send', 'startReading', 'stopReading', 'setRef', 'close', 'openInNetns', 'netnsAdd',
  'netnsDelete', 'setTcpMd5',
];

/** Where the addon is looked for, in order. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env, script = process.argv[1]): string[] {
  if (env.PODNET_NATIVE_ADDON) return [env.PODNET_NATIVE_ADDON];
  const found: string[] = [];
  if (script) {
    found.push(join(dirname(script), ADDON_FILE));
    try {
      found.push(join(dirname(realpathSync(script)), ADDON_FILE));
    } catch {
      /* the script path need not exist (e.g. `node -e`) */
    }
  }
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    found.push(join(dir, 'build', 'Release', ADDON_FILE));
    if (dirname(dir) === dir) break;
  }
  return [...new Set(found)];
}

function loadBinding(): NativeBinding {
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new PodnetError(
      'PODNET_NATIVE_MISSING',
      `podnet native addon ${ADDON_FILE} not found (looked in ${candidates.join(', ')}); run \`npm run build\``,
    );
  }
  const loaded: unknown = createRequire(import.meta.url)(path);
  const missing = EXPECTED.filter((name) => typeof (loaded as Record<string, unknown> | null)?.[name] !== 'function');
  if (missing.length) {
    throw new PodnetError(
      'PODNET_NATIVE_STALE',
      `podnet native addon ${path} lacks ${missing.join(', ')}: it is older than this code; run \`npm run build\``,
    );
  }
  return loaded as NativeBinding;
}

let binding: NativeBinding | undefined;

/** The addon, loaded now if it was not yet; throws PODNET_NATIVE_MISSING / PODNET_NATIVE_STALE with the fix. */
export function loadNative(): NativeBinding {
  binding ??= loadBinding();
  return binding;
}

/** The addon, loaded at first use. */
export const native: NativeBinding = new Proxy({} as NativeBinding, {
  get(_target, name) {
    return Reflect.get(loadNative(), name);
  },
});
