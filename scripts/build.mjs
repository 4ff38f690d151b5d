#!/usr/bin/env -S node --import=tsx
// Build podnet (run with tsx: the CNI bundler is TypeScript): the native addon (node-gyp against the installed Node headers), then one bundled file per
// executable in bin/. Bundles keep start-up cheap (the container runtime pays our start for every pod) and make
// the CNI binaries self-contained when copied into /opt/cni/bin.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

// name in bin/ → entry point
const executables = {
  podnet: 'cmd/cni/main.ts',
  'podnet-ipam': 'cmd/cni/ipamMain.ts',
  podnetd: 'cmd/podnetd/main.ts',
  podnetctl: 'cmd/podnetctl/main.ts',
};

// Worker threads bundled beside the executables that start them (no launcher): name in bin/ → entry point.
const workerBundles = {
  'podnetd-dns-index': 'src/dns/indexWorker.ts', // src/dns/indexWorkerFeed.ts
};

function buildNative() {
  const gyp = join(root, 'node_modules', '.bin', 'node-gyp');
  // node-gyp cannot download Node's headers here: point it at the installed ones.
  execFileSync(gyp, ['rebuild', '--nodedir=/usr', '--loglevel=warn'], { cwd: root, stdio: 'inherit' });
}

/**
 * etcd3 loads its gRPC service definition at start-up from `${__dirname}/../proto/rpc.proto`, its package's own
 * directory: in a bundle that path would leave bin/. Point it at the copy in bin/etcd3-proto/.
 */
const etcdProtoPlugin = {
  name: 'etcd3-proto',
  setup(b) {
    b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      const from = '`${__dirname}/../proto/rpc.proto`';
      if (!text.includes(from)) throw new Error(`${a.path}: etcd3 no longer loads ${from}; update scripts/build.mjs`);
      return { contents: text.replace(from, '`${__dirname}/etcd3-proto/rpc.proto`'), loader: 'js' };
    });
  },
};

function copyEtcdProtos() {
  const from = join(root, 'node_modules', 'etcd3', 'proto');
  const to = join(root, 'bin', 'etcd3-proto');
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(to, f));
}

async function buildBundles() {
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const [name, entry] of [...Object.entries(executables), ...Object.entries(workerBundles)]) {
    const outfile = join(root, 'bin', `${name}.mjs`);
    await build({
      entryPoints: [join(root, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: false,
      minifyWhitespace: false,
      legalComments: 'none',
      logLevel: 'warning',
      // CommonJS dependencies call require() and read __dirname/__filename: give the ESM bundle all three (the
      // bundle's own directory; files a dependency loads relative to its package are copied beside the bundle).
      banner: { js: [
        "import { createRequire as __podnetCreateRequire } from 'node:module';",
        "import { fileURLToPath as __podnetFileURLToPath } from 'node:url';",
        "import { dirname as __podnetDirname } from 'node:path';",
        'const require = __podnetCreateRequire(import.meta.url);',
        'const __filename = __podnetFileURLToPath(import.meta.url);',
        'const __dirname = __podnetDirname(__filename);',
      ].join(' ') },
      external: ['*.node'],
      plugins: [etcdProtoPlugin],
    });
    if (name in workerBundles) continue;
    // A tiny launcher with an absolute interpreter path: runtimes exec CNI plugins with a clean environment,
    // where `#!/usr/bin/env node` may not find node.
    const launcher = join(root, 'bin', name);
    writeFileSync(launcher, `#!${process.execPath}\nimport('./${name}.mjs');\n`);
    chmodSync(launcher, 0o755);
  }
  copyEtcdProtos();
  const addon = join(root, 'build', 'Release', 'podnet_native.node');
  if (existsSync(addon)) copyFileSync(addon, join(root, 'bin', 'podnet_native.node'));
  // What `podnetctl install-cni` copies into the CNI bin dir: CommonJS bundles of the two CNI executables (a V8
  // start-up snapshot needs a script, not an ES module) and the hand-off shim's C source.
  const { bundleCniExecutables } = await import('../src/cni/install/cniBundler.ts');
  await bundleCniExecutables(join(root, 'bin'));
  copyFileSync(join(root, 'src', 'cni', 'handoff', 'podnet-shim.c'), join(root, 'bin', 'podnet-shim.c'));
  buildPrebuiltShim();
}

/**
 * The shim with the default socket (/run/podnet/cni.sock) and `podnet-node` beside itself: install-cni copies it
 * where the node has no C compiler (a container image); other socket paths are compiled at install time.
 */
function buildPrebuiltShim() {
  const source = join(root, 'bin', 'podnet-shim.c');
  const target = join(root, 'bin', 'podnet-shim');
  try {
    execFileSync('cc', ['-O2', '-o', target, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    console.warn(`podnet-shim not prebuilt (install-cni --handoff will need cc on the node): ${err.message.split('\n')[0]}`);
  }
}

if (!args.has('--bundles-only')) buildNative();
await buildBundles();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
console.log(`built podnet ${pkg.version}: ${Object.keys(executables).map((n) => `bin/${n}`).join(' ')}`);
