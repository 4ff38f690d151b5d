/**
 * bench/dns-churn — DNS under a cluster-sized store write (issue 14): `podnetd dns` (its own process, as
 * `node --import=tsx cmd/podnetd/main.ts dns`, or `--bin` for bin/podnetd.mjs) answers dnsperf at a fixed rate for
 * cluster names while 10,000 Services + 10,000 EndpointSlices (10 endpoints each) are written into its store.
 * Per store and rate, with a fresh store and server each time:
 *   - dnsperf `-c 1 -T 1 -Q RATE -l SECONDS -t 1 -v` on 100 pre-existing names and 100 names the churn creates;
 *     lost queries and p50/p99/max latency from its per-answer lines;
 *   - the answering thread's worst event-loop stall during the run (`podnet_dns_event_loop_delay_seconds{max}`,
 *     scraped just before the write and after dnsperf ends) and its heap; the process's RSS after the churn;
 *   - the write's duration, and the seconds from creating one more Service right after it until that name answers.
 * Writes: file store — the List dropped into the directory as one JSON manifest (what the file store watches);
 * etcd — Store.create, 64 in flight; `--writer ctl` uses `podnetctl apply -f` instead (either store).
 * etcd runs on loopback with a temp data dir (as test/integration/store/etcdFixture.ts). Everything started here
 * is killed, and every temp directory removed, at the end, also on failure.
 *
 * usage: bench/dns-churn [--stores file,etcd] [--rates 300,3000] [--seconds 30] [--services 10000] [--endpoints 10]
 *                        [--writer manifest|api|ctl] [--bin] [--feeds worker,inline]  (podnetd dns --feed; default its own)
 * Last line: `ratio=R ours=X anchor=Y`: R = p99 during the churn / 2 ms target (≤ 1 meets it), for the last run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findTool } from '../src/common/systemTools.ts';
import { openStore } from '../src/store/openStore.ts';
import type { Store } from '../src/store/store.ts';
import { freePort, SharedTeardown, startEtcd } from '../test/integration/store/etcdFixture.ts';
import { CHURN_NAMESPACE, churnObjects, namespace, QUERY_NAMESPACE, queryTargets, service } from './dnsChurnObjects.ts';

const DNSPERF = findTool('dnsperf');
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One scrape (each resets the since-last-scrape gauges); `get(name, labels)` reads a value from it. */
async function scrape(port: number): Promise<(name: string, labels?: string) => number> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return (name, labels = '') => metricIn(body, name, labels);
}

function metricIn(body: string, name: string, labels: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : NaN;
}

async function waitReady(port: number, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`podnetd dns exited (${child.exitCode})`);
    try { if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200) return; } catch { /* not up */ }
    if (Date.now() > deadline) throw new Error('podnetd dns did not become ready');
    await sleep(100);
  }
}

function rssMiB(pid: number | undefined): number {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024; } catch { return NaN; }
}

function query(id: number, name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** Ask for `name` A every 20 ms until an answer with records comes back; ms waited, NaN after `limitMs`. */
async function msUntilAnswers(port: number, name: string, limitMs: number): Promise<number> {
  const sock = createSocket('udp4');
  const start = performance.now();
  let answered = false;
  sock.on('message', (m) => { if ((m[3]! & 0xf) === 0 && m.readUInt16BE(6) > 0) answered = true; });
  try {
    for (let id = 1; !answered && performance.now() - start < limitMs; id++) {
      sock.send(query(id & 0xffff, name), port, '127.0.0.1');
      await sleep(20);
    }
  } finally { sock.close(); }
  return answered ? performance.now() - start : NaN;
}

interface PerfResult { lost: number; completed: number; p50: number; p99: number; max: number }

function dnsperf(port: number, queries: string, out: string, seconds: number, rate: number): Promise<PerfResult> {
  const child = track(spawn(DNSPERF!, ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-c', '1', '-T', '1',
    '-l', String(seconds), '-t', '1', '-Q', String(rate), '-v'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  // Drained at once into memory (a pipe read late would stall dnsperf's receiver and inflate its latencies).
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  return new Promise((resolve) => child.on('exit', () => {
    clearTimeout(timer);
    const text = Buffer.concat(chunks).toString();
    writeFileSync(out, text);
    if (process.env.DNS_CHURN_KEEP) writeFileSync(join(process.env.DNS_CHURN_KEEP, `${Date.now()}.out`), text);
    const lat = [...text.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
    const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! : NaN);
    resolve({
      lost: Number(/Queries lost:\s+(\d+)/.exec(text)?.[1] ?? NaN),
      completed: Number(/Queries completed:\s+(\d+)/.exec(text)?.[1] ?? NaN),
      p50: pct(0.5), p99: pct(0.99), max: lat.at(-1) ?? NaN,
    });
  }));
}

async function createAll(store: Store, objects: Array<Parameters<Store['create']>[0]>, inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < objects.length) await store.create(objects[next++]!);
  }));
}

interface RunOptions { storeKind: 'file' | 'etcd'; rate: number; seconds: number; services: number; endpoints: number; writer: string; bin: boolean; feed: string }

