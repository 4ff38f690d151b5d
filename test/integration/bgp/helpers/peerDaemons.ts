/**
 * Real BGP peers for interop tests and the benchmark: gobgpd and BIRD 2 on loopback, each with its config in a
 * temporary directory, its own listen address/port and admin socket/port. Every daemon started here is killed by
 * the returned stop(), which callers register in teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, runTool } from '../../../../src/common/systemTools.ts';

export interface Daemon {
  dir: string;
  stop(): Promise<void>;
  /** stderr/stdout collected so far, for failure messages. */
  log(): string;
}

function startProcess(tool: string, args: string[], dir: string): Daemon & { child: ChildProcess } {
  const path = findTool(tool);
  if (!path) throw new Error(`${tool} is not installed`);
  const child = spawn(path, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child, dir,
    log: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GobgpPeer {
  address: string;
  as: number;
  port: number;
  families?: Array<'ipv4-unicast' | 'ipv6-unicast'>;
  passive?: boolean;
  gracefulRestart?: number;
  /** Route-server client: gobgpd passes routes on unchanged (next hop, AS path) — the bench uses it. */
  routeServerClient?: boolean;
}

export interface GobgpOptions {
  as: number;
  routerId: string;
  listenAddress: string;
  port: number;
  apiPort: number;
  peers: GobgpPeer[];
  /** Start as a restarting speaker (`-r`: R and F bits in the graceful restart capability). */
  restarting?: boolean;
  /** Rewrite the next hop of everything gobgpd exports (a global export policy). */
  exportNextHop?: string;
}

function gobgpConfig(o: GobgpOptions): string {
  const lines = [
    '[global.config]', `  as = ${o.as}`, `  router-id = "${o.routerId}"`, `  port = ${o.port}`, `  local-address-list = ["${o.listenAddress}"]`,
  ];
  if (o.exportNextHop) {
    lines.push('[global.apply-policy.config]', '  export-policy-list = ["podnet-nh"]', '  default-export-policy = "accept-route"');
  }
  for (const p of o.peers) {
    lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${p.address}"`, `    peer-as = ${p.as}`);
    lines.push('  [neighbors.transport.config]', `    remote-port = ${p.port}`, `    local-address = "${o.listenAddress}"`, `    passive-mode = ${p.passive ? 'true' : 'false'}`);
    lines.push('  [neighbors.timers.config]', '    connect-retry = 1', '    hold-time = 9', '    keepalive-interval = 3');
    if (p.routeServerClient) lines.push('  [neighbors.route-server.config]', '    route-server-client = true');
    if (p.gracefulRestart) {
      lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', `    restart-time = ${p.gracefulRestart}`);
    }
    for (const f of p.families ?? ['ipv4-unicast', 'ipv6-unicast']) {
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${f}"`);
      if (p.gracefulRestart) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
  }
  if (o.exportNextHop) {
    lines.push('[[policy-definitions]]', '  name = "podnet-nh"', '  [[policy-definitions.statements]]', '    name = "nh"',
      '    [policy-definitions.statements.actions]', '      route-disposition = "accept-route"',
      '    [policy-definitions.statements.actions.bgp-actions]', `      set-next-hop = "${o.exportNextHop}"`);
  }
  return lines.join('\n') + '\n';
}

export type GobgpDaemon = Daemon & { cli(args: string[]): Promise<string> };

export function startGobgpd(o: GobgpOptions): GobgpDaemon {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-gobgp-'));
  writeFileSync(join(dir, 'gobgpd.toml'), gobgpConfig(o));
  const d = startProcess('gobgpd', ['-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '-p', '--api-hosts', `127.0.0.1:${o.apiPort}`, '--pprof-disable', ...(o.restarting ? ['-r'] : [])], dir);
  const cli = async (args: string[]) => (await runTool('gobgp', ['-u', '127.0.0.1', '-p', String(o.apiPort), ...args], { timeoutMs: 60_000 })).stdout;
  return { dir: d.dir, stop: d.stop, log: d.log, cli };
}

export interface BirdPeer {
  name: string;
  address: string;
  as: number;
  port: number;
  gracefulRestart?: number;
  bfd?: boolean;
}

export interface BirdOptions {
  as: number;
  routerId: string;
  listenAddress: string;
  port: number;
  peers: BirdPeer[];
  /** Static routes BIRD originates (blackhole), exported to every peer. */
  staticV4?: string[];
  staticV6?: string[];
  /** IPv6 next hop BIRD puts in its IPv6 announcements over an IPv4 session. */
  nextHopV6?: string;
  /** Enable BFD on loopback neighbors (BIRD's bfd protocol). */
  bfd?: boolean;
  /** Start in graceful restart recovery (`-R`): BIRD then announces R and F bits, as after a real restart. */
  recovery?: boolean;
}

function birdConfig(o: BirdOptions): string {
  const c: string[] = [`router id ${o.routerId};`, 'protocol device { scan time 60; }'];
  c.push(`protocol static static4 { ipv4 { import all; }; ${(o.staticV4 ?? []).map((r) => `route ${r} blackhole;`).join(' ')} }`);
  c.push(`protocol static static6 { ipv6 { import all; }; ${(o.staticV6 ?? []).map((r) => `route ${r} blackhole;`).join(' ')} }`);
  if (o.bfd) c.push('protocol bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; multihop { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }');
  for (const p of o.peers) {
    c.push(`protocol bgp ${p.name} {`,
      `  local ${o.listenAddress} port ${o.port} as ${o.as};`,
      `  neighbor ${p.address} port ${p.port} as ${p.as};`,
      '  multihop; strict bind on; hold time 9; connect retry time 1; error wait time 1, 2;',
      p.gracefulRestart ? `  graceful restart on; graceful restart time ${p.gracefulRestart};` : '  graceful restart off;',
      p.bfd ? '  bfd on;' : '',
      '  ipv4 { import all; export all; next hop self; };',
      `  ipv6 { import all; export all; ${o.nextHopV6 ? `next hop address ${o.nextHopV6};` : 'next hop self;'} };`,
      '}');
  }
  // No kernel protocol on purpose: BIRD must never touch the host's routing table.
  return c.join('\n') + '\n';
}

export type BirdDaemon = Daemon & { birdc(args: string[]): Promise<string> };

export function startBird(o: BirdOptions): BirdDaemon {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-bird-'));
  writeFileSync(join(dir, 'bird.conf'), birdConfig(o));
  const sock = join(dir, 'bird.ctl');
  const d = startProcess('bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', sock, '-P', join(dir, 'bird.pid'), ...(o.recovery ? ['-R'] : [])], dir);
  const birdc = async (args: string[]) => (await runTool('birdc', ['-s', sock, ...args], { timeoutMs: 30_000, allowFailure: true })).stdout;
  return { dir: d.dir, stop: d.stop, log: d.log, birdc };
}
