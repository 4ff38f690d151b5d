/**
 * BFD interop with BIRD 2 (RFC 5880), inside a namespace made here so both can use the real ports. BGP between two
 * loopback addresses is multihop to BIRD, so BIRD runs the session as multihop BFD (RFC 5883, UDP 4784); our
 * manager speaks the same packets on whichever port it is given.
 * Our speaker (child process, BGP + BFD) and BIRD (`bfd on`) bring BFD Up; freezing either side (SIGSTOP: no
 * FIN, no packets) makes the other drop the BGP routes through BFD long before the 9 s hold timer.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, runTool } from '../../../src/common/systemTools.ts';
import { makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { waitFor } from '../../integration/bgp/helpers/bgpTestHelpers.ts';

const prefix = uniquePrefix('bgf');
let snapshot: ReturnType<typeof rootSnapshot>;
test.before(() => { snapshot = rootSnapshot(prefix); });
test.after.always('nothing left behind in the root namespace', (t) => { t.deepEqual(snapshot.leaks(), []); });

const maybe = findTool('bird') ? test : test.skip;

const BIRD_CONF = `router id 127.0.0.2;
protocol device {}
protocol bfd { multihop { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
protocol static { ipv4; route 10.66.0.0/24 blackhole; }
protocol bgp podnet {
  local 127.0.0.2 as 65020; neighbor 127.0.0.1 as 65001; multihop; strict bind on; bfd on;
  hold time 9; connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export all; next hop self; };
}
`;

function track(child: ChildProcess): { lines: string[] } {
  const state = { lines: [] as string[] };
  let buf = '';
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    state.lines.push(...parts);
  });
  return state;
}

maybe('BFD with BIRD: both Up, and either side frozen takes the other side\'s routes away', async (t) => {
  const ns = makeNetns(t, prefix, 'b');
  const dir = mkdtempSync(join(tmpdir(), 'podnet-bfd-'));
  writeFileSync(join(dir, 'bird.conf'), BIRD_CONF);
  const sock = join(dir, 'bird.ctl');
  const bird = spawn(findTool('ip')!, ['netns', 'exec', ns, findTool('bird')!, '-f', '-c', join(dir, 'bird.conf'), '-s', sock], { stdio: 'ignore' });
  const ours = spawn(findTool('ip')!, ['netns', 'exec', ns, process.execPath, '--import', 'tsx',
    fileURLToPath(new URL('../../integration/bgp/helpers/speakerProcess.ts', import.meta.url)), JSON.stringify({
      speaker: { localAs: 65001, routerId: '127.0.0.1', listen: { address: '127.0.0.1', port: 179 }, connectRetryMs: 200,
        peers: [{ peerAddress: '127.0.0.2', peerAs: 65020, localAddress: '127.0.0.1', holdTime: 9, nextHopV4: '127.0.0.1' }] },
      routes: [{ prefix: '10.244.1.0/24' }],
      bfd: { port: 4784, peer: '127.0.0.2', minTxMs: 100 },
    })], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(async () => {
    for (const c of [ours, bird]) c.kill('SIGKILL');
    // ip netns exec forwards nothing: kill what runs inside the namespace by pid, then the namespace goes.
    await runTool('ip', ['netns', 'pids', ns], { allowFailure: true }).then(async (r) => {
      for (const pid of r.stdout.split('\n').filter(Boolean)) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
    });
    rmSync(dir, { recursive: true, force: true });
  });
  const out = track(ours);
  const birdc = async (args: string[]) => (await runTool('ip', ['netns', 'exec', ns, findTool('birdc')!, '-s', sock, ...args], { allowFailure: true })).stdout;

  await waitFor('BFD Up on our side', () => out.lines.includes('bfd Up'), 30_000);
  await waitFor('BFD Up in BIRD', async () => /127\.0\.0\.1\s+\S+\s+Up/.test(await birdc(['show', 'bfd', 'sessions'])), 30_000);
  await waitFor('routes both ways', async () => out.lines.includes('learned 1') && /10\.244\.1\.0\/24/.test(await birdc(['show', 'route', 'protocol', 'podnet'])), 30_000);

  // BIRD freezes: our BFD goes Down and our speaker drops BIRD's route.
  const before = out.lines.length;
  const inNs = (await runTool('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
  const comm = async (pid: number) => (await runTool('ps', ['-o', 'comm=', '-p', String(pid)], { allowFailure: true })).stdout.trim();
  const innerBird: number[] = [];
  for (const pid of inNs) if ((await comm(pid)) === 'bird') innerBird.push(pid);
  for (const pid of innerBird) process.kill(pid, 'SIGSTOP');
  await waitFor('our BFD Down', () => out.lines.slice(before).includes('bfd Down'), 10_000);
  await waitFor('BIRD route dropped by us', () => out.lines.slice(before).includes('learned 0'), 10_000);
  for (const pid of innerBird) process.kill(pid, 'SIGCONT');
  await waitFor('BFD Up again', () => out.lines.slice(before).includes('bfd Up'), 30_000);
  await waitFor('BGP back in BIRD', async () => /10\.244\.1\.0\/24/.test(await birdc(['show', 'route', 'protocol', 'podnet'])), 30_000);

  // We freeze: BIRD's BFD goes Down and BIRD drops our route.
  const innerOurs = inNs.filter((pid) => !innerBird.includes(pid));
  for (const pid of innerOurs) process.kill(pid, 'SIGSTOP');
  await waitFor('BIRD dropped our route', async () => !/10\.244\.1\.0\/24/.test(await birdc(['show', 'route', 'protocol', 'podnet'])), 10_000);
  t.regex(await birdc(['show', 'protocols', 'all', 'podnet']), /Last error:\s+Error: BFD session down/);
  for (const pid of innerOurs) process.kill(pid, 'SIGCONT');
});
