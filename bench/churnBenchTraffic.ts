/**
 * The steady traffic bench/churn watches, from the client pod: dnsperf at a fixed rate against the cluster DNS
 * address (per-answer latencies with -v, stdout to a file so a late reader never stalls it; up to 2,000 queries
 * outstanding, so a stall of the server does not throttle the sender) and ping to a pod on
 * another node every 50 ms. Both run until stopped with SIGINT (each prints its summary then), so one window of
 * traffic covers exactly one phase however long that phase takes.
 */
import { readFileSync } from 'node:fs';
import { labExec, type BenchLab } from './churnBenchLab.ts';
import { killGroup, type Started } from './churnBenchShell.ts';

export const DNS_TIMEOUT_S = 2;
export const PING_INTERVAL_S = 0.05;
/** Pings sent in the last second before the stop may still be in flight: not counted either way. */
const PING_GRACE = Math.round(1 / PING_INTERVAL_S);

export interface DnsFigures { sent: number; completed: number; lost: number; p50ms: number; p99ms: number; p99AllMs: number; rcodes: string }
export interface PingFigures { sent: number; lost: number; longestGapS: number }

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : NaN;
}

const num = (re: RegExp, text: string): number => Number(re.exec(text)?.[1] ?? NaN);

/** dnsperf's -v output and summary; p99AllMs counts every lost query as the timeout (a lost answer is a slow one). */
export function parseDnsperf(out: string): DnsFigures {
  const lat = [...out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  const lost = num(/Queries lost:\s+(\d+)/, out);
  const all = [...lat, ...Array.from({ length: Number.isFinite(lost) ? lost : 0 }, () => DNS_TIMEOUT_S * 1000)];
  return {
    sent: num(/Queries sent:\s+(\d+)/, out), completed: num(/Queries completed:\s+(\d+)/, out), lost,
    p50ms: percentile(lat, 0.5), p99ms: percentile(lat, 0.99), p99AllMs: percentile(all, 0.99),
    rcodes: /Response codes:\s+(.*)$/m.exec(out)?.[1]?.trim() ?? '',
  };
}

/** ping's reply lines and summary: losses among the pings old enough to have been answered, and the longest run. */
export function parsePing(out: string): PingFigures {
  // Replies only ("64 bytes from ...: icmp_seq=N"), not "From ... icmp_seq=N Destination Host Unreachable".
  const got = new Set([...out.matchAll(/bytes from .*icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
  const transmitted = num(/(\d+) packets transmitted/, out);
  const upTo = Math.max(0, (Number.isFinite(transmitted) ? transmitted : Math.max(0, ...got)) - PING_GRACE);
  let lost = 0; let run = 0; let longest = 0;
  for (let s = 1; s <= upTo; s++) {
    if (got.has(s)) { run = 0; continue; }
    lost++; run++; longest = Math.max(longest, run);
  }
  return { sent: upTo, lost, longestGapS: longest * PING_INTERVAL_S };
}

export interface TrafficWindow { stop(): Promise<{ dns: DnsFigures; ping: PingFigures }> }

/**
 * Start dnsperf (`qps` against `dnsIp`, names from `queries`) and ping (to `pingTarget`) in `pod`; both get a time
 * limit of `limitS` (and are SIGKILLed a little after it) in case stop() is never reached.
 */
export function startTraffic(lab: BenchLab, pod: string, o: { dnsIp: string; queries: string; qps: number; pingTarget: string; limitS: number; files: { dns: string; ping: string } }): TrafficWindow {
  const dns: Started = labExec(lab, pod, ['/usr/bin/dnsperf', '-s', o.dnsIp, '-d', o.queries, '-Q', String(o.qps), '-c', '1', '-T', '1', '-q', '2000',
    '-t', String(DNS_TIMEOUT_S), '-l', String(o.limitS), '-v'], o.files.dns, (o.limitS + 30) * 1000);
  const count = Math.ceil(o.limitS / PING_INTERVAL_S);
  const ping: Started = labExec(lab, pod, ['/usr/bin/ping', '-n', '-i', String(PING_INTERVAL_S), '-W', '1', '-c', String(count), o.pingTarget],
    o.files.ping, (o.limitS + 30) * 1000);
  return {
    async stop() {
      // The lab exec wrapper ignores SIGINT; the command it runs (same group) gets it and prints its summary.
      for (const s of [dns, ping]) killGroup(s.child, 'SIGINT');
      await Promise.all([dns.done, ping.done]);
      return { dns: parseDnsperf(readFileSync(o.files.dns, 'utf8')), ping: parsePing(readFileSync(o.files.ping, 'utf8')) };
    },
  };
}
