/**
 * @module daemon/agentSupervisor — runs each part of `podnetd agent` in its own child process and keeps it
 * running. Why processes (src/daemon/README.md has the figures): one Node event loop cannot keep DNS answers,
 * BFD timers, ARP replies and lease renewals on time while the proxy compiles and commits 10,000 Services; in
 * separate processes the kernel schedules them, and the bulk parts run niced.
 *
 * Order: the first part (node) starts alone and must report `started` (node.json written) before the others are
 * spawned, together. A part that fails its first start fails the agent, with the part's error, as before the
 * split; a part that dies later is restarted with exponential backoff (logged with part, code and signal), and
 * since every part reconciles on start, a restart never flushes working state. stop(): SIGTERM to every child
 * (the first part last), bounded wait, then SIGKILL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Logger } from '../common/logger.ts';
import type { HealthReport } from '../common/opsServer.ts';
import type { PartClass } from './agentParts.ts';
import { isChildMessage, type ChildMessage, type PartMetrics, type SupervisorMessage } from './partIpc.ts';

export interface PartCommand {
  modulePath: string;
  args: string[];
  execArgv?: string[];
}

export interface SupervisorOptions {
  /** Enabled parts in start order; the first is started alone and waited for. */
  parts: ReadonlyArray<{ name: string; class: PartClass }>;
  command(part: string): PartCommand;
  logger: Logger;
  /** Restart delay: initialMs × 2^(crashes in a row), at most maxMs; a child that ran resetAfterMs starts over. */
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  stopTimeoutMs?: number;
  /** Nice value of `bulk` parts (Linux: 0 normal, 19 lowest). */
  bulkNice?: number;
  /** Called when a child exits (tests and metrics). */
  onExit?(part: string, code: number | null, signal: NodeJS.Signals | null): void;
}

type Reply = Extract<ChildMessage, { type: 'reply' }>;
interface Pending { resolve(m: Reply | undefined): void; timer: NodeJS.Timeout }

class PartChild {
  child: ChildProcess | undefined;
  startedAt = 0;
  crashes = 0;
  restarts = 0;
  lastExit = '';
  /** Reached `started` at least once: from then on the supervisor restarts it whenever it dies. */
  ranOnce = false;
  restartTimer: NodeJS.Timeout | undefined;
  readonly pending = new Map<number, Pending>();
  constructor(readonly name: string, readonly cls: PartClass) {}
}

export class AgentSupervisor {
  readonly #o: SupervisorOptions;
  readonly #children: PartChild[];
  #stopping = false;
  #nextId = 1;

  private constructor(o: SupervisorOptions) {
    this.#o = o;
    this.#children = o.parts.map((p) => new PartChild(p.name, p.class));
  }

