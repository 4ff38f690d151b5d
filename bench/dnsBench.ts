/**
 * bench/dns — dnsperf on loopback, one client thread (`-c 1 -T 1`, pinned to CPU 1; servers pinned to CPU 0):
 *   - ours: the DNS server (one process) with N ClusterIP Services in its record index, fed through the store;
 *   - dnsmasq serving the same names as `host-record`s (the anchor, issue 6: "QPS ≥ dnsmasq");
 *   - a bare Node UDP responder that decodes nothing (the runtime's ceiling);
 *   - for information, ours with `--workers` node:cluster workers (not pinned: they share both CPUs with dnsperf).
 * Each target: a saturating run (QPS), then a run limited to half that rate with per-query latencies (`-v`) for
 * p50/p99, each after a 1 s warm-up. Rounds alternate targets so background load on the shared machine hits them alike; the best round
 * counts. Everything started here is killed at the end, also on failure.
 *
 * usage: bench/dns [--sizes 100,10000] [--seconds 5] [--rounds 2] [--workers 2]  (--workers 1: skip that line)
 * Last line: `ratio=R ours=X anchor=Y` for the largest size, R = dnsmasq QPS / our QPS (≤ 1.0 meets the target).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findTool, runTool } from '../src/common/systemTools.ts';
import { benchServiceIp, benchServiceName } from './dnsBenchNames.ts';

const DNSPERF = findTool('dnsperf');
const DNSMASQ = findTool('dnsmasq');
const TASKSET = findTool('taskset');
const children = new Set<ChildProcess>();

interface Run { qps: number; p50ms: number; p99ms: number; lost: number }

function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return TASKSET ? [TASKSET, ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/** Start a server process that prints "ready PORT" (or, for dnsmasq, just starts); resolves when it serves. */
function startServer(cmd: string, args: string[], readyLine: boolean): Promise<{ child: ChildProcess; port: number; info: string }> {
  const [bin, argv] = pinned(0, cmd, args);
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let err = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${err.slice(0, 300)}`)), 120_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}): ${err.slice(0, 300)}`)); });
    if (!readyLine) { setTimeout(() => { clearTimeout(timer); resolve({ child, port: 0, info: '' }); }, 500); return; }
    child.stdout!.on('data', (d) => {
      const m = /ready (\d+) ?(.*)/.exec(String(d));
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]), info: m[2]!.trim() }); }
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : NaN;
}

