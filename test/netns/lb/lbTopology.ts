/**
 * A small L2 segment in namespaces for the LB tests and bench/lb: a fabric namespace with a bridge, N "node"
 * namespaces and one client namespace, each with `eth0` on the bridge (underlay 198.18.0.0/24 and fd00:18::/64,
 * as the lab's address plan). Everything is named with the caller's unique prefix and removed by destroy().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { findTool } from '../../../src/common/systemTools.ts';

const IP = findTool('ip') ?? '/usr/sbin/ip';

export function ipCmd(args: string[]): string {
  return execFileSync(IP, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface LbTopology {
  fabric: string;
  client: string;
  nodes: Array<{ name: string; ns: string; mac: string }>;
  /** Plain hosts on the segment (198.18.0.31, .32, ...), e.g. a backend outside the nodes. */
  hosts: Array<{ ns: string; ip: string }>;
  destroy(): void;
}

export function buildTopology(prefix: string, nodeCount: number, hostCount = 0): LbTopology {
  const made: string[] = [];
  const destroy = () => {
    for (const ns of made.reverse()) {
      try { execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ }
    }
  };
  try {
    const fabric = `${prefix}-fab`;
    ipCmd(['netns', 'add', fabric]);
    made.push(fabric);
    ipCmd(['-n', fabric, 'link', 'add', 'br0', 'type', 'bridge']);
    ipCmd(['-n', fabric, 'link', 'set', 'br0', 'up']);
    const attach = (ns: string, idx: number, v4: string, v6: string, mac: string) => {
      ipCmd(['netns', 'add', ns]);
      made.push(ns);
      ipCmd(['-n', fabric, 'link', 'add', `p${idx}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'address', mac]);
      ipCmd(['-n', fabric, 'link', 'set', `p${idx}`, 'master', 'br0', 'up']);
      ipCmd(['-n', ns, 'addr', 'add', v4, 'dev', 'eth0']);
      ipCmd(['-n', ns, 'addr', 'add', v6, 'dev', 'eth0', 'nodad']);
      ipCmd(['-n', ns, 'link', 'set', 'lo', 'up']);
      ipCmd(['-n', ns, 'link', 'set', 'eth0', 'up']);
    };
    const client = `${prefix}-cl`;
    attach(client, 0, '198.18.0.2/24', 'fd00:18::2/64', '02:18:00:00:00:02');
    const nodes = Array.from({ length: nodeCount }, (_, i) => {
      const mac = `02:18:00:00:00:${(0x11 + i).toString(16)}`;
      const ns = `${prefix}-n${i + 1}`;
      attach(ns, i + 1, `198.18.0.${11 + i}/24`, `fd00:18::${(0x11 + i).toString(16)}/64`, mac);
      return { name: `node-${i + 1}`, ns, mac };
    });
    const hosts = Array.from({ length: hostCount }, (_, i) => {
      const ns = `${prefix}-h${i + 1}`;
      attach(ns, 10 + i, `198.18.0.${31 + i}/24`, `fd00:18::${(0x31 + i).toString(16)}/64`, `02:18:00:00:00:${(0x31 + i).toString(16)}`);
      return { ns, ip: `198.18.0.${31 + i}` };
    });
    return { fabric, client, nodes, hosts, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

export interface Capture {
  lines(): string[];
  stop(): Promise<string[]>;
}

/** tcpdump in `ns` on eth0 with epoch timestamps and link headers, line-buffered; bounded by `maxSeconds`. */
export async function startCapture(ns: string, filter: string, maxSeconds = 60): Promise<Capture> {
  const tcpdump = findTool('tcpdump') ?? '/usr/bin/tcpdump';
  const timeout = findTool('timeout') ?? '/usr/bin/timeout';
  const child: ChildProcess = spawn(IP, ['netns', 'exec', ns, timeout, String(maxSeconds), tcpdump, '--immediate-mode', '-l', '-n', '-e', '-tt', '-i', 'eth0', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    out.push(...parts);
  });
  // tcpdump says "listening on eth0" on stderr once the capture is armed.
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 3000);
    child.stderr!.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) { clearTimeout(t); resolve(); } });
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    lines: () => [...out],
    stop: async () => {
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      return [...out];
    },
  };
}

/** MACs that sent an ARP reply saying `ip` is at them, from tcpdump -e lines. */
export function arpReplyMacs(lines: string[], ip: string): string[] {
  const re = new RegExp(`Reply ${ip.replaceAll('.', '\\.')} is-at ([0-9a-f:]{17})`);
  return [...new Set(lines.map((l) => re.exec(l)?.[1]).filter((m): m is string => !!m))];
}
