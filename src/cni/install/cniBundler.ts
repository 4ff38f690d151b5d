/**
 * @module cni/install/cniBundler — build the CommonJS bundles `<name>.cjs` of the CNI executables from a source
 * checkout (esbuild is a dev dependency). CommonJS because Node 20 builds start-up snapshots only from a script,
 * not from an ES module. Used by install-cni when no prebuilt bundles are at hand, by bench/cni and by the tests.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CNI_ENTRIES = { podnet: 'cmd/cni/main.ts', 'podnet-ipam': 'cmd/cni/ipamMain.ts' } as const;

export async function bundleCniExecutables(outDir: string): Promise<void> {
  const { build } = await import('esbuild');
  for (const [name, entry] of Object.entries(CNI_ENTRIES)) {
    await build({
      entryPoints: [join(ROOT, entry)], outfile: join(outDir, `${name}.cjs`), bundle: true, platform: 'node',
      format: 'cjs', target: 'node20', logLevel: 'warning', external: ['*.node'], legalComments: 'none',
      // src/native locates its addon relative to import.meta.url, which CommonJS lacks: give it the bundle's own URL.
      define: { 'import.meta.url': '__podnetImportMetaUrl' },
      banner: { js: "var __podnetImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    });
  }
  // The netlink dataplane needs the native addon beside the executables (src/native looks there first).
  const addon = join(ROOT, 'build', 'Release', 'podnet_native.node');
  if (existsSync(addon)) copyFileSync(addon, join(outDir, 'podnet_native.node'));
}