async function dnsperf(port: number, queries: string, seconds: number, rate?: number): Promise<Run> {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-c', '1', '-T', '1', '-l', String(seconds), '-t', '2'];
  if (rate) args.push('-Q', String(Math.max(1, Math.floor(rate))), '-v');
  const [bin, argv] = pinned(1, DNSPERF!, args);
  const out = (await runTool(bin, argv, { timeoutMs: (seconds + 30) * 1000, allowFailure: true })).stdout;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  // -v lines: "> NOERROR svc-1.bench.svc.cluster.local A 0.000123"
  const lat = [...out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  return { qps, lost, p50ms: percentile(lat, 0.5), p99ms: percentile(lat, 0.99) };
}

async function measure(port: number, queries: string, seconds: number): Promise<Run> {
  await dnsperf(port, queries, 1); // warm-up: JIT, answer templates, socket buffers
  const full = await dnsperf(port, queries, seconds);
  const half = await dnsperf(port, queries, Math.min(seconds, 3), full.qps / 2);
  return { qps: full.qps, lost: full.lost, p50ms: half.p50ms, p99ms: half.p99ms };
}

function writeInputs(dir: string, n: number, dnsmasqPort: number): { queries: string; dnsmasqConf: string } {
  const queries = join(dir, `queries-${n}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < Math.min(n, 10_000); i++) lines.push(`${benchServiceName(i)} A`);
  writeFileSync(queries, `${lines.join('\n')}\n`);
  const dnsmasqConf = join(dir, `dnsmasq-${n}.conf`);
  const conf = ['no-resolv', 'no-hosts', `port=${dnsmasqPort}`, 'listen-address=127.0.0.1', 'bind-interfaces', 'local-ttl=5'];
  for (let i = 0; i < n; i++) conf.push(`host-record=${benchServiceName(i)},${benchServiceIp(i)}`);
  writeFileSync(dnsmasqConf, `${conf.join('\n')}\n`);
  return { queries, dnsmasqConf };
}

function fmt(r: Run): string {
  return `${r.qps.toFixed(0).padStart(7)} QPS  p50 ${r.p50ms.toFixed(3)} ms  p99 ${r.p99ms.toFixed(3)} ms (at half load)  lost ${r.lost}`;
}

/** Ours with node:cluster workers on a fixed port, unpinned. */
async function startMulti(node: string, n: number, workers: number): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(node, ['--import=tsx', 'bench/dnsBenchServer.ts', String(n), String(port), String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('multi-worker server did not start')), 120_000);
    child.stdout!.on('data', (d) => { if (String(d).startsWith('ready')) { clearTimeout(timer); resolve(); } });
  });
  return { child, port };
}

function rssMiB(pid: number | undefined): string {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return (kb / 1024).toFixed(0);
  } catch {
    return '?';
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, workers: { type: 'string' } } });
  const workers = Number(values.workers ?? '2');
  if (!DNSPERF || !DNSMASQ) throw new Error('bench/dns needs dnsperf and dnsmasq (Debian packages dnsperf, dnsmasq-base)');
  const sizes = (values.sizes ?? '100,10000').split(',').map(Number);
  const seconds = Number(values.seconds ?? '5');
  const rounds = Number(values.rounds ?? '2');
  const dir = mkdtempSync(join(tmpdir(), 'podnet-dnsbench-'));
  const node = process.execPath;
  let last = { ours: NaN, anchor: NaN };
  try {
    for (const n of sizes) {
      const dnsmasqPort = await freePort();
      const inputs = writeInputs(dir, n, dnsmasqPort);
      const ours = await startServer(node, ['--import=tsx', 'bench/dnsBenchServer.ts', String(n), '0'], true);
      const dnsmasq = await startServer(DNSMASQ, ['--no-daemon', `--conf-file=${inputs.dnsmasqConf}`], false);
      const barePort = await freePort();
      const bare = await startServer(node, ['--import=tsx', 'bench/dnsBenchBareResponder.ts', String(barePort)], true);
      const multi = workers > 1 ? await startMulti(node, n, workers) : null;
      const targets: Array<[string, number]> = [['ours', ours.port], ['dnsmasq', dnsmasqPort], ['bare node', bare.port]];
      if (multi) targets.push([`ours x${workers}`, multi.port]);
      const best: Record<string, Run | undefined> = {};
      for (let r = 0; r < rounds; r++) {
        for (const [name, p] of targets) {
          const run = await measure(p, inputs.queries, seconds);
          if (!best[name] || run.qps > best[name]!.qps) best[name] = run;
        }
      }
      const rss = rssMiB(ours.child.pid);
      process.stdout.write(`\n${n} services (dnsperf -c 1 -T 1 -l ${seconds}, best of ${rounds}); ours: ${ours.info} rss=${rss}MiB\n`);
      for (const [name] of targets) process.stdout.write(`  ${name.padEnd(10)} ${fmt(best[name]!)}\n`);
      last = { ours: best.ours!.qps, anchor: best.dnsmasq!.qps };
      await Promise.all([stop(ours.child), stop(dnsmasq.child), stop(bare.child), ...(multi ? [stop(multi.child)] : [])]);
    }
  } finally {
    await Promise.all([...children].map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`ratio=${(last.anchor / last.ours).toFixed(2)} ours=${last.ours.toFixed(0)} anchor=${last.anchor.toFixed(0)}\n`);
}

main().catch(async (err: unknown) => {
  await Promise.all([...children].map(stop));
  process.stderr.write(`bench/dns: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
