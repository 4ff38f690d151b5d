/**
 * One store's round of bench/churn, each phase with its own time limit:
 *   up        `lab up --nodes 3 --routing bgp --store S`; the client pod (n1), the test server (n2) and the
 *             resident Services applied; wait until the pods run, DNS answers a resident name and ping gets through;
 *   baseline  dnsperf at QPS + ping for `baselineS` with nothing changing: the anchor (idle p99);
 *   churn     the same traffic while the big List is applied (timed), then the probe Service right after it (time
 *             until it answers by ClusterIP), then `tailS` more seconds while the agents finish their work;
 *   idle      nothing sent, nothing changed for `idleS`: CPU % and RSS of each podnetd's process tree;
 *   down      `lab down` (also on any failure or signal, through the cleanup registry).
 * BGP/BFD flaps and lease losses are counted from the agents' logs in every window (churnBenchLogs.ts).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { apply, labExec, labUp, nodeRanges, takeDown, waitForPods, type BenchLab } from './churnBenchLab.ts';
import { eventsSince, flapsOf, leaseLossesOf, logOffsets, zeroCounts, type EventCounts } from './churnBenchLogs.ts';
import { benchClusterIp, churnList, CLIENT_POD, dnsQueries, labPods, PROBE_SERVICE, probeList, RESIDENT_SERVICES, residentList,
  residentRef, SERVER_POD } from './churnBenchManifests.ts';
import { probeAnsweredAt, startProbe } from './churnBenchProbe.ts';
import { cpuPercent, partCpuSeconds, sampleTree, type TreeSample } from './churnBenchProcs.ts';
import { sleep } from './churnBenchShell.ts';
import { startTraffic, type DnsFigures, type PingFigures } from './churnBenchTraffic.ts';

export const CLUSTER_DNS = '10.96.0.10';

export interface RoundOptions {
  store: 'file' | 'etcd';
  services: number;
  qps: number;
  baselineS: number;
  idleS: number;
  tailS: number;
  probeLimitS: number;
  /** Time limit of the big apply (s). */
  applyLimitS: number;
  /** Where inputs and every command's output go (kept for reading after the run). */
  scratch: string;
  /** PODNET_LAB_DIR of the bench's labs. */
  root: string;
}

export interface WindowEvents { flaps: number; leaseLosses: number; perNode: Record<string, EventCounts> }
export interface TrafficFigures { seconds: number; dns: DnsFigures; ping: PingFigures; events: WindowEvents; load: number[] }
export interface NodeIdle {
  node: string; pids: number[]; cpuPercent: number; rssStartMB: number; rssEndMB: number; rssBeforeChurnMB: number;
  /** Per part: CPU seconds over the churn window, and RSS MB at the idle window's end. */
  churnCpuS: Record<string, number>; rssEndByPartMB: Record<string, number>;
  /** Per part: CPU % of one core over the idle window. */
  idleCpuPercent: Record<string, number>;
}

export interface RoundFigures {
  store: string;
  services: number;
  objects: number;
  labUpS: number;
  baseline: TrafficFigures;
  apply: { seconds: number; msPerObject: number; written: number; failed: number; exit: number | null; timedOut: boolean };
  churn: TrafficFigures;
  /**
   * The Service created right after the big apply: how long its `podnetctl apply` took, and when it first answered
   * by ClusterIP counted from the apply's start and from its exit (negative: before the CLI had exited).
   */
  probe: { applySeconds: number; afterApplyStartS: number | null; afterApplyExitS: number | null; limitS: number };
  idle: { seconds: number; nodes: NodeIdle[]; events: WindowEvents; load: number[] };
}

const MB = 1024 * 1024;
const round1 = (n: number) => Math.round(n * 10) / 10;

function windowEvents(lab: BenchLab, from: Map<string, number>): WindowEvents {
  const perNode: Record<string, EventCounts> = {};
  const byLog = eventsSince(from);
  for (const [node, a] of lab.agents) perNode[node] = byLog.get(a.log) ?? zeroCounts();
  const all = Object.values(perNode);
  return { perNode, flaps: all.reduce((s, c) => s + flapsOf(c), 0), leaseLosses: all.reduce((s, c) => s + leaseLossesOf(c), 0) };
}

