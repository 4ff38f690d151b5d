/**
 * Fixture for the CNI netns tests: a "node" namespace (198.18.0.11 on a veth to a "client" namespace at
 * 198.18.0.2, standing outside the cluster), pod namespaces, a temporary IPAM data dir and node state file, and
 * two ways to call the plugin: in-process (host side = the node namespace, via IprouteDataplane's hostNetns) and
 * as the real bundled executable exec'd inside the node namespace with CNI env + stdin, as a runtime does.
 */
import type { ExecutionContext } from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { bundleCniExecutables } from '../../../../src/cni/install/cniBundler.ts';
import { installCni } from '../../../../src/cni/install/cniInstaller.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip, makeNetns } from '../../../helpers/netnsFixture.ts';
import { runPlugin } from '../../../../src/cni/skel.ts';
import { podnetPlugin, defaultDeps } from '../../../../src/cni/podnetPlugin.ts';
import { NetlinkDataplane } from '../../../../src/cni/netlinkDataplane.ts';
import type { PodnetDeps } from '../../../../src/cni/podnetDeps.ts';

let bundleDir: string | undefined;

/** Install podnet and podnet-ipam as install-cni does (CommonJS bundles + V8 snapshot launchers), once per process. */
export async function pluginBinDir(): Promise<string> {
  if (bundleDir && existsSync(join(bundleDir, 'bin', 'podnet'))) return join(bundleDir, 'bin');
  const dir = mkdtempSync(join(tmpdir(), 'podnet-cni-bin-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await bundleCniExecutables(dir);
  installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), bundleDir: dir, snapshot: true });
  bundleDir = dir;
  return join(dir, 'bin');
}

export interface CniCall {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  config: Record<string, unknown> | string;
  path?: string;
}

export interface CniOutcome {
  code: number;
  stdout: string;
  json: Record<string, unknown> | null;
}

function envOf(call: CniCall, cniPath: string): Record<string, string> {
  // What a runtime passes: its own PATH (reference plugins exec iptables through it) plus the CNI variables.
  const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: call.command, CNI_PATH: call.path ?? cniPath };
  if (call.containerId !== undefined) env.CNI_CONTAINERID = call.containerId;
  if (call.netns !== undefined) env.CNI_NETNS = call.netns;
  if (call.ifname !== undefined) env.CNI_IFNAME = call.ifname;
  if (call.args !== undefined) env.CNI_ARGS = call.args;
  return env;
}

function outcome(code: number, stdout: string): CniOutcome {
  let json: Record<string, unknown> | null = null;
  try {
    json = stdout.trim() ? JSON.parse(stdout) as Record<string, unknown> : null;
  } catch {
    json = null;
  }
  return { code, stdout, json };
}

export interface Cluster {
  prefix: string;
  node: string;
  nodePath: string;
  client: string;
  dataDir: string;
  nodeStateFile: string;
  binDir: string;
  cniPath: string;
  makePod(name: string): string;
  conf(extra?: Record<string, unknown>, ipam?: Record<string, unknown>): Record<string, unknown>;
  /** In-process, host side in the node namespace. */
  call(call: CniCall, deps?: Partial<PodnetDeps>): Promise<CniOutcome>;
  /** The bundled executable (or any plugin in cniPath by `plugin`), exec'd in the node namespace with a clean env. */
  exec(call: CniCall, plugin?: string): Promise<CniOutcome>;
  spawnExec(call: CniCall, plugin?: string): ChildProcess;
}

export async function makeCluster(t: ExecutionContext, prefix: string): Promise<Cluster> {
  const node = makeNetns(t, prefix, 'node');
  const client = makeNetns(t, prefix, 'client');
  ip(['-n', node, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
  ip(['-n', node, 'addr', 'add', '198.18.0.11/24', 'dev', 'up0']);
  ip(['-n', node, 'link', 'set', 'up0', 'up']);
  ip(['-n', client, 'addr', 'add', '198.18.0.2/24', 'dev', 'eth0']);
  ip(['-n', client, 'link', 'set', 'eth0', 'up']);
  ip(['-n', node, 'route', 'add', 'default', 'via', '198.18.0.2']);
  const dataDir = mkdtempSync(join(tmpdir(), `podnet-cni-${prefix}-`));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const nodeStateFile = join(dataDir, 'node.json');
  writeFileSync(nodeStateFile, JSON.stringify({ nodeName: 'n1', podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/120'],
    clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], mtu: 1450 }));
  const binDir = await pluginBinDir();
  const cniPath = `${binDir}:/usr/lib/cni`;
  const nodePath = `/run/netns/${node}`;
  const hostDeps = (): PodnetDeps => defaultDeps({ dataplane: new NetlinkDataplane({ hostNetns: nodePath }) });
  const cluster: Cluster = {
    prefix, node, nodePath, client, dataDir, nodeStateFile, binDir, cniPath,
    makePod: (name) => `/run/netns/${makeNetns(t, prefix, name)}`,
    conf: (extra = {}, ipam = {}) => ({
      cniVersion: '1.1.0', name: 'podnet-test', type: 'podnet', nodeStateFile,
      ipam: { type: 'podnet-ipam', dataDir, nodeStateFile, ranges: [[{ subnet: 'usePodCidr' }], [{ subnet: 'usePodCidrIPv6' }]], ...ipam },
      ...extra,
    }),
    async call(call, deps = {}) {
      let out = '';
      const stdin = Buffer.from(typeof call.config === 'string' ? call.config : JSON.stringify(call.config));
      const code = await runPlugin(podnetPlugin({ ...hostDeps(), ...deps }), {
        env: envOf(call, cniPath), stdin, writeStdout: (s) => { out += s; },
      });
      return outcome(code, out);
    },
    exec(call, plugin = 'podnet') {
      return new Promise((resolve) => {
        const child = execFile('/usr/sbin/ip', ['netns', 'exec', node, plugin.startsWith('/') ? plugin : join(binDir, plugin)],
          { env: envOf(call, cniPath), encoding: 'utf8', timeout: 120_000 }, (err, stdout) => {
            resolve(outcome(err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout));
          });
        child.stdin!.end(typeof call.config === 'string' ? call.config : JSON.stringify(call.config));
      });
    },
    spawnExec(call, plugin = 'podnet') {
      const child = spawn('/usr/sbin/ip', ['netns', 'exec', node, join(binDir, plugin)],
        { env: envOf(call, cniPath), stdio: ['pipe', 'pipe', 'ignore'] });
      child.stdin!.end(typeof call.config === 'string' ? call.config : JSON.stringify(call.config));
      return child;
    },
  };
  return cluster;
}

/** Run a command in a namespace; exit code and output. */
export function inNetns(ns: string, cmd: string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const name = ns.startsWith('/run/netns/') ? ns.slice('/run/netns/'.length) : ns;
  return new Promise((resolve) => {
    execFile('/usr/sbin/ip', ['netns', 'exec', name, ...cmd], { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export const ping = async (ns: string, addr: string) =>
  (await inNetns(ns, ['ping', '-c', '1', '-W', '2', addr])).code === 0;
