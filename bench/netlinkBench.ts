/**
 * Bench: create and delete 1,000 veth pairs in a fresh namespace, with podnet's netlink code and with
 * `ip -n NS -batch -` (the same RTM_NEWLINK/RTM_DELLINK operations), in the same run, several rounds.
 * Last line: `ratio=R ours=X anchor=Y` (medians in ms; R = X/Y).
 *
 * Ours: creates are pipelined on one socket (many messages per sendmsg, a window of answers in flight); deletes go
 * through NetlinkWorkerPool, because each delete waits in the kernel for an RCU barrier that concurrent senders share.
 * Env: BENCH_PAIRS (1000), BENCH_ROUNDS (3), BENCH_WORKERS (16).
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { runTool } from '../src/common/systemTools.ts';
import { Rtnetlink } from '../src/netlink/index.ts';
import { NetlinkWorkerPool } from '../src/netlink/netlinkWorkerPool.ts';
import { linkDeleteRequest } from '../src/netlink/rtnetlink/linkCodec.ts';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 16);
const NS = `bnl${randomBytes(3).toString('hex')}`;

const names = Array.from({ length: PAIRS }, (_, i) => [`bv${i}a`, `bv${i}b`] as const);

async function linkCount(): Promise<number> {
  const out = await runTool('ip', ['-n', NS, '-o', 'link', 'show']);
  return out.stdout.trim().split('\n').length;
}

async function ours(nl: Rtnetlink, pool: NetlinkWorkerPool): Promise<number> {
  const t0 = performance.now();
  await Promise.all(names.map(([a, b]) => nl.links.create({ kind: 'veth', name: a, peer: { name: b } })));
  const results = await pool.run(names.map(([a]) => linkDeleteRequest(a)));
  const t1 = performance.now();
  const failed = results.filter((r) => r !== null);
  if (failed.length) throw new Error(`ours: ${failed.length} deletes failed, first: ${failed[0]!.message}`);
  return t1 - t0;
}

async function anchor(): Promise<number> {
  const script = [
    ...names.map(([a, b]) => `link add ${a} type veth peer name ${b}`),
    ...names.map(([a]) => `link del ${a}`),
  ].join('\n') + '\n';
  const t0 = performance.now();
  await runTool('ip', ['-n', NS, '-batch', '-'], { input: script, timeoutMs: 600_000 });
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => x.toFixed(0);

async function main(): Promise<void> {
  await runTool('ip', ['netns', 'add', NS]);
  const cleanup = () => runTool('ip', ['netns', 'del', NS], { allowFailure: true });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const nl = await Rtnetlink.open({ netns: NS });
    const pool = await NetlinkWorkerPool.open({ netns: NS, size: WORKERS });
    const oursMs: number[] = [];
    const anchorMs: number[] = [];
    try {
      for (let r = 1; r <= ROUNDS; r++) {
        oursMs.push(await ours(nl, pool));
        if ((await linkCount()) !== 1) throw new Error('ours left links behind');
        anchorMs.push(await anchor());
        if ((await linkCount()) !== 1) throw new Error('ip -batch left links behind');
        console.log(`round ${r}: ours=${fmt(oursMs.at(-1)!)} ms  ip -batch=${fmt(anchorMs.at(-1)!)} ms`);
      }
    } finally {
      nl.close();
      await pool.close();
    }
    console.log(`best: ours=${fmt(Math.min(...oursMs))} anchor=${fmt(Math.min(...anchorMs))} (${PAIRS} veth pairs created+deleted, ${WORKERS} delete workers)`);
    const x = median(oursMs);
    const y = median(anchorMs);
    console.log(`ratio=${(x / y).toFixed(2)} ours=${fmt(x)} anchor=${fmt(y)}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/netlink: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
