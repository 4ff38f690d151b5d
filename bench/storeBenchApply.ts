/**
 * bench/store's apply figure (issue 14): `bin/podnetctl apply -f` of one `kind: List` (the Services and their
 * EndpointSlices) with the shipped bundle, first apply and re-apply (all unchanged), on a fresh file store and
 * a fresh etcd; on the file store a second process watches and reports the events it got and its CPU time, and
 * the idle cost of an open store over the result is measured (list('Lease') every 200 ms, as the LB speaker).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointSlice, Service } from '../src/store/types.ts';

export interface ApplyRun { seconds: number; verbs: Record<string, number>; code: number | null }
export interface WatchReport { objects: number; duplicates: number; updates: number; cpuMs: number; fullScans: number }

function run(args: string[], onLine?: (l: string) => void): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), 180_000);
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      out += text;
      if (onLine) for (const l of text.split('\n')) if (l) onLine(l);
    });
    p.on('error', reject);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ out, code }); });
  });
}

export async function podnetctlApply(file: string, store: string): Promise<ApplyRun> {
  const t0 = performance.now();
  const { out, code } = await run(['bin/podnetctl', 'apply', '-f', file, '--store', store]);
  const verbs: Record<string, number> = {};
  for (const l of out.split('\n')) if (l) verbs[l.split(' ').pop()!] = (verbs[l.split(' ').pop()!] ?? 0) + 1;
  return { seconds: (performance.now() - t0) / 1000, verbs, code };
}

/** Start the watcher process and resolve once it has synced; `report` resolves with its JSON line. */
export async function startWatcher(dir: string, expected: number): Promise<{ report: Promise<WatchReport> }> {
  let ready!: () => void;
  const isReady = new Promise<void>((r) => { ready = r; });
  const report = run([process.execPath, '--import', 'tsx', 'bench/storeBenchWatcher.ts', '../src/store/backends/fileStore.ts', dir, String(expected)], (l) => { if (l === 'ready') ready(); })
    .then(({ out }) => JSON.parse(out.trim().split('\n').pop()!) as WatchReport);
  await Promise.race([isReady, report]);
  return { report };
}

export async function idleCpu(module: string, dir: string, seconds: number): Promise<{ cpuMs: number; seconds: number; pct: number }> {
  const { out } = await run([process.execPath, '--import', 'tsx', 'bench/storeBenchIdle.ts', module, dir, String(seconds)]);
  return JSON.parse(out.trim().split('\n').pop()!) as { cpuMs: number; seconds: number; pct: number };
}

export function writeList(path: string, services: Service[], slices: EndpointSlice[]): void {
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...services, ...slices] }));
}

const fmt = (r: ApplyRun) => `${r.seconds.toFixed(1)} s (${Object.entries(r.verbs).map(([v, n]) => `${n} ${v}`).join(', ')}${r.code ? `, exit ${r.code}` : ''})`;

/** The apply lines of bench/store. Returns the slower first apply in seconds. */
export async function applyFigures(work: string, services: Service[], slices: EndpointSlice[], etcdSpec: string, out: (l: string) => void): Promise<number> {
  const list = join(work, 'apply-list.json');
  writeList(list, services, slices);
  const total = services.length + slices.length;
  const dir = join(work, 'apply-file');
  mkdirSync(dir, { recursive: true });
  const watcher = await startWatcher(dir, total);
  const fileFirst = await podnetctlApply(list, `file:${dir}`);
  const w = await watcher.report;
  const fileAgain = await podnetctlApply(list, `file:${dir}`);
  out(`apply file: ${total} objects, first ${fmt(fileFirst)}, re-apply ${fmt(fileAgain)}`);
  out(`apply file: a second process watching got ${w.objects} objects, ${w.duplicates} duplicates, ${w.updates} updates, ${w.cpuMs.toFixed(0)} ms CPU, ${w.fullScans} directory walks (its open)`);
  const etcdFirst = await podnetctlApply(list, etcdSpec);
  const etcdAgain = await podnetctlApply(list, etcdSpec);
  out(`apply etcd: ${total} objects, first ${fmt(etcdFirst)}, re-apply ${fmt(etcdAgain)}`);
  const idle = await idleCpu('../src/store/backends/fileStore.ts', dir, 20);
  out(`idle file store over the applied objects, list('Lease') every 200 ms: ${idle.pct.toFixed(2)} % CPU (${idle.cpuMs.toFixed(0)} ms in ${idle.seconds.toFixed(0)} s)`);
  return Math.max(fileFirst.seconds, etcdFirst.seconds);
}
