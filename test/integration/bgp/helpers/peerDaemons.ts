/**
 * Real BGP peers for interop tests and the benchmark: gobgpd and BIRD 2 on loopback, each with its config in a
 * temporary directory, its own listen address/port and admin socket/port. Every daemon started here is killed by
 * the returned stop(), which callers register in teardown.
 *
 * With `netns` the daemon (and its CLI) runs inside that namespace through `ip netns exec`, which execs in place,
 * so the child's PID is the daemon's own and stop() kills the daemon itself: that is how the lab tests run a
 * top-of-rack or route reflector in the lab's fabric namespace. BIRD's control socket is a file, reachable from
 * anywhere; gobgpd's API listens on the namespace's loopback, so `gobgp` is run in the namespace too.
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

/** argv that runs `tool args` here, or inside `netns` (ip netns exec execs in place: same PID). */
function inNetns(netns: string | undefined, tool: string, args: string[]): [string, string[]] {
  const path = findTool(tool);
  if (!path) throw new Error(`${tool} is not installed`);
  return netns ? [findTool('ip') ?? '/usr/sbin/ip', ['netns', 'exec', netns, path, ...args]] : [path, args];
}

function startProcess(tool: string, args: string[], dir: string, netns?: string): Daemon & { child: ChildProcess } {
  const [cmd, argv] = inNetns(netns, tool, args);
  const child = spawn(cmd, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
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
  /** iBGP route-reflector client (RFC 4456), with the daemon's `clusterId`. */
  routeReflectorClient?: boolean;
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
  /** Run inside this network namespace (daemon and CLI). */
  netns?: string;
  /** Route-reflector cluster id for `routeReflectorClient` peers (default: the router id). */
  clusterId?: string;
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
    if (p.routeReflectorClient) {
      lines.push('  [neighbors.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = "${o.clusterId ?? o.routerId}"`);
    }
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
  const d = startProcess('gobgpd', ['-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '-p', '--api-hosts', `127.0.0.1:${o.apiPort}`, '--pprof-disable', ...(o.restarting ? ['-r'] : [])], dir, o.netns);
  const cli = async (args: string[]) => {
    const [cmd, argv] = inNetns(o.netns, 'gobgp', ['-u', '127.0.0.1', '-p', String(o.apiPort), ...args]);
    return (await runTool(cmd, argv, { timeoutMs: 60_000 })).stdout;
  };
  return { dir: d.dir, stop: d.stop, log: d.log, cli };
}

export interface BirdPeer {
  name: string;
  address: string;
  as: number;
  port: number;
  gracefulRestart?: number;
  bfd?: boolean;
  /** A directly connected neighbour (BIRD's `direct`: single-hop BFD, next hops resolved on the interface). */
  direct?: boolean;
  /** iBGP route-reflector client (RFC 4456): BIRD reflects routes to and from it with the next hop unchanged. */
  rrClient?: boolean;
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
  /** Run inside this network namespace (BIRD's control socket stays a file in the temporary directory). */
  netns?: string;
  /** Route-reflector cluster id (`rrClient` peers). */
  rrClusterId?: string;
  /** BFD intervals (ms) of BIRD's bfd protocol (default 100). */
  bfdIntervalMs?: number;
  /** Log protocol state changes to stderr (collected by `log()`), to time events without polling birdc. */
  logStates?: boolean;
}

function birdConfig(o: BirdOptions): string {
  const c: string[] = [`router id ${o.routerId};`, 'protocol device { scan time 60; }'];
  if (o.logStates) c.unshift('log stderr all;', 'debug protocols { states };');
  c.push(`protocol static static4 { ipv4 { import all; }; ${(o.staticV4 ?? []).map((r) => `route ${r} blackhole;`).join(' ')} }`);
  c.push(`protocol static static6 { ipv6 { import all; }; ${(o.staticV6 ?? []).map((r) => `route ${r} blackhole;`).join(' ')} }`);
  const ms = o.bfdIntervalMs ?? 100;
  const timers = `min rx interval ${ms} ms; min tx interval ${ms} ms; multiplier 3;`;
  if (o.bfd) c.push(`protocol bfd { interface "*" { ${timers} }; multihop { ${timers} }; }`);
  for (const p of o.peers) {
    c.push(`protocol bgp ${p.name} {`,
      `  local ${o.listenAddress} port ${o.port} as ${o.as};`,
      `  neighbor ${p.address} port ${p.port} as ${p.as};`,
      `  ${p.direct ? 'direct' : 'multihop'}; strict bind on; hold time 9; connect retry time 1; error wait time 1, 2;`,
      p.gracefulRestart ? `  graceful restart on; graceful restart time ${p.gracefulRestart};` : '  graceful restart off;',
      p.bfd ? '  bfd on;' : '',
      p.rrClient ? `  rr client; ${o.rrClusterId ? `rr cluster id ${o.rrClusterId};` : ''}` : '',
      // A reflector passes next hops on unchanged (RFC 4456); everyone else puts its own address.
      `  ipv4 { import all; export all; ${p.rrClient ? '' : 'next hop self;'} };`,
      `  ipv6 { import all; export all; ${p.rrClient ? '' : o.nextHopV6 ? `next hop address ${o.nextHopV6};` : 'next hop self;'} };`,
      '}');
  }
  // No kernel protocol on purpose: BIRD must never touch the host's routing table.
  return c.join('\n') + '\n';
}

export type BirdDaemon = Daemon & {
  birdc(args: string[]): Promise<string>;
  /** Originate (or with `withdraw`, stop originating) static prefixes: rewrites bird.conf and `birdc configure`. */
  announce(prefixes: string[], withdraw?: boolean): Promise<void>;
};

export function startBird(o: BirdOptions): BirdDaemon {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-bird-'));
  const conf = join(dir, 'bird.conf');
  const opts: BirdOptions = { ...o, staticV4: [...(o.staticV4 ?? [])], staticV6: [...(o.staticV6 ?? [])] };
  writeFileSync(conf, birdConfig(opts));
  const sock = join(dir, 'bird.ctl');
  const d = startProcess('bird', ['-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid'), ...(o.recovery ? ['-R'] : [])], dir, o.netns);
  const birdc = async (args: string[]) => (await runTool('birdc', ['-s', sock, ...args], { timeoutMs: 30_000, allowFailure: true })).stdout;
  const announce = async (prefixes: string[], withdraw = false) => {
    for (const p of prefixes) {
      const list = p.includes(':') ? opts.staticV6! : opts.staticV4!;
      const i = list.indexOf(p);
      if (withdraw && i >= 0) list.splice(i, 1);
      if (!withdraw && i < 0) list.push(p);
    }
    writeFileSync(conf, birdConfig(opts));
    const out = await birdc(['configure']);
    if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`birdc configure failed: ${out.trim()}`);
  };
  return { dir: d.dir, stop: d.stop, log: d.log, birdc, announce };
}
