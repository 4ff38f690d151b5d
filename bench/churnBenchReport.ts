/**
 * bench/churn's output (pure): one table with a column per store and a row per figure, and the closing
 * `ratio=R ours=X anchor=Y` line, R = DNS p99 during the churn / DNS p99 at baseline within the same store's round,
 * taken from the store with the largest R (the worst one). p99 here counts a lost query as the 2 s timeout.
 */
import type { RoundFigures, TrafficFigures, WindowEvents } from './churnBenchRound.ts';

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2) : 'n/a');
const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)} %` : 'n/a');

const total = (e: WindowEvents, k: string): number => Object.values(e.perNode).reduce((s, c) => s + (c as Record<string, number>)[k]!, 0);

function perKind(e: WindowEvents, kinds: string[]): string {
  const parts = kinds.map((k) => [k, total(e, k)] as const).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : '0';
}

function nodesOf(e: WindowEvents, k: string): string {
  return Object.entries(e.perNode).map(([n, c]) => `${n} ${(c as Record<string, number>)[k]}`).join(' / ');
}

function trafficRows(tag: string, t: TrafficFigures): Array<[string, string]> {
  return [
    [`${tag}: window (s), load avg 1/5/15 at its end`, `${f1(t.seconds)}, ${t.load.join(' ')}`],
    [`${tag}: DNS sent / lost`, `${t.dns.sent} / ${t.dns.lost} (${pct(t.dns.lost, t.dns.sent)})`],
    [`${tag}: DNS p50 / p99 ms (answered)`, `${f1(t.dns.p50ms)} / ${f1(t.dns.p99ms)}`],
    [`${tag}: DNS p99 ms (lost = 2 s)`, f1(t.dns.p99AllMs)],
    [`${tag}: DNS response codes`, t.dns.rcodes || 'none'],
    [`${tag}: pings sent / lost (longest gap s)`, `${t.ping.sent} / ${t.ping.lost} (${pct(t.ping.lost, t.ping.sent)}; ${f1(t.ping.longestGapS)})`],
    [`${tag}: BGP session flaps (peerDown) / BFD Up→Down`, `${t.events.flaps} / ${total(t.events, 'bfdDown')}`],
    [`${tag}: lease losses`, `${t.events.leaseLosses} (${perKind(t.events, ['podCidrLeaseLost', 'stoppedLeading', 'speakerLeaseLost'])})`],
    [`${tag}: speakersChanged per node`, nodesOf(t.events, 'speakersChanged')],
  ];
}

/** The first node's parts: CPU seconds during the churn window and RSS at the end (which part costs what). */
function perPartRows(r: RoundFigures): Array<[string, string]> {
  const n = r.idle.nodes[0];
  if (!n) return [];
  const fmt = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  return [[`churn: CPU s per part (${n.node})`, fmt(n.churnCpuS)], [`idle: CPU % per part (${n.node})`, fmt(n.idleCpuPercent)],
    [`idle end: RSS MB per part (${n.node})`, fmt(n.rssEndByPartMB)]];
}

function rowsOf(r: RoundFigures): Array<[string, string]> {
  return [
    ['Services × 10 endpoints (objects in the List)', `${r.services} (${r.objects})`],
    ['lab up (s)', f1(r.labUpS)],
    ...trafficRows('baseline', r.baseline),
    ['apply of the List: s (ms/object)', `${f1(r.apply.seconds)} (${f1(r.apply.msPerObject)})`],
    ['apply: written / errors / exit', `${r.apply.written} / ${r.apply.failed} / ${r.apply.exit}${r.apply.timedOut ? ' (time limit)' : ''}`],
    ...trafficRows('churn', r.churn),
    ['new Service: its apply took s', f1(r.probe.applySeconds)],
    ['new Service answers s after apply start / exit', r.probe.afterApplyStartS === null ? `never (> ${r.probe.limitS} s)`
      : `${f1(r.probe.afterApplyStartS)} / ${f1(r.probe.afterApplyExitS ?? NaN)}`],
    [`idle (${f1(r.idle.seconds)} s): CPU % per podnetd tree`, r.idle.nodes.map((n) => `${n.node} ${f1(n.cpuPercent)}`).join(' / ')],
    ['idle: processes per podnetd tree', r.idle.nodes.map((n) => `${n.node} ${n.pids.length}`).join(' / ')],
    ['RSS MB before churn → idle start → idle end', r.idle.nodes.map((n) => `${n.node} ${n.rssBeforeChurnMB}→${n.rssStartMB}→${n.rssEndMB}`).join(' / ')],
    ...perPartRows(r),
    ['idle: session flaps / lease losses', `${r.idle.events.flaps} / ${r.idle.events.leaseLosses} (${perKind(r.idle.events, ['podCidrLeaseLost', 'stoppedLeading', 'speakerLeaseLost'])})`],
    ['idle: speakersChanged per node', nodesOf(r.idle.events, 'speakersChanged')],
    ['idle: load avg 1/5/15 at its end', r.idle.load.join(' ')],
  ];
}

export function formatTable(rounds: RoundFigures[]): string {
  if (rounds.length === 0) return '(no store finished its round)';
  const cols = rounds.map(rowsOf);
  const labels = cols[0]!.map(([l]) => l);
  const w0 = Math.max(...labels.map((l) => l.length), 'figure'.length);
  const ws = rounds.map((r, i) => Math.max(r.store.length, ...cols[i]!.map(([, v]) => v.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(i === 0 ? w0 : ws[i - 1]!)).join(' | ').trimEnd();
  return [line(['figure', ...rounds.map((r) => r.store)]), line(['-'.repeat(w0), ...ws.map((w) => '-'.repeat(w))]),
    ...labels.map((l, j) => line([l, ...cols.map((c) => c[j]![1])]))].join('\n');
}

export interface Ratio { store: string; ratio: number; oursMs: number; anchorMs: number }

export function worstRatio(rounds: RoundFigures[]): Ratio | undefined {
  const rs = rounds.map((r) => ({ store: r.store, oursMs: r.churn.dns.p99AllMs, anchorMs: r.baseline.dns.p99AllMs, ratio: r.churn.dns.p99AllMs / r.baseline.dns.p99AllMs }));
  // A round with no p99 at all (nothing answered) is the worst.
  const key = (x: Ratio) => (Number.isFinite(x.ratio) ? x.ratio : Infinity);
  return rs.sort((a, b) => (key(b) > key(a) ? 1 : key(b) < key(a) ? -1 : 0))[0];
}

export function ratioLine(r: Ratio | undefined): string {
  if (!r) return 'ratio=nan ours=nan anchor=nan';
  return `ratio=${r.ratio.toFixed(2)} ours=${r.oursMs.toFixed(3)} anchor=${r.anchorMs.toFixed(3)}`;
}
