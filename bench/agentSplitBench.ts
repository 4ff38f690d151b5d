/**
 * bench/agentSplit — what `podnetd agent`'s process split buys (src/daemon/README.md): a latency part (a UDP
 * responder answering queries at --qps, standing in for DNS, and a 50 ms timer standing in for BFD's transmit
 * timer) while the proxy syncs N Services × 10 endpoints (a full sync, then --rounds syncs that change 10 % of
 * the slices) through the real nftables backend inside a namespace this bench creates and removes.
 *   single: latency part and proxy in one process (the agent before issue 14);
 *   split:  each in its own child process, the proxy niced to 10 (the supervisor's layout).
 * The query sender is this process, on loopback. Prints, per layout: queries lost (no answer within 1 s), answer
 * p99/max, the latency part's event-loop delay p99/max (perf_hooks.monitorEventLoopDelay) and timer lateness
 * p99/max, the proxy's sync time; and the load average. Bounded: --rounds syncs, each layout at most 5 minutes.
 *
 * usage: bench/agentSplit [--services 10000] [--endpoints 10] [--rounds 5] [--qps 300] [--layouts single,split]
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { loadavg, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { findTool } from '../src/common/systemTools.ts';

const IP = findTool('ip') ?? '/usr/sbin/ip';
const WORKER = fileURLToPath(new URL('./agentSplitWorker.ts', import.meta.url));

const { values } = parseArgs({ options: {
  services: { type: 'string', default: '10000' }, endpoints: { type: 'string', default: '10' }, rounds: { type: 'string', default: '5' },
  qps: { type: 'string', default: '300' }, layouts: { type: 'string', default: 'single,split' },
} });
const services = Number(values.services);
const endpoints = Number(values.endpoints);
const rounds = Number(values.rounds);
const qps = Number(values.qps);

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)]! : NaN);

interface Reply { type: string; [k: string]: unknown }
function worker(role: string, args: Record<string, unknown>): { child: ChildProcess; next(type: string): Promise<Reply> } {
  const child = fork(WORKER, [role, JSON.stringify(args)], { execArgv: ['--import=tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: Reply[] = [];
  const waiters: Array<{ type: string; resolve(r: Reply): void }> = [];
  child.on('message', (m: Reply) => {
    const w = waiters.findIndex((x) => x.type === m.type);
    if (w >= 0) waiters.splice(w, 1)[0]!.resolve(m); else queue.push(m);
  });
  return {
    child,
    next: (type) => new Promise((resolve, reject) => {
      const q = queue.findIndex((x) => x.type === type);
      if (q >= 0) { resolve(queue.splice(q, 1)[0]!); return; }
      waiters.push({ type, resolve });
      child.once('exit', (code) => reject(new Error(`${role} exited ${code} waiting for ${type}`)));
    }),
  };
}

function renice(pid: number): void {
  for (const t of readdirSync(`/proc/${pid}/task`)) { try { setPriority(Number(t), 10); } catch { /* gone */ } }
}

async function layout(name: 'single' | 'split', ns: string) {
  const load0 = loadavg()[0]!.toFixed(2);
  const all: ChildProcess[] = [];
  try {
    const lat = worker(name === 'single' ? 'both' : 'latency', { ns, services, endpoints, rounds });
    all.push(lat.child);
    const { port } = await lat.next('listening') as unknown as { port: number };
    let bulk = lat;
    if (name === 'split') {
      bulk = worker('bulk', { ns, services, endpoints, rounds });
      all.push(bulk.child);
      await bulk.next('booted');
      renice(bulk.child.pid!);
    }
    await bulk.next('ready'); // model inputs built; nothing measured yet
    // Queries from here at `qps`, each with a sequence number; answered ones timed, unanswered after 1 s lost.
    const sock = createSocket('udp4');
    const sent = new Map<number, number>();
    const rtts: number[] = [];
    sock.on('message', (b) => { const seq = b.readUInt32BE(0); const t = sent.get(seq); if (t !== undefined) { rtts.push(performance.now() - t); sent.delete(seq); } });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    let seq = 0;
    // A fresh buffer per query: send() is asynchronous and must not see the next query's number.
    const tick = setInterval(() => { for (let i = 0; i < qps / 100; i++) { const buf = Buffer.alloc(32); buf.writeUInt32BE(seq, 0); sent.set(seq++, performance.now()); sock.send(buf, port, '127.0.0.1'); } }, 10);
    lat.child.send({ type: 'measure' });
    bulk.child.send({ type: 'sync' });
    const done = await Promise.race([bulk.next('synced'), new Promise<Reply>((_, rej) => setTimeout(() => rej(new Error('layout took over 5 minutes')), 300_000))]);
    clearInterval(tick);
    await new Promise((r) => setTimeout(r, 1000));
    lat.child.send({ type: 'report' });
    const rep = await lat.next('report');
    sock.close();
    // Lost: never answered, or answered after more than 1 s (a resolver would have retried or given up).
    const lost = sent.size + rtts.filter((ms) => ms > 1000).length;
    const load1 = loadavg()[0]!.toFixed(2);
    return {
      layout: name, queries: seq, lost, answerP99Ms: pct(rtts, 0.99).toFixed(2), answerMaxMs: Math.max(...rtts).toFixed(1),
      loopDelayP99Ms: rep.eldP99, loopDelayMaxMs: rep.eldMax, timerLateP99Ms: rep.lateP99, timerLateMaxMs: rep.lateMax,
      fullSyncS: done.fullS, changeSyncsS: done.roundsS, load: `${load0}→${load1}`,
    };
  } finally {
    for (const c of all) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

const ns = `pnsplit-${randomBytes(3).toString('hex')}`;
const cleanup = () => { try { execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ } };
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { cleanup(); process.exit(1); });
try {
  for (const name of String(values.layouts).split(',') as Array<'single' | 'split'>) {
    execFileSync(IP, ['netns', 'add', ns]);
    try {
      const r = await layout(name, ns);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } finally { cleanup(); }
  }
} finally { cleanup(); }
