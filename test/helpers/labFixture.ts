/**
 * The lab as a test fixture: a lab with a unique name and its own state root, destroyed in teardown (which ava runs
 * also when the test fails). End-to-end tests of every area start here:
 *
 *   const lab = await startLab(t, { nodes: 2 });
 *   await lab.exec('client', ['ping', '-c1', primaryAddress(lab.nodes[0]!)]);
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, podnetctlCommand, type CreateLabOptions, type Lab } from '../../src/lab/lab.ts';
import { startControlPlane, type ControlPlaneOptions, type ControlPlaneReport } from '../../src/lab/labControlPlane.ts';
import { openStore } from '../../src/store/openStore.ts';
import type { Store } from '../../src/store/store.ts';
import { uniquePrefix } from './netnsFixture.ts';

/** A state root for one test, removed at teardown. */
export function labStateRoot(t: ExecutionContext): string {
  const root = mkdtempSync(join(tmpdir(), 'podnet-lab-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A unique lab name (letters and digits only, as lab names must be). */
export function uniqueLabName(tag = 'l'): string {
  return uniquePrefix(tag);
}

export async function startLab(t: ExecutionContext, opts: CreateLabOptions = {}): Promise<Lab> {
  const lab = await createLab({ name: uniqueLabName(), stateRoot: labStateRoot(t), ...opts });
  t.teardown(async () => {
    await lab.destroy();
  });
  return lab;
}

/**
 * A lab with its control plane running (store, podnetd and a lab kubelet per node) and a store handle from this
 * process (the lab's file store, or its etcd through the unix socket). Create Pods in `store`; the kubelets run
 * them. Everything is removed at teardown.
 *
 *   const { lab, store } = await startCluster(t, { nodes: 2, routing: 'vxlan' });
 */
export async function startCluster(t: ExecutionContext, opts: CreateLabOptions = {}, cpOpts: ControlPlaneOptions = {}):
  Promise<{ lab: Lab; store: Store; controlPlane: ControlPlaneReport }> {
  const lab = await startLab(t, opts);
  const controlPlane = await startControlPlane(lab, cpOpts);
  const store = await openStore(controlPlane.hostStore);
  t.teardown(() => store.close());
  return { lab, store, controlPlane };
}

/** Run `podnetctl ARGS` (the built binary or the sources) synchronously; for CLI-level tests. */
export function podnetctl(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const cmd = podnetctlCommand();
  const r = spawnSync(cmd.argv[0]!, [...cmd.argv.slice(1), ...args], {
    cwd: cmd.cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
