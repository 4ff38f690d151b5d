/**
 * The agent's supervisor over fake parts in real child processes (test/unit/daemon/_fakePartProcess.ts, served by
 * the real child runtime): start order, restart with backoff, health and metrics aggregated over IPC, a failed
 * first start, and children that exit when the supervisor is killed -9.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { AgentSupervisor, type SupervisorOptions } from '../../../src/daemon/agentSupervisor.ts';
import { supervisorMetrics } from '../../../src/daemon/supervisorMetrics.ts';
import { silentLogger } from '../../../src/common/logger.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const FAKE = fileURLToPath(new URL('./_fakePartProcess.ts', import.meta.url));
const HARNESS = fileURLToPath(new URL('./_supervisorHarness.ts', import.meta.url));

interface Ctx { teardown(fn: () => unknown): void }

function fakeDir(t: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-supervisor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function supervise(t: Ctx, dir: string, names: string[], extra: Partial<SupervisorOptions> = {}): Promise<AgentSupervisor> {
  process.env.FAKE_DIR = dir; // forked children inherit the environment
  const s = await AgentSupervisor.start({
    parts: names.map((name) => ({ name, class: 'latency' as const })),
    command: (name) => ({ modulePath: FAKE, args: [name], execArgv: ['--import=tsx'] }),
    logger: silentLogger, stopTimeoutMs: 2000, ...extra,
  });
  t.teardown(() => s.stop());
  return s;
}

const events = (dir: string) => readFileSync(join(dir, 'events.log'), 'utf8').trim().split('\n');

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // A zombie (exited, not yet reaped by its new parent) has stopped running too.
  try { return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

function capturingLogger(): { logger: typeof silentLogger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { logger, lines };
}

test.serial('the first part has started before the others are spawned; stop takes every child down, the first last', async (t) => {
  const dir = fakeDir(t);
  const s = await supervise(t, dir, ['first', 'a', 'b']);
  const log = events(dir);
  const firstStarted = log.findIndex((l) => l.startsWith('started first '));
  t.true(firstStarted >= 0);
  for (const p of ['a', 'b']) t.true(log.findIndex((l) => l.startsWith(`start ${p} `)) > firstStarted, `${p} started after first had`);
  const pids = Object.values(s.pids()) as number[];
  t.is(new Set(pids).size, 3);
  await s.stop();
  const after = events(dir).filter((l) => l.startsWith('stopped '));
  t.deepEqual(after.map((l) => l.split(' ')[1]).sort(), ['a', 'b', 'first']);
  t.is(after.at(-1)!.split(' ')[1], 'first');
  for (const pid of pids) t.true(gone(pid));
});

test.serial('a part that crashes is restarted, logged with its name and exit code, with a delay that doubles', async (t) => {
  const dir = fakeDir(t);
  const { logger, lines } = capturingLogger();
  const s = await supervise(t, dir, ['first', 'crash-once', 'loop-x'], { logger, backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 } });
  // The first pid from the part's own log: on a busy machine crash-once may already have crashed (300 ms after
  // its start) and been restarted by the time start() returns, so s.pids() could already show the second one.
  const startsOf = () => events(dir).filter((l) => l.startsWith('start crash-once ')).map((l) => Number(l.split(' ')[2]));
  const firstPid = startsOf()[0];
  t.truthy(firstPid, 'crash-once started once before start() returned');
  await waitFor('crash-once running again', () => s.restarts()['crash-once'] === 1 && s.pids()['crash-once'] !== undefined && s.pids()['crash-once'] !== firstPid, 90_000);
  await waitFor('four restarts of loop-x', () => s.restarts()['loop-x']! >= 4, 90_000);
  const exits = lines.filter((l) => l.event === 'partExited');
  const once = exits.filter((l) => l.part === 'crash-once');
  t.is(once.length, 1);
  t.like(once[0], { code: 3, signal: null, restartInMs: 50 });
  t.regex(String(once[0]!.msg), /crash-once exited \(exit code 3\)/);
  t.deepEqual(exits.filter((l) => l.part === 'loop-x').slice(0, 4).map((l) => l.restartInMs), [50, 100, 200, 400]);
  await waitFor('crash-once healthy again', async () => ((await s.health(2000)).detail?.parts as Record<string, string>)['crash-once'] === 'ok', 10_000);
});

test.serial('/healthz: every child asked; an unhealthy, unresponsive or dead child makes the agent unhealthy, by name', async (t) => {
  const dir = fakeDir(t);
  const s = await supervise(t, dir, ['first', 'ok-a', 'sick-b', 'hang-c'], { backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 } });
  t.deepEqual((await s.health(2000)).detail?.parts, { 'first': 'ok', 'ok-a': 'ok', 'sick-b': 'unhealthy', 'hang-c': 'ok' });
  writeFileSync(join(dir, 'hang-now'), '');
  await waitFor('hang-c blocked', () => events(dir).some((l) => l.startsWith('hanging hang-c ')));
  process.kill(s.pids()['ok-a']!, 'SIGKILL');
  await waitFor('ok-a down', () => s.pids()['ok-a'] === undefined);
  const h = await s.health(500);
  t.false(h.healthy);
  const parts = h.detail?.parts as Record<string, string>;
  t.is(parts.first, 'ok');
  t.is(parts['sick-b'], 'unhealthy');
  t.regex(parts['hang-c']!, /^unresponsive/);
  t.regex(parts['ok-a']!, /^down \(killed by SIGKILL; restarting\)/);
});

test.serial('/metrics: every child\'s registry once, lease losses summed across children, plus the supervisor\'s part gauges', async (t) => {
  const dir = fakeDir(t);
  const s = await supervise(t, dir, ['first', 'a', 'b']);
  const text = await supervisorMetrics(s, 2000).metrics();
  for (const p of ['first', 'a', 'b']) {
    t.regex(text, new RegExp(`^fake_part_info\\{part="${p}"\\} 1$`, 'm'));
    t.regex(text, new RegExp(`^podnet_agent_part_up\\{part="${p}"\\} 1$`, 'm'));
  }
  t.regex(text, /^podnet_lease_losses_total\{lease="fake"\} 3$/m, 'one counter, summed over the three children');
  const helps = text.split('\n').filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
  t.is(new Set(helps).size, helps.length, 'no metric name twice');
});

test.serial('a part that fails its first start fails the agent with its error, and nothing is left running', async (t) => {
  const dir = fakeDir(t);
  process.env.FAKE_DIR = dir;
  const err = await t.throwsAsync(AgentSupervisor.start({
    parts: ['first', 'a', 'fail-b'].map((name) => ({ name, class: 'latency' as const })),
    command: (name) => ({ modulePath: FAKE, args: [name], execArgv: ['--import=tsx'] }),
    logger: silentLogger,
  }));
  t.regex(err!.message, /part fail-b: .*no such device: fake0/);
  const pids = events(dir).filter((l) => l.startsWith('start ')).map((l) => Number(l.split(' ')[2]));
  await waitFor('every child gone', () => pids.every(gone));
  t.pass();
});

test.serial('killed -9, the supervisor takes its children with it', async (t) => {
  const dir = fakeDir(t);
  const harness = spawn(process.execPath, ['--import=tsx', HARNESS, 'first', 'a', 'b'], { env: { ...process.env, FAKE_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { if (harness.exitCode === null) harness.kill('SIGKILL'); });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    harness.stdout.on('data', (b: Buffer) => { buf += b.toString(); if (buf.includes('\n')) resolve(buf.split('\n')[0]!); });
    harness.once('exit', (code) => reject(new Error(`harness exited ${code}`)));
  });
  const pids = Object.values(JSON.parse(line) as Record<string, number>);
  t.is(pids.length, 3);
  t.true(pids.every((p) => !gone(p)));
  harness.kill('SIGKILL');
  await waitFor('every child exited', () => pids.every(gone), 10_000);
  t.false(existsSync(join(dir, 'first.crashed')));
  t.false(events(dir).some((l) => l.startsWith('stopped ')), 'orphaned children exit without their clean stop (like the agent killed -9)');
});
