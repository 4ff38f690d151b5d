/**
 * bench/churn — issue 14's scenario in the lab, with the shipped bin/: for each store (file, etcd) a 3-node
 * `--routing bgp` lab, a client pod on n1 sending DNS at 300 QPS (dnsperf, names of resident Services, against
 * 10.96.0.10) and pinging a test-server pod on n2 every 50 ms; first a baseline window with nothing changing, then
 * `podnetctl apply -f` of one List of N Services (ClusterIPs set explicitly) × one EndpointSlice of 10 fake
 * endpoints in the nodes' pod CIDRs, timed, and right after it one more Service backed by the real server, timed
 * until it answers by ClusterIP from the client pod. BGP/BFD flaps and lease losses are counted from the agents'
 * logs (the lab runs podnetd without --metrics); then an idle window for CPU % and RSS of every podnetd process
 * tree. Prints a table of every figure per store and ends with `ratio=R ours=X anchor=Y`: R = DNS p99 during the
 * churn / DNS p99 at baseline in the same round (lost queries count as the 2 s timeout), from the store with the
 * largest R (the worst). Every phase has a time limit and the whole run an overall one; labs are taken down on
 * failure and on SIGINT/SIGTERM too.
 *
 *   bench/churn [--services N] [--stores file,etcd] [--idle SECONDS] [--baseline SECONDS] [--qps Q]
 *               [--probe-limit SECONDS] [--apply-limit SECONDS] [--json FILE] [--keep-scratch] [--from-sources]
 * --from-sources runs podnetctl and the lab's podnetd from the sources (a fallback when bin/ cannot run a store).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_SERVICES } from './churnBenchManifests.ts';
import { formatTable, ratioLine, worstRatio } from './churnBenchReport.ts';
import { runRound, type RoundFigures, type RoundOptions } from './churnBenchRound.ts';
import { cleanup, ensureBundles, guard, onCleanup, useSources } from './churnBenchShell.ts';

const STORES = ['file', 'etcd'] as const;

function intOpt(v: string | undefined, flag: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new Error(`--${flag}: expected a whole number in [${min}, ${max}], got "${v}"`);
  return n;
}

/** Default limit of the big apply: 2 min + 100 ms per object (the issue saw 26 ms/object on a busy machine). */
const defaultApplyLimitS = (services: number) => 120 + Math.ceil((2 * services * 100) / 1000);

function options() {
  const { values: v } = parseArgs({ options: {
    services: { type: 'string' }, stores: { type: 'string' }, idle: { type: 'string' }, baseline: { type: 'string' },
    qps: { type: 'string' }, 'probe-limit': { type: 'string' }, json: { type: 'string' }, 'keep-scratch': { type: 'boolean' },
    'from-sources': { type: 'boolean' }, 'apply-limit': { type: 'string' },
  } });
  const stores = (v.stores ?? STORES.join(',')).split(',').map((s) => s.trim());
  for (const s of stores) if (!(STORES as readonly string[]).includes(s)) throw new Error(`--stores: unknown store "${s}" (file, etcd)`);
  const services = intOpt(v.services, 'services', 10_000, 1, MAX_SERVICES);
  return {
    stores: stores as Array<(typeof STORES)[number]>,
    services,
    applyLimitS: intOpt(v['apply-limit'], 'apply-limit', defaultApplyLimitS(services), 10, 7200),
    idleS: intOpt(v.idle, 'idle', 60, 5, 3600),
    baselineS: intOpt(v.baseline, 'baseline', 20, 5, 600),
    qps: intOpt(v.qps, 'qps', 300, 1, 5000),
    probeLimitS: intOpt(v['probe-limit'], 'probe-limit', 120, 5, 1800),
    json: v.json, keepScratch: Boolean(v['keep-scratch']), fromSources: Boolean(v['from-sources']),
  };
}

/** The longest a round may take: the sum of its phases' limits (see churnBenchRound.ts). */
function roundLimitS(o: ReturnType<typeof options>): number {
  return 300 + 120 + 180 + 120 + (o.baselineS + 90) + (o.applyLimitS + 60 + o.probeLimitS + 10 + 90) + o.idleS + 120 + 60;
}

async function main(): Promise<number> {
  const o = options();
  const overallS = 300 + o.stores.length * roundLimitS(o);
  guard(overallS * 1000);
  const scratch = mkdtempSync(join(tmpdir(), 'podnet-churn-'));
  const root = join(scratch, 'labs');
  mkdirSync(root);
  // Registered first, so it runs last, after every lab is down; kept (inputs, outputs, agents' logs) when a round
  // failed or when asked.
  let keep = o.keepScratch;
  onCleanup(async () => { if (!keep) rmSync(scratch, { recursive: true, force: true }); });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`bench/churn: ${o.services} Services × 10 endpoints per store (${o.stores.join(', ')}), 3-node --routing bgp labs, ` +
    `DNS ${o.qps} QPS + ping every 50 ms, baseline ${o.baselineS} s, idle ${o.idleS} s; ${cpus().length} CPUs, ` +
    `load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; overall limit ${Math.round(overallS)} s; scratch ${scratch}`);
  if (o.fromSources) {
    useSources();
    log('bench/churn: --from-sources: podnetctl and the lab\'s podnetd run from the sources through tsx, NOT the shipped bin/');
  } else {
    log(`bench/churn: ${await ensureBundles(join(scratch, 'build.log'))}`);
  }
  const rounds: RoundFigures[] = [];
  const failures: string[] = [];
  const writeJson = () => {
    if (o.json) writeFileSync(o.json, `${JSON.stringify({ bench: 'churn', startedAt: new Date(t0).toISOString(), options: { ...o, json: undefined },
      cpus: cpus().length, rounds, failures, ratio: worstRatio(rounds) ?? null }, null, 2)}\n`);
  };
  const t0 = Date.now();
  for (const store of o.stores) {
    const ro: RoundOptions = { store, services: o.services, qps: o.qps, baselineS: o.baselineS, idleS: o.idleS, tailS: 10, applyLimitS: o.applyLimitS,
      probeLimitS: o.probeLimitS, scratch, root };
    try {
      rounds.push(await runRound(ro, log));
    } catch (err) {
      failures.push(`${store}: ${(err as Error).message}`);
      keep = true;
      log(`[${store}] FAILED: ${(err as Error).message}`);
    }
    writeJson();
  }
  log('');
  log(formatTable(rounds));
  for (const f of failures) log(`failed: ${f}`);
  if (keep) log(`outputs and agents' logs kept in ${scratch}`);
  log(`(ratio: churn p99 / baseline p99 of the same round, the worst store; a lost query counts as 2 s)`);
  log(ratioLine(worstRatio(rounds)));
  return failures.length ? 1 : 0;
}

main().then(async (code) => { await cleanup(); process.exit(code); }, async (err: unknown) => {
  process.stderr.write(`bench/churn: ${err instanceof Error ? err.message : String(err)}\n`);
  await cleanup();
  process.exit(1);
});
