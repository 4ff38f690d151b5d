/**
 * @module cni/install/cniInstaller — put podnet and podnet-ipam into a CNI bin dir, and the conflist into the conf
 * dir, so that the next pod started by the runtime uses them.
 *
 * Each executable is installed as `<name>.cjs` (the bundle), `<name>.blob` (a V8 start-up snapshot of it, built
 * here with the very node binary that will run it, since a snapshot only loads into the Node build that made it),
 * and `<name>`, a one-line launcher `#!<node> --snapshot-blob=<dir>/<name>.blob`. The snapshot is verified by
 * running VERSION through the launcher; if it cannot be built or does not answer, the launcher loads the bundle
 * instead (slower start, same behaviour). Every file is written under a temporary name and renamed into place, so
 * a runtime exec'ing the plugin during an upgrade sees the old or the new file, never half of one (and never
 * ETXTBSY).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../../common/systemTools.ts';
import { DEFAULT_HANDOFF_SOCKET } from '../handoff/cniHandoffServer.ts';

export const CNI_EXECUTABLES = ['podnet', 'podnet-ipam'] as const;

export interface InstallOptions {
  binDir: string;
  confDir: string;
  /** Where the CommonJS bundles `<name>.cjs` are. */
  bundleDir: string;
  conflist?: { file: string; content: string };
  snapshot: boolean;
  /** The node binary the launchers use; default: the one running now. */
  nodePath?: string;
  /**
   * Install `podnet` as the native hand-off shim (src/cni/handoff/podnet-shim.c, compiled here with cc) that
   * passes invocations to podnetd on this socket, with the Node plugin as `podnet-node` for when podnetd is absent.
   */
  handoff?: { socketPath: string; shimSource: string };
}

export interface InstalledExecutable {
  name: string;
  path: string;
  snapshot: boolean;
  /** Why the snapshot was not used, when it was not. */
  note?: string;
}

function writeAtomically(path: string, content: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function answersVersion(argv: string[]): boolean {
  try {
    const out = execFileSync(argv[0]!, argv.slice(1), { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.1.0"}', encoding: 'utf8', timeout: 30_000, stdio: ['pipe', 'pipe', 'ignore'] });
    return Array.isArray((JSON.parse(out) as { supportedVersions?: unknown }).supportedVersions);
  } catch {
    return false;
  }
}

function buildSnapshot(node: string, binDir: string, name: string): string | undefined {
  const blob = join(binDir, `${name}.blob`);
  const tmp = join(binDir, `.${name}.blob.tmp-${process.pid}`);
  try {
    execFileSync(node, ['--snapshot-blob', tmp, '--build-snapshot', join(binDir, `${name}.cjs`)],
      { cwd: binDir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000, env: {} });
    if (!answersVersion([node, `--snapshot-blob=${tmp}`])) return 'the snapshot did not answer VERSION';
    renameSync(tmp, blob);
    return undefined;
  } catch (err) {
    return `building the snapshot failed: ${((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim().split('\n')[0]}`;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Install `<name>.cjs` (+ snapshot) behind the launcher `<launcherName>` (default: the name itself). */
export function installExecutable(opts: InstallOptions, name: string, launcherName = name): InstalledExecutable {
  const node = opts.nodePath ?? process.execPath;
  const bundle = join(opts.bundleDir, `${name}.cjs`);
  if (!existsSync(bundle)) throw new Error(`${bundle} not found: run \`npm run build\` first`);
  const target = join(opts.binDir, `${name}.cjs`);
  const tmp = `${target}.tmp-${process.pid}`;
  copyFileSync(bundle, tmp);
  renameSync(tmp, target);
  const launcher = join(opts.binDir, launcherName);
  const note = opts.snapshot ? buildSnapshot(node, opts.binDir, name) : 'disabled by --no-snapshot';
  if (!note) {
    writeAtomically(launcher, `#!${node} --snapshot-blob=${join(opts.binDir, `${name}.blob`)}\n`, 0o755);
    if (answersVersion([launcher])) return { name, path: launcher, snapshot: true };
  }
  writeAtomically(launcher, `#!${node}\nrequire(${JSON.stringify(target)});\n`, 0o755);
  rmSync(join(opts.binDir, `${name}.blob`), { force: true });
  if (!answersVersion([launcher])) throw new Error(`${launcher} does not answer VERSION after installation`);
  return { name, path: launcher, snapshot: false, note: note ?? 'the snapshot launcher did not answer VERSION' };
}

/** `npm run build`'s shim (bin/podnet-shim): default socket, `podnet-node` beside itself. */
function prebuiltShimFor(opts: InstallOptions, fallback: InstalledExecutable): string | undefined {
  const prebuilt = join(opts.bundleDir, 'podnet-shim');
  const defaults = opts.handoff!.socketPath === DEFAULT_HANDOFF_SOCKET && fallback.path === join(opts.binDir, 'podnet-node');
  return defaults && existsSync(prebuilt) ? prebuilt : undefined;
}

function installShim(opts: InstallOptions, fallback: InstalledExecutable): InstalledExecutable {
  const { socketPath, shimSource } = opts.handoff!;
  const target = join(opts.binDir, 'podnet');
  const prebuilt = prebuiltShimFor(opts, fallback);
  const cc = prebuilt ? undefined : findTool('cc');
  if (!prebuilt && !cc) {
    return { ...fallback, note: `no C compiler and no prebuilt shim for socket ${socketPath}: installed without the podnetd hand-off` };
  }
  const tmp = join(opts.binDir, `.podnet.shim-${process.pid}`);
  try {
    if (prebuilt) copyFileSync(prebuilt, tmp);
    else {
      execFileSync(cc!, ['-O2', `-DSOCKET_PATH=${JSON.stringify(socketPath)}`, `-DFALLBACK=${JSON.stringify(fallback.path)}`,
        '-o', tmp, shimSource], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    }
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  if (!answersVersion([target])) throw new Error(`${target} (hand-off shim) does not answer VERSION after installation`);
  const how = prebuilt ? 'prebuilt' : 'compiled';
  return { name: 'podnet', path: target, snapshot: fallback.snapshot, note: `${how} hand-off to ${socketPath}, else ${fallback.path}` };
}

export function installCni(opts: InstallOptions): InstalledExecutable[] {
  mkdirSync(opts.binDir, { recursive: true, mode: 0o755 });
  const installed = CNI_EXECUTABLES.map((name) =>
    (name === 'podnet' && opts.handoff ? installShim(opts, installExecutable(opts, name, 'podnet-node')) : installExecutable(opts, name)));
  const addon = join(opts.bundleDir, 'podnet_native.node');
  if (existsSync(addon)) copyFileSync(addon, join(opts.binDir, 'podnet_native.node'));
  if (opts.conflist) {
    mkdirSync(opts.confDir, { recursive: true, mode: 0o755 });
    writeAtomically(join(opts.confDir, opts.conflist.file), opts.conflist.content, 0o644);
  }
  return installed;
}
