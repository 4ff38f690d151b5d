/**
 * `podnetd dns` as a process: flags, a file store, answers that follow manifest changes, /metrics and /ready,
 * several workers on one port, clean exit on SIGTERM, usage errors.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../../src/common/systemTools.ts';

const MAIN = ['--import=tsx', 'cmd/podnetd/main.ts', 'dns'];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

const manifest = (ip: string) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: ${ip}
  ports: [{name: http, port: 80}]
`;

async function dig(port: number, name: string): Promise<string> {
  return (await runTool('dig', ['+short', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', name], { allowFailure: true })).stdout.trim();
}

async function eventually(probe: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function startDaemon(t: import('ava').ExecutionContext, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [...MAIN, ...args], { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return child;
}

for (const workers of [1, 2]) {
  test(`serves a file store with ${workers} worker(s), follows changes, reports ready, exits on SIGTERM`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-dns-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'web.yaml'), manifest('10.96.0.20'));
    const [port, metrics] = [await freePort(), await freePort()];
    const child = startDaemon(t, ['--store', `file:${dir}`, '--listen', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${metrics}`,
      '--upstream', 'none', '--workers', String(workers), '--log-level', 'warn']);
    t.true(await eventually(async () => (await dig(port, 'web.default.svc.cluster.local')) === '10.96.0.20'));
    t.true(await eventually(async () => (await fetch(`http://127.0.0.1:${metrics}/ready`).catch(() => null))?.status === 200));
    writeFileSync(join(dir, 'web.yaml'), manifest('10.96.0.21'));
    t.true(await eventually(async () => (await dig(port, 'web.default.svc.cluster.local')) === '10.96.0.21'), 'answer follows the manifest');
    const body = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    t.regex(body, /coredns_dns_requests_total\{[^}]*zone="cluster\.local\."[^}]*type="A"\} \d+/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    t.is(await exited, 0);
  });
}

test('usage errors name the flag and exit 2', (t) => {
  const r = spawnSync(process.execPath, [...MAIN, '--pods', 'sometimes'], { cwd: process.cwd(), encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /--pods: expected disabled, insecure or verified, got "sometimes"/);
  const u = spawnSync(process.execPath, [...MAIN, '--upstream', 'dns.google'], { cwd: process.cwd(), encoding: 'utf8' });
  t.is(u.status, 2);
  t.regex(u.stderr, /--upstream: expected an IP address/);
});

test('refuses an upstream that is itself (forwarding loop); --log-queries logs one line per query', async (t) => {
  const port = await freePort();
  const loop = spawnSync(process.execPath, [...MAIN, '--store', 'file:/nonexistent', '--listen', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${await freePort()}`],
    { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 });
  t.is(loop.status, 1);
  t.regex(loop.stderr, /upstream 127\.0\.0\.1:\d+ is this server itself \(a forwarding loop\)/);

  const dir = mkdtempSync(join(tmpdir(), 'podnet-dns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'web.yaml'), manifest('10.96.0.20'));
  const child = startDaemon(t, ['--store', `file:${dir}`, '--listen', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${await freePort()}`,
    '--upstream', 'none', '--log-queries']);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  t.true(await eventually(async () => (await dig(port, 'web.default.svc.cluster.local')) === '10.96.0.20'));
  t.true(await eventually(async () => stderr.includes('"qname":"web.default.svc.cluster.local"')));
  t.regex(stderr, /"op":"query","client":"127\.0\.0\.1","proto":"udp","qname":"web\.default\.svc\.cluster\.local","qtype":"A","rcode":"NOERROR"/);
  child.kill('SIGTERM');
});
