import test from 'ava';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { checkReachability, formatReachability } from '../../../src/lab/reachability.ts';
import type { RunResult } from '../../../src/common/systemTools.ts';

test('every node and the client ping every other (not the router); failures are reported', async (t) => {
  const plan = planLab({ name: 'lab', nodes: 2, routing: 'cross-subnet', store: 'file' });
  const calls: string[] = [];
  // n2's address is unreachable from everyone in this fake.
  const lab = {
    plan,
    exec: async (ns: string, argv: readonly string[]): Promise<RunResult> => {
      calls.push(`${ns} ${argv.at(-1)}`);
      return { stdout: '', stderr: '', code: argv.at(-1) === '198.18.1.12' ? 1 : 0 };
    },
  };
  const r = await checkReachability(lab);
  t.deepEqual(r.hosts, ['n1', 'n2', 'client']);
  t.is(calls.length, 6);
  t.true(calls.includes('lab-client 198.18.0.11'));
  t.false(calls.some((c) => c.startsWith('lab-router')));
  t.deepEqual(r.failures.map((f) => `${f.from}->${f.to}`).sort(), ['client->n2', 'n1->n2']);
  const text = formatReachability(r);
  t.regex(text, /^n1 +- +FAIL +ok$/m);
  t.regex(text, /4\/6 pairs reachable/);
});
