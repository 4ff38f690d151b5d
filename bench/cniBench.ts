/**
 * bench/cni — N ADD+DEL cycles of podnet (as installed by install-cni: snapshot launcher, routed mode, in-process
 * podnet-ipam) and of the reference bridge + host-local from /usr/lib/cni, interleaved in the same run, each plugin
 * exec'd in a throw-away "node" namespace with a runtime's clean environment (CNI_* only). Prints the medians and,
 * last, `ratio=R ours=X anchor=Y` (ms per ADD+DEL cycle). Cleans up its namespaces and files, also on failure.
 *
 * usage: bench/cni [--cycles 30]
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { installCni } from '../src/cni/install/cniInstaller.ts';
import { bundleCniExecutables } from '../src/cni/install/cniBundler.ts';

const IP = '/usr/sbin/ip';
const cyclesArg = process.argv.indexOf('--cycles');
const N = cyclesArg > 0 ? Number(process.argv[cyclesArg + 1]) : 30;
const prefix = `bcni${randomBytes(3).toString('hex')}`;
const nsNames = [`${prefix}-node`, `${prefix}-pod`];
const work = mkdtempSync(join(tmpdir(), 'podnet-bench-cni-'));
const ROOT = new URL('..', import.meta.url).pathname;
let handoffServer: ChildProcess | undefined;

function cleanup(): void {
  handoffServer?.kill('SIGKILL');
  for (const ns of nsNames) {
    try { execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not there */ }
  }
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanup(); process.exit(130); });

function cni(binary: string, command: string, id: string, config: object): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = execFile(IP, ['netns', 'exec', nsNames[0]!, binary], {
      env: { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${nsNames[1]}`, CNI_IFNAME: 'eth0', CNI_PATH: `${join(work, 'bin')}:/usr/lib/cni` },
    }, (err, stdout) => {
      if (err) reject(new Error(`${binary} ${command}: ${stdout || err.message}`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
    child.stdin!.end(JSON.stringify(config));
  });
}

/** The hand-off server (what podnetd embeds), in the node namespace, where the runtime would exec the plugin. */
async function startHandoffServer(socket: string): Promise<void> {
  handoffServer = spawn(IP, ['netns', 'exec', nsNames[0]!, process.execPath, '--import', 'tsx', join(ROOT, 'cmd/cni/handoffMain.ts'), '--socket', socket],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 300 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error('the hand-off server did not start');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await bundleCniExecutables(work);
  const [podnet] = installCni({ binDir: join(work, 'bin'), confDir: join(work, 'net.d'), bundleDir: work, snapshot: true });
  const socket = join(work, 'cni.sock');
  const [shim] = installCni({ binDir: join(work, 'bin-handoff'), confDir: join(work, 'net.d'), bundleDir: work, snapshot: true,
    handoff: { socketPath: socket, shimSource: join(ROOT, 'src/cni/handoff/podnet-shim.c') } });
  for (const ns of nsNames) execFileSync(IP, ['netns', 'add', ns]);
  execFileSync(IP, ['-n', nsNames[0]!, 'link', 'set', 'lo', 'up']);
  await startHandoffServer(socket);
  const ours = { cniVersion: '1.0.0', name: 'bench-podnet', type: 'podnet', mtu: 1450, nodeStateFile: join(work, 'none.json'),
    ipam: { type: 'podnet-ipam', dataDir: join(work, 'leases'), ranges: [[{ subnet: '10.201.0.0/16' }]] } };
  const anchor = { cniVersion: '1.0.0', name: 'bench-bridge', type: 'bridge', bridge: 'cni-bench0', isGateway: true,
    ipam: { type: 'host-local', dataDir: join(work, 'leases'), ranges: [[{ subnet: '10.202.0.0/16' }]] } };
  const sides = {
    handoff: [shim!.path, ours] as const,
    anchor: ['/usr/lib/cni/bridge', anchor] as const,
    'no-daemon': [podnet!.path, ours] as const,
  };
  type Side = keyof typeof sides;
  const runs = Object.fromEntries(Object.keys(sides).map((k) => [k, { add: [] as number[], del: [] as number[] }])) as Record<Side, { add: number[]; del: number[] }>;
  const one = async (which: Side, i: number) => {
    const [bin, conf] = sides[which];
    const add = await cni(bin, 'ADD', `bench-${which}-${i}`, conf);
    const del = await cni(bin, 'DEL', `bench-${which}-${i}`, conf);
    if (i >= 0) { runs[which].add.push(add); runs[which].del.push(del); }
  };
  for (let i = -2; i < N; i++) {
    // Rotate the order so no side always runs on a cache warmed by another.
    const order = Object.keys(sides) as Side[];
    for (let k = 0; k < order.length; k++) await one(order[(k + i + 3) % order.length]!, i);
  }
  const cycle = (r: { add: number[]; del: number[] }) => median(r.add.map((a, i) => a + r.del[i]!));
  for (const [name, r] of Object.entries(runs)) {
    process.stdout.write(`${name.padEnd(9)} ADD ${median(r.add).toFixed(1)} ms  DEL ${median(r.del).toFixed(1)} ms  ADD+DEL ${cycle(r).toFixed(1)} ms (median of ${N})\n`);
  }
  process.stdout.write(`no-daemon = ${podnet!.path} (${podnet!.snapshot ? 'V8 start-up snapshot' : `no snapshot: ${podnet!.note}`}); ` +
    `handoff = native shim -> podnetd's hand-off socket (${shim!.note})\n`);
  process.stdout.write(`no-daemon ratio=${(cycle(runs['no-daemon']) / cycle(runs.anchor)).toFixed(2)}\n`);
  const o = cycle(runs.handoff);
  const a = cycle(runs.anchor);
  process.stdout.write(`ratio=${(o / a).toFixed(2)} ours=${o.toFixed(1)} anchor=${a.toFixed(1)}\n`);
}

main().then(cleanup, (err: unknown) => {
  cleanup();
  process.stderr.write(`bench/cni: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