async function run(o: RunOptions, work: string): Promise<string> {
  const teardown = new SharedTeardown();
  const dir = mkdtempSync(join(work, `${o.storeKind}-`));
  try {
    let spec: string;
    if (o.storeKind === 'etcd') spec = (await startEtcd(teardown)).spec;
    else { mkdirSync(join(dir, 'store')); spec = `file:${join(dir, 'store')}`; }
    const seed = [namespace(QUERY_NAMESPACE), namespace(CHURN_NAMESPACE), ...queryTargets(100)];
    const churn = churnObjects(o.services, o.endpoints);
    const writer = o.writer || (o.storeKind === 'file' ? 'manifest' : 'api');
    const store = await openStore(spec);
    teardown.teardown(() => store.close());
    await createAll(store, seed, 8);
    const queries = join(dir, 'queries.txt');
    const names: string[] = [];
    for (let i = 0; i < 100; i++) names.push(`q-${i}.${QUERY_NAMESPACE}.svc.cluster.local A`, `s-${i * 97}.${CHURN_NAMESPACE}.svc.cluster.local A`);
    writeFileSync(queries, `${names.join('\n')}\n`);
    const [dnsPort, metricsPort] = [await freePort(), await freePort()];
    const cmd = o.bin ? ['bin/podnetd.mjs'] : ['--import=tsx', 'cmd/podnetd/main.ts'];
    const dns = track(spawn(process.execPath, [...cmd, 'dns', '--store', spec, '--listen', `127.0.0.1:${dnsPort}`, '--upstream', 'none',
      '--metrics', `127.0.0.1:${metricsPort}`, '--log-level', 'warn', '--startup-timeout', '60', ...(o.feed ? ['--feed', o.feed] : [])], { stdio: ['ignore', 'ignore', 'inherit'] }));
    teardown.teardown(() => stop(dns));
    await waitReady(metricsPort, dns, 60_000);
    await dnsperf(dnsPort, queries, join(dir, 'warm.out'), 1, o.rate); // JIT and templates warm
    const idleRss = rssMiB(dns.pid);
    const perf = dnsperf(dnsPort, queries, join(dir, 'dnsperf.out'), o.seconds, o.rate);
    await sleep(2000);
    await scrape(metricsPort); // starts the windows of the since-last-scrape gauges
    const writeStart = performance.now();
    if (writer === 'manifest') {
      const file = join(dir, 'store', 'churn.json');
      writeFileSync(`${file}.tmp`, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: churn }));
      renameSync(`${file}.tmp`, file);
    } else if (writer === 'ctl') {
      const file = join(dir, 'churn.json');
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: churn }));
      const ctl = track(spawn(process.execPath, ['--import=tsx', 'cmd/podnetctl/main.ts', 'apply', '-f', file, '--store', spec], { stdio: 'ignore' }));
      await new Promise((r) => ctl.on('exit', r));
    } else await createAll(store, churn, 64);
    const writeMs = performance.now() - writeStart;
    await store.create(service(CHURN_NAMESPACE, 'fresh', 65_000, 200));
    const freshMs = await msUntilAnswers(dnsPort, `fresh.${CHURN_NAMESPACE}.svc.cluster.local`, 60_000);
    const lastName = await msUntilAnswers(dnsPort, `s-${o.services - 1}.${CHURN_NAMESPACE}.svc.cluster.local`, 60_000);
    const r = await perf;
    const m = await scrape(metricsPort);
    const loopMax = m('podnet_dns_event_loop_delay_seconds', '{quantile="max"}');
    const heap = m('podnet_dns_heap_used_bytes');
    const applyMax = m('podnet_dns_index_delta_apply_max_seconds');
    const chunks = m('podnet_dns_index_deltas_total');
    const rss = rssMiB(dns.pid);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    return `${o.storeKind.padEnd(4)} ${o.feed ? `feed=${o.feed} ` : ''}${String(o.rate).padStart(5)} QPS: lost ${r.lost}/${r.completed + r.lost}  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms`
      + `  max ${r.max.toFixed(1)} ms  loop stall max ${(loopMax * 1000).toFixed(1)} ms${Number.isNaN(applyMax) ? '' : ` (delta chunks ${chunks}, longest apply ${(applyMax * 1000).toFixed(2)} ms)`} | write (${writer}) ${(writeMs / 1000).toFixed(1)} s`
      + `  fresh Service answers after ${(freshMs / 1000).toFixed(2)} s (last churned name then +${(lastName / 1000).toFixed(2)} s)`
      + ` | heap ${(heap / 2 ** 20).toFixed(0)} MiB  RSS ${idleRss.toFixed(0)} → ${rss.toFixed(0)} MiB | load ${load}\n`
      + `@@ ${r.p99}`;
  } finally {
    await teardown.run();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    stores: { type: 'string' }, rates: { type: 'string' }, seconds: { type: 'string' }, services: { type: 'string' },
    endpoints: { type: 'string' }, writer: { type: 'string' }, bin: { type: 'boolean' }, feeds: { type: 'string' },
  } });
  if (!DNSPERF) throw new Error('bench/dns-churn needs dnsperf (Debian package dnsperf)');
  const work = mkdtempSync(join(tmpdir(), 'podnet-dnschurn-'));
  let lastP99 = NaN;
  try {
    for (const storeKind of (values.stores ?? 'file,etcd').split(',') as Array<'file' | 'etcd'>) {
      for (const rate of (values.rates ?? '300,3000').split(',').map(Number)) for (const feed of (values.feeds ?? '').split(',')) {
        const line = await run({ storeKind, rate, seconds: Number(values.seconds ?? '30'), services: Number(values.services ?? '10000'),
          endpoints: Number(values.endpoints ?? '10'), writer: values.writer ?? '', bin: values.bin ?? false, feed }, work);
        const [text, p99] = line.split('\n@@ ');
        lastP99 = Number(p99);
        process.stdout.write(`${text}\n`);
      }
    }
  } finally {
    await Promise.all([...children].map(stop));
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`ratio=${(lastP99 / 2).toFixed(2)} ours=${lastP99.toFixed(3)} anchor=2\n`);
}

main().catch(async (err: unknown) => {
  await Promise.all([...children].map(stop));
  process.stderr.write(`bench/dns-churn: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
