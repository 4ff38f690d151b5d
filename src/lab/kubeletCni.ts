/**
 * @module lab/kubeletCni — the lab kubelet's side of the CNI protocol: run a conflist the way libcni (and so
 * containerd and CRI-O) does, so the plugins see exactly what a real runtime gives them.
 *
 * ADD runs each plugin of the list in order, the previous plugin's result passed as `prevResult`; the last
 * result is the attachment's. DEL runs them in reverse with the cached ADD result as `prevResult` and keeps
 * going after a failure (a runtime must still release what it can), reporting the first error. Each plugin is
 * found by its `type` in CNI_PATH, exec'd with a clean environment (a runtime does not pass its own), the
 * config on stdin; a non-zero exit's stdout is the spec's error JSON.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PodnetError } from '../common/errors.ts';
import { requireTool } from '../common/systemTools.ts';

export interface CniAttachment {
  containerId: string;
  netns: string;
  ifname: string;
  /** K8S_POD_* and the like, sent as CNI_ARGS `K=V;...` after IgnoreUnknown=1. */
  args: Record<string, string>;
}

export interface CniNetwork {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

/** The CNI result fields the kubelet reads (the rest is kept as-is for prevResult). */
export interface CniResult {
  cniVersion?: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  [k: string]: unknown;
}

export class CniPluginError extends PodnetError {
  readonly cniCode: number | undefined;
  constructor(plugin: string, command: string, why: string, cniCode?: number) {
    super('PODNET_LAB_CNI', `CNI ${command} with plugin ${plugin}: ${why}`);
    this.cniCode = cniCode;
  }
}

export function loadConflist(file: string): CniNetwork {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PodnetError('PODNET_LAB_CNI', `${file}: cannot read the CNI conflist (${(err as Error).message})`);
  }
  const n = raw as Partial<CniNetwork>;
  if (typeof n.name !== 'string' || typeof n.cniVersion !== 'string' || !Array.isArray(n.plugins) ||
      n.plugins.some((p) => typeof p?.type !== 'string')) {
    throw new PodnetError('PODNET_LAB_CNI', `${file}: not a CNI conflist (needs cniVersion, name, plugins[].type)`);
  }
  return n as CniNetwork;
}

function findPlugin(type: string, cniPath: string): string {
  for (const dir of cniPath.split(':').filter(Boolean)) {
    const p = join(dir, type);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next dir */ }
  }
  throw new CniPluginError(type, 'lookup', `no executable "${type}" in CNI_PATH ${cniPath}`);
}

interface ExecResult { code: number; stdout: string; stderr: string }

function execPlugin(argv: string[], env: NodeJS.ProcessEnv, stdin: string, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.once('error', reject);
    child.once('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

export interface CniRunnerOptions {
  cniPath: string;
  /** Prefix for every plugin exec, e.g. `['ip', 'netns', 'exec', NODE_NS]` to run plugins in a node's namespace. */
  wrap?: string[];
  timeoutMs?: number;
}

export class CniRunner {
  readonly #cniPath: string;
  readonly #wrap: string[];
  readonly #timeoutMs: number;

  constructor(opts: CniRunnerOptions) {
    this.#cniPath = opts.cniPath;
    const [tool, ...rest] = opts.wrap ?? [];
    this.#wrap = tool ? [tool.startsWith('/') ? tool : requireTool(tool, tool), ...rest] : [];
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
  }

  async #invoke(net: CniNetwork, plugin: CniNetwork['plugins'][number], command: 'ADD' | 'DEL' | 'CHECK',
    a: CniAttachment, prevResult: CniResult | undefined): Promise<CniResult | undefined> {
    const conf = { ...plugin, cniVersion: net.cniVersion, name: net.name, ...(prevResult ? { prevResult } : {}) };
    const cniArgs = ['IgnoreUnknown=1', ...Object.entries(a.args).map(([k, v]) => `${k}=${v}`)].join(';');
    const env: NodeJS.ProcessEnv = {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: a.containerId,
      CNI_NETNS: a.netns, CNI_IFNAME: a.ifname, CNI_PATH: this.#cniPath, CNI_ARGS: cniArgs,
    };
    const argv = [...this.#wrap, findPlugin(plugin.type, this.#cniPath)];
    const r = await execPlugin(argv, env, JSON.stringify(conf), this.#timeoutMs);
    if (r.code !== 0) {
      let msg = (r.stderr.trim() || `exit ${r.code}`).split('\n').slice(-3).join('; ');
      let code: number | undefined;
      try {
        const e = JSON.parse(r.stdout) as { code?: number; msg?: string; details?: string };
        code = e.code;
        msg = `${e.msg ?? 'error'}${e.details ? ` (${e.details})` : ''} [code ${e.code}]`;
      } catch { /* not the spec's JSON: keep stderr */ }
      throw new CniPluginError(plugin.type, command, msg, code);
    }
    if (command !== 'ADD') return undefined;
    try {
      return JSON.parse(r.stdout) as CniResult;
    } catch {
      throw new CniPluginError(plugin.type, command, `result is not JSON: ${r.stdout.slice(0, 200)}`);
    }
  }

  /** ADD through the whole list; the final result. */
  async add(net: CniNetwork, a: CniAttachment): Promise<CniResult> {
    let result: CniResult | undefined;
    for (const p of net.plugins) result = await this.#invoke(net, p, 'ADD', a, result);
    if (!result) throw new CniPluginError(net.name, 'ADD', 'the conflist has no plugins');
    return result;
  }

  /** DEL in reverse order; every plugin runs even if one fails, and the first failure is thrown at the end. */
  async del(net: CniNetwork, a: CniAttachment, cached: CniResult | undefined): Promise<void> {
    let first: unknown;
    for (const p of [...net.plugins].reverse()) {
      try {
        await this.#invoke(net, p, 'DEL', a, cached);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}

/** The pod's IPv4 and IPv6 addresses from a result (`10.244.1.5/32` → `10.244.1.5`), IPv4 first. */
export function podAddresses(r: CniResult): string[] {
  const ips = (r.ips ?? []).map((i) => i.address.split('/')[0]!).filter(Boolean);
  return [...ips.filter((i) => !i.includes(':')), ...ips.filter((i) => i.includes(':'))];
}