function logsOf(lab: BenchLab): string[] {
  return [...lab.agents.values()].map((a) => a.log);
}

/** Until DNS answers the last resident name and the server pod answers ping (bounded). */
async function waitForDataPlane(lab: BenchLab, serverIp: string, o: RoundOptions, limitS: number): Promise<void> {
  const last = residentRef(RESIDENT_SERVICES - 1);
  const name = `${last.name}.${last.namespace}.svc.cluster.local`;
  const script = 'end=$(( $(date +%s) + $0 )); while [ "$(date +%s)" -lt "$end" ]; do ' +
    'if [ -n "$(/usr/bin/dig +short +time=1 +tries=1 @$1 $2 A)" ] && /usr/bin/ping -n -c 1 -W 1 "$3" >/dev/null; then echo ready; exit 0; fi; ' +
    'sleep 0.5; done; echo "not ready within $0 s"; exit 1';
  const r = await labExec(lab, CLIENT_POD, ['/bin/sh', '-c', script, String(limitS), CLUSTER_DNS, name, serverIp],
    join(o.scratch, `ready-${lab.name}.log`), (limitS + 30) * 1000).done;
  if (r.code !== 0) throw new Error(`lab ${lab.name}: DNS for ${name} or ping to ${serverIp} not working within ${limitS} s`);
}

async function trafficFor<T>(lab: BenchLab, o: RoundOptions, tag: string, limitS: number, serverIp: string, queries: string,
  during: () => Promise<T>): Promise<{ figures: TrafficFigures; result: T }> {
  const from = logOffsets(logsOf(lab));
  const t0 = Date.now();
  const traffic = startTraffic(lab, CLIENT_POD, { dnsIp: CLUSTER_DNS, queries, qps: o.qps, pingTarget: serverIp, limitS,
    files: { dns: join(o.scratch, `dnsperf-${lab.name}-${tag}.txt`), ping: join(o.scratch, `ping-${lab.name}-${tag}.txt`) } });
  let result: T;
  try {
    result = await during();
  } catch (err) {
    await traffic.stop();
    throw err;
  }
  const stopped = await traffic.stop();
  return { result, figures: { seconds: round1((Date.now() - t0) / 1000), ...stopped, events: windowEvents(lab, from), load: loadavg().map(round1) } };
}