  /** Start every part (the first one alone first); rejects, with every child stopped, if one fails its first start. */
  static async start(o: SupervisorOptions): Promise<AgentSupervisor> {
    const s = new AgentSupervisor(o);
    const [first, ...rest] = s.#children;
    try {
      if (first) await s.#firstStart(first);
      await Promise.all(rest.map((c) => s.#firstStart(c)));
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** Child process ids by part (undefined while a part is down). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.#children.map((c) => [c.name, c.child?.pid]));
  }

  restarts(): Record<string, number> {
    return Object.fromEntries(this.#children.map((c) => [c.name, c.restarts]));
  }

  /** Every child asked over IPC; a child that is down or does not answer within timeoutMs is unhealthy, by name. */
  async health(timeoutMs: number): Promise<HealthReport> {
    const entries = await Promise.all(this.#children.map(async (c): Promise<[string, string]> => {
      if (!c.child) return [c.name, `down (${c.lastExit || 'not started'}; restarting)`];
      const r = await this.#request(c, 'health', timeoutMs);
      if (!r) return [c.name, `unresponsive (no answer within ${timeoutMs} ms)`];
      return [c.name, r.health?.healthy ? 'ok' : 'unhealthy'];
    }));
    const parts = Object.fromEntries(entries);
    return { healthy: entries.every(([, v]) => v === 'ok'), detail: { parts, restarts: this.restarts() } };
  }

  /** Every running child's registry as JSON (a child that does not answer in time is left out). */
  async metrics(timeoutMs: number): Promise<PartMetrics[]> {
    const all = await Promise.all(this.#children.map(async (c) => (c.child ? (await this.#request(c, 'metrics', timeoutMs))?.metrics : undefined)));
    return all.filter((m): m is PartMetrics => m !== undefined);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const c of this.#children) clearTimeout(c.restartTimer);
    const [first, ...rest] = this.#children;
    await Promise.all(rest.map((c) => this.#terminate(c)));
    if (first) await this.#terminate(first);
  }

  #firstStart(c: PartChild): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#spawn(c, (outcome) => (outcome === 'started' ? resolve() : reject(new Error(`part ${c.name}: ${outcome}`))));
    });
  }

  /** `settled` hears once whether this child reached `started` or why not (its error, or how it exited). */
  #spawn(c: PartChild, settled: (outcome: string) => void = () => undefined): void {
    const cmd = this.#o.command(c.name);
    const child = fork(cmd.modulePath, cmd.args, { execArgv: cmd.execArgv ?? process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.child = child;
    c.startedAt = Date.now();
    let outcome: string | undefined;
    const settle = (o: string) => { if (outcome === undefined) { outcome = o; settled(o); } };
    if (c.cls === 'bulk') this.#renice(child);
    child.on('message', (m: unknown) => {
      if (!isChildMessage(m)) return;
      if (m.type === 'booted' && c.cls === 'bulk') this.#renice(child); // threads made since spawn
      else if (m.type === 'started') { c.ranOnce = true; settle('started'); }
      else if (m.type === 'startFailed') settle(m.error);
      else if (m.type === 'reply') {
        const p = c.pending.get(m.id);
        if (p) { clearTimeout(p.timer); c.pending.delete(m.id); p.resolve(m); }
      }
    });
    child.once('error', (err) => this.#o.logger.error({ event: 'partSpawnFailed', part: c.name, err: err.message }, `part ${c.name}: ${err.message}`));
    child.once('exit', (code, signal) => {
      c.child = undefined;
      c.lastExit = signal ? `killed by ${signal}` : `exit code ${code}`;
      for (const p of c.pending.values()) { clearTimeout(p.timer); p.resolve(undefined); }
      c.pending.clear();
      this.#o.onExit?.(c.name, code, signal);
      settle(`exited before it started (${c.lastExit})`);
      // Before its first start a death fails the agent (start() rejects); after it, every death is restarted,
      // also a restarted child's that died before it reported `started`.
      if (this.#stopping || (outcome !== 'started' && !c.ranOnce)) return;
      this.#scheduleRestart(c, code, signal);
    });
  }

  #scheduleRestart(c: PartChild, code: number | null, signal: NodeJS.Signals | null): void {
    const b = this.#o.backoff ?? { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };
    if (Date.now() - c.startedAt >= b.resetAfterMs) c.crashes = 0;
    const delayMs = Math.min(b.maxMs, b.initialMs * 2 ** c.crashes);
    c.crashes++;
    this.#o.logger.error({ event: 'partExited', part: c.name, code, signal, restartInMs: delayMs },
      `part ${c.name} exited (${c.lastExit}); restarting in ${delayMs} ms`);
    c.restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      c.restarts++;
      // A restarted part that fails to start is just another crash: the exit handler backs off again.
      this.#spawn(c, (o) => { if (o !== 'started') this.#o.logger.warn({ event: 'partRestartFailed', part: c.name, err: o }, `part ${c.name}: ${o}`); });
    }, delayMs);
  }

  /**
   * Linux applies a nice value per thread, and Node starts its V8 and libuv threads early: renice every thread
   * the child has now; the ones it makes later inherit from the (already reniced) thread that makes them.
   */
  #renice(child: ChildProcess): void {
    const nice = this.#o.bulkNice ?? 10;
    if (child.pid === undefined) return;
    let tasks: string[] = [String(child.pid)];
    try { tasks = readdirSync(`/proc/${child.pid}/task`); } catch { /* not Linux, or gone */ }
    for (const t of tasks) {
      try { setPriority(Number(t), nice); } catch { /* the thread ended meanwhile */ }
    }
  }

  #request(c: PartChild, what: SupervisorMessage['what'], timeoutMs: number): Promise<Reply | undefined> {
    const child = c.child;
    if (!child?.connected) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { c.pending.delete(id); resolve(undefined); }, timeoutMs);
      c.pending.set(id, { resolve, timer });
      child.send({ type: 'request', id, what } satisfies SupervisorMessage, (err) => {
        if (err) { clearTimeout(timer); c.pending.delete(id); resolve(undefined); }
      });
    });
  }

  async #terminate(c: PartChild): Promise<void> {
    const child = c.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timeoutMs = this.#o.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs); })]);
    clearTimeout(timer);
    if (late) {
      this.#o.logger.warn({ event: 'partStopTimeout', part: c.name, timeoutMs }, `part ${c.name} did not stop within ${timeoutMs} ms; killing it`);
      child.kill('SIGKILL');
      await exited;
    }
  }
}
