import test from 'ava';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { checkReachability, formatReachability } from '../../../src/lab/reachability.ts';
import type { RunResult } from '../../../src/common/systemTools.ts';

test('every node and the client ping every other (not the router); failures are reported', async (t) => {
  const plan = planLab({ name: 'lab', nodes: 2, routing: 'cross-subnet', store: 'file' });
  const calls: string[] = [];
  // n2's IPv4 address is unreachable from everyone in this fake, and n1's IPv6 address from the client.
  const lab = {
    plan,
    exec: async (ns: string, argv: readonly string[]): Promise<RunResult> => {
      calls.push(`${ns} ${argv.at(-1)}`);
      const down = argv.at(-1) === '198.18.1.12' || (ns === 'lab-client' && argv.at(-1) === 'fd00:198:18::11');
      return { stdout: '', stderr: '', code: down ? 1 : 0 };
    },
  };
  const r = await checkReachability(lab);
  t.deepEqual(r.hosts, ['n1', 'n2', 'client']);
  t.is(calls.length, 12);
  t.true(calls.includes('lab-client 198.18.0.11'));
  t.true(calls.includes('lab-n1 fd00:198:18:1::12'), 'n2 sits on segment B, for IPv6 too');
  t.false(calls.some((c) => c.startsWith('lab-router')));
  t.deepEqual(r.failures.map((f) => `${f.from}->${f.to}/${f.family}`).sort(), ['client->n1/6', 'client->n2/4', 'n1->n2/4']);
  const text = formatReachability(r);
  t.regex(text, /^n1 +- +FAIL4 +ok$/m);
  t.regex(text, /^client +FAIL6 +FAIL4 +-$/m);
  t.regex(text, /9\/12 pings answered/);
});
