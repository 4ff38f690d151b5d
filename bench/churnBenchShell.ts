/**
 * How bench/churn runs things: the shipped executables in bin/ (rebuilt first when older than the sources), every
 * child in its own process group with a hard time limit, and a registry of what to undo (labs to take down, child
 * groups to kill) that runs on normal exit, on failure and on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const SHIPPED = [join(REPO, 'bin', 'podnetctl')];
// From the sources, the lab runs podnetd from the sources too (src/lab/labProcesses.ts: the same code as its caller).
const SOURCES = [process.execPath, '--import=tsx', join(REPO, 'cmd', 'podnetctl', 'main.ts')];
let cli = SHIPPED;

/** Run podnetctl (and so the lab's podnetd) from the sources instead of bin/: a fallback, said so in the output. */
export function useSources(): void {
  cli = SOURCES;
}

/** argv[0..] of podnetctl as this run invokes it. */
export function ctl(): string[] {
  return [...cli];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Done { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; ms: number }

const live = new Set<ChildProcess>();
const undo: Array<() => Promise<void>> = [];

/** Kill a child's whole process group (it was started detached: pgid = its pid). */
export function killGroup(child: ChildProcess, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, sig); } catch { /* gone */ }
}

export interface Started { child: ChildProcess; done: Promise<Done> }

/**
 * Start `argv` detached with stdout+stderr appended to `outFile`; SIGKILL to its group after `limitMs`.
 * `env` is merged over this process's environment.
 */
export function start(argv: string[], outFile: string, limitMs: number, env: NodeJS.ProcessEnv = {}): Started {
  const fd = openSync(outFile, 'a');
  const t0 = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  live.add(child);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; killGroup(child); }, limitMs);
  const done = new Promise<Done>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, timedOut, ms: Date.now() - t0 });
    };
    child.once('error', () => finish(127, null));
    child.once('exit', finish);
  });
  return { child, done };
}

/** Run to completion (bounded); the output file's text comes back with the exit status. */
export async function run(argv: string[], outFile: string, limitMs: number, env: NodeJS.ProcessEnv = {}): Promise<Done & { out: string }> {
  const d = await start(argv, outFile, limitMs, env).done;
  return { ...d, out: readFileSync(outFile, 'utf8') };
}

/** Register an undo step (run last-in first-out by cleanup()). */
export function onCleanup(step: () => Promise<void>): void {
  undo.push(step);
}

let cleaning: Promise<void> | undefined;

/** Kill every child still running, then run the undo steps; idempotent. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of live) killGroup(c);
    while (undo.length) await undo.pop()!().catch((err: unknown) => process.stderr.write(`bench/churn: cleanup: ${String(err)}\n`));
    // The interrupted round may have started more children while the labs came down: those go too.
    for (const c of live) killGroup(c);
  })();
  return cleaning;
}

/** SIGINT/SIGTERM and an overall deadline all end in cleanup() and a non-zero exit. */
export function guard(overallMs: number): void {
  const bail = (why: string, code: number) => {
    process.stderr.write(`\nbench/churn: ${why}: cleaning up\n`);
    void cleanup().then(() => process.exit(code));
  };
  process.once('SIGINT', () => bail('SIGINT', 130));
  process.once('SIGTERM', () => bail('SIGTERM', 143));
  setTimeout(() => bail(`overall limit of ${Math.round(overallMs / 1000)} s reached`, 124), overallMs).unref();
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** bin/ is what runs in the lab: rebuild the bundles when any source under src/ or cmd/ is newer than them. */
export async function ensureBundles(logFile: string): Promise<string> {
  const bundles = ['podnetd.mjs', 'podnetctl.mjs'].map((f) => join(REPO, 'bin', f));
  const built = Math.min(...bundles.map((b) => { try { return statSync(b).mtimeMs; } catch { return 0; } }));
  const sources = Math.max(newestMtime(join(REPO, 'src')), newestMtime(join(REPO, 'cmd')));
  if (built >= sources) return 'bin/ is current';
  const r = await run([process.execPath, '--import=tsx', 'scripts/build.mjs', '--bundles-only'], logFile, 300_000);
  if (r.code !== 0) throw new Error(`building bin/ failed (exit ${r.code}); see ${logFile}`);
  return `bin/ rebuilt in ${(r.ms / 1000).toFixed(0)} s (sources were newer)`;
}