export async function runRound(o: RoundOptions, log: (line: string) => void): Promise<RoundFigures> {
  const name = `ch${o.store}${process.pid % 100000}`;
  const t0 = Date.now();
  log(`[${o.store}] lab up ${name} (3 nodes, --routing bgp, --store ${o.store})`);
  const lab = await labUp(name, o.root, o.store, o.scratch, 300_000);
  const labUpS = round1((Date.now() - t0) / 1000);
  try {
    const [clientNode, serverNode] = [lab.nodes[0]!, lab.nodes[1]!];
    const ranges = nodeRanges(lab);
    const file = (f: string, body: unknown) => { const p = join(o.scratch, `${name}-${f}`); writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body)); return p; };
    const setup = await apply(lab, file('setup.json', { apiVersion: 'v1', kind: 'List', items: [...labPods(clientNode, serverNode), ...residentList(ranges).items] }),
      join(o.scratch, `apply-${name}-setup.log`), 120_000);
    if (setup.code !== 0) throw new Error(`lab ${name}: applying the pods and resident Services failed (exit ${setup.code})`);
    const ips = await waitForPods(lab, [CLIENT_POD, SERVER_POD], o.scratch, 180_000);
    const serverIp = ips.get(SERVER_POD)!;
    await waitForDataPlane(lab, serverIp, o, 90);
    const queries = file('queries.txt', dnsQueries());
    const beforeChurn = new Map(lab.nodes.map((n) => [n, sampleTree(lab.agents.get(n)!.pid)]));

    log(`[${o.store}] baseline: ${o.baselineS} s of DNS at ${o.qps} QPS + ping ${clientNode} → ${serverNode}, nothing changing`);
    const baseline = (await trafficFor(lab, o, 'baseline', o.baselineS + 60, serverIp, queries, () => sleep(o.baselineS * 1000))).figures;

    const list = churnList(o.services, ranges);
    const bigFile = file('churn.json', list);
    const probeFile = file('probe.json', probeList(o.services, { ip: serverIp, node: serverNode }));
    const applyLimitMs = o.applyLimitS * 1000;
    const windowLimitS = Math.ceil(applyLimitMs / 1000) + 60 + o.probeLimitS + o.tailS + 60;
    log(`[${o.store}] churn: apply one List of ${o.services} Services + ${o.services} EndpointSlices × 10 (limit ${Math.round(applyLimitMs / 1000)} s), then ${PROBE_SERVICE}`);
    const churnStart = new Map(lab.nodes.map((n) => [n, sampleTree(lab.agents.get(n)!.pid)]));
    const churned = await trafficFor(lab, o, 'churn', windowLimitS, serverIp, queries, async () => {
      const big = await apply(lab, bigFile, join(o.scratch, `apply-${name}-churn.log`), applyLimitMs);
      log(`[${o.store}]   big apply: ${(big.ms / 1000).toFixed(1)} s, ${big.written} written, ${big.failed} errors, exit ${big.code}${big.timedOut ? ' (time limit)' : ''}`);
      const url = `http://${benchClusterIp(o.services)}/hostname`;
      const loop = startProbe(lab, CLIENT_POD, url, SERVER_POD, o.probeLimitS, join(o.scratch, `probe-${name}.log`));
      const startedAt = Date.now();
      const p = await apply(lab, probeFile, join(o.scratch, `apply-${name}-probe.log`), 60_000);
      const exitedAt = Date.now();
      const answeredAt = await probeAnsweredAt(loop);
      const after = (t: number) => (answeredAt === null ? null : round1((answeredAt - t) / 1000));
      const probe = { applySeconds: round1(p.ms / 1000), afterApplyStartS: after(startedAt), afterApplyExitS: after(exitedAt), limitS: o.probeLimitS };
      log(`[${o.store}]   ${PROBE_SERVICE}: apply took ${probe.applySeconds} s; ` +
        (answeredAt === null ? `no answer within ${o.probeLimitS} s` : `answered ${probe.afterApplyStartS} s after the apply started, ${probe.afterApplyExitS} s after it returned`));
      await sleep(o.tailS * 1000);
      return { big, probe };
    });
    const { big, probe } = churned.result;

    log(`[${o.store}] idle: ${o.idleS} s with nothing sent or changed`);
    const idleFrom = logOffsets(logsOf(lab));
    const start = new Map<string, TreeSample>(lab.nodes.map((n) => [n, sampleTree(lab.agents.get(n)!.pid)]));
    const churnCpu = new Map(lab.nodes.map((n) => [n, partCpuSeconds(churnStart.get(n)!, start.get(n)!)]));
    const idleT0 = Date.now();
    await sleep(o.idleS * 1000);
    const nodes: NodeIdle[] = lab.nodes.map((n) => {
      const a = start.get(n)!;
      const b = sampleTree(lab.agents.get(n)!.pid);
      return { node: n, pids: b.pids, cpuPercent: round1(cpuPercent(a, b)), rssStartMB: Math.round(a.rssBytes / MB),
        rssEndMB: Math.round(b.rssBytes / MB), rssBeforeChurnMB: Math.round(beforeChurn.get(n)!.rssBytes / MB),
        churnCpuS: Object.fromEntries(Object.entries(churnCpu.get(n)!).map(([k, v]) => [k, round1(v)])),
        rssEndByPartMB: Object.fromEntries(Object.entries(b.parts).map(([k, v]) => [k, Math.round(v.rssBytes / MB)])),
        idleCpuPercent: Object.fromEntries(Object.entries(partCpuSeconds(a, b)).map(([k, v]) => [k, round1((100 * v * 1000) / (b.atMs - a.atMs))])) };
    });
    const idle = { seconds: round1((Date.now() - idleT0) / 1000), nodes, events: windowEvents(lab, idleFrom), load: loadavg().map(round1) };

    return {
      store: o.store, services: o.services, objects: list.items.length, labUpS, baseline,
      apply: { seconds: round1(big.ms / 1000), msPerObject: round1(big.ms / list.items.length), written: big.written, failed: big.failed, exit: big.code, timedOut: big.timedOut },
      churn: churned.figures, probe, idle,
    };
  } finally {
    log(`[${o.store}] lab down ${name}`);
    await takeDown(lab, o.scratch);
  }
}
