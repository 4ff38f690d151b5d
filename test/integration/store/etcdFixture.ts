/**
 * Start Debian's etcd (package etcd-server) on 127.0.0.1 with free ports and a temp data dir; one member or a
 * cluster. Every member is killed and its data removed in teardown (also when the test fails).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../../../src/common/systemTools.ts';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  proc: ChildProcess;
  kill(): void;
}

export interface EtcdCluster {
  members: EtcdMember[];
  urls: string[];
  spec: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, proc: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`etcd at ${url} exited with code ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`etcd at ${url} did not become healthy`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start `size` members forming one cluster; returns when every member reports healthy. */
/** Anything with ava's `teardown`: a test's context, or a collector run from test.after.always. */
export interface Teardown { teardown(fn: () => unknown): void; log?(...v: unknown[]): void }

export async function startEtcd(t: Teardown, size = 1): Promise<EtcdCluster> {
  const etcd = requireTool('etcd', 'etcd-server');
  const ports = await Promise.all(Array.from({ length: size * 2 }, () => freePort()));
  const names = Array.from({ length: size }, (_, i) => `m${i}`);
  const peer = (i: number) => `http://127.0.0.1:${ports[size + i]}`;
  const initialCluster = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const token = `podnet-test-${process.pid}-${Date.now()}`;
  const members: EtcdMember[] = names.map((name, i) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'podnet-etcd-'));
    const clientUrl = `http://127.0.0.1:${ports[i]}`;
    const proc = spawn(etcd, [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      // Short timers so leases as short as 1 s are allowed and a dead member is noticed quickly.
      '--heartbeat-interval', '50', '--election-timeout', '500',
      '--logger', 'zap', '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
    t.teardown(async () => {
      kill();
      await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
      if (process.env.PODNET_DEBUG && stderr) process.stderr.write(`${name}: ${stderr}\n`);
    });
    return { name, clientUrl, proc, kill };
  });
  const deadline = Date.now() + 30_000;
  await Promise.all(members.map((m) => waitHealthy(m.clientUrl, m.proc, deadline)));
  const urls = members.map((m) => m.clientUrl);
  return { members, urls, spec: `etcd:${urls.join(',')}` };
}

/** Collects teardowns for fixtures shared by a whole test file; run them in test.after.always. */
export class SharedTeardown implements Teardown {
  #fns: Array<() => unknown> = [];
  teardown(fn: () => unknown): void { this.#fns.push(fn); }
  async run(): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) await fn();
  }
}
