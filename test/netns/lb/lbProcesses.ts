/**
 * `podnetd lb` as real child processes (one per node namespace, via --netns) sharing a file store, for the
 * kill -9 failover test and bench/lb. Logs go to files under the store's parent directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The lab's L2 pool in the legacy MetalLB ConfigMap format, a LoadBalancer Service, and its L2 announcement. */
export function writeLegacyManifests(storeDir: string, lbIp = '198.18.0.200'): void {
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(join(storeDir, 'metallb-config.yaml'), `apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    address-pools:
    - name: default
      protocol: layer2
      addresses:
      - 198.18.0.200-198.18.0.250
`);
  writeFileSync(join(storeDir, 'web.yaml'), `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  type: LoadBalancer
  loadBalancerIP: ${lbIp}
  selector: {app: web}
  ports: [{port: 80}]
`);
}

export interface LbProcess {
  node: string;
  child: ChildProcess;
  exited: Promise<void>;
}

export function spawnLb(storeDir: string, node: string, netns: string, logDir: string): LbProcess {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, `${node}.log`), 'a');
  const child = spawn(process.execPath, ['--import=tsx', join(ROOT, 'cmd/podnetd/main.ts'), 'lb', '--store', `file:${storeDir}`, '--node', node, '--netns', netns, '--log-level', 'info'], {
    cwd: ROOT, stdio: ['ignore', log, log], env: { ...process.env, PODNET_NATIVE_ADDON: join(ROOT, 'build/Release/podnet_native.node') },
  });
  closeSync(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { node, child, exited };
}

export async function stopAll(procs: Iterable<LbProcess>): Promise<void> {
  await Promise.all([...procs].map(async (p) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGTERM');
    const done = await Promise.race([p.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    if (!done) p.child.kill('SIGKILL');
    await p.exited;
  }));
}
