/**
 * @module lab/reachability — the check `lab up` prints: every node and the client ping every other one's underlay
 * addresses, IPv4 and IPv6 (`ping -c1 -W1` inside the source namespace), as a matrix.
 */
import { requireTool, type RunOptions, type RunResult } from '../common/systemTools.ts';
import { primaryAddress, primaryAddress6, type LabHost } from './addressPlan.ts';

export interface PingResult {
  from: string;
  to: string;
  address: string;
  family: 4 | 6;
  ok: boolean;
}

export interface ReachabilityReport {
  /** Row and column order of the matrix: the nodes, then the client. */
  hosts: string[];
  results: PingResult[];
  failures: PingResult[];
}

/** What the check needs from a lab (a `Lab` fits). */
export interface PingSource {
  plan: { hosts: LabHost[] };
  exec(target: string, argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** Pings in flight at once: enough to finish a 10-node lab in about a second without swamping 2 cores. */
const PARALLEL_PINGS = 8;

async function inBatches<T, R>(items: readonly T[], width: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...await Promise.all(items.slice(i, i + width).map(fn)));
  return out;
}

export async function checkReachability(lab: PingSource): Promise<ReachabilityReport> {
  const ping = requireTool('ping', 'iputils-ping');
  const hosts = lab.plan.hosts.filter((h) => h.role !== 'router');
  const pairs = hosts.flatMap((from) => hosts.filter((to) => to !== from)
    .flatMap((to) => [{ from, to, family: 4 as const }, { from, to, family: 6 as const }]));
  const results = await inBatches(pairs, PARALLEL_PINGS, async ({ from, to, family }): Promise<PingResult> => {
    const address = family === 4 ? primaryAddress(to) : primaryAddress6(to);
    const r = await lab.exec(from.ns, [ping, `-${family}`, '-n', '-q', '-c1', '-W1', address],
      { allowFailure: true, timeoutMs: 5000 });
    return { from: from.id, to: to.id, address, family, ok: r.code === 0 };
  });
  return { hosts: hosts.map((h) => h.id), results, failures: results.filter((r) => !r.ok) };
}

/** The matrix as text: rows ping columns; `ok` (both families), `FAIL`, `FAIL4`/`FAIL6` (one family), `-`. */
export function formatReachability(r: ReachabilityReport): string {
  const width = Math.max(6, ...r.hosts.map((h) => h.length)) + 2;
  const cell = (s: string) => s.padEnd(width);
  const lines = [cell('from\\to') + r.hosts.map(cell).join('').trimEnd()];
  for (const from of r.hosts) {
    const row = r.hosts.map((to) => {
      if (to === from) return cell('-');
      const failed = r.results.filter((x) => x.from === from && x.to === to && !x.ok).map((x) => x.family);
      return cell(failed.length === 0 ? 'ok' : failed.length === 2 ? 'FAIL' : `FAIL${failed[0]}`);
    });
    lines.push(cell(from) + row.join('').trimEnd());
  }
  const total = r.results.length;
  lines.push(`${total - r.failures.length}/${total} pings answered, IPv4 and IPv6 (ping -c1 -W1 inside the lab namespaces)`);
  return lines.join('\n');
}
