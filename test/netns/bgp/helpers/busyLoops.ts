/**
 * CPU load for the "under load" variants of the BGP/BFD tests (issue 14): `count` busy loops
 * (`sh -c 'while :; do :; done'`), one per core of the machine by default, each bounded twice — by
 * /usr/bin/timeout (`maxSeconds`, so a crashed test runner cannot leave them spinning) and killed in the test's
 * teardown, which ava runs also when the test fails. Each runs in its own process group (timeout and its sh), and
 * the teardown SIGKILLs that group by its id: a SIGKILL to timeout alone would orphan the loop.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { findTool } from '../../../../src/common/systemTools.ts';

export interface BusyLoops {
  pids: number[];
  stop(): Promise<void>;
}

export function startBusyLoops(t: ExecutionContext, count = 2, maxSeconds = 180): BusyLoops {
  const timeout = findTool('timeout') ?? '/usr/bin/timeout';
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(timeout, ['-s', 'KILL', String(maxSeconds), '/bin/sh', '-c', 'while :; do :; done'], { stdio: 'ignore', detached: true }));
  }
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      c.once('exit', () => resolve());
      try { process.kill(-c.pid!, 'SIGKILL'); } catch { c.kill('SIGKILL'); }
    })));
  };
  t.teardown(stop);
  return { pids: children.map((c) => c.pid!).filter(Boolean), stop };
}
