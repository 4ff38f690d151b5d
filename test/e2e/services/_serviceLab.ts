/**
 * One 3-node lab shared by all tests of a file (created in `before`, removed in `after.always`), with helpers the
 * Service e2e tests share: restart a node's podnetd with an edited agent config (mode switch, nodePortAddresses),
 * kill -9 it, wait for its proxy to be healthy, curl / socat from any lab namespace, stream TCP and UDP.
 *
 * ava runs a hook's `t.teardown` when the hook ends, so the lab is not made with labFixture's `startCluster`
 * (which would destroy it right after `before`); `destroyServiceLab` is the teardown, also after failures.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, podnetdCommand, type Lab } from '../../../src/lab/lab.ts';
import type { LabIpFamily, LabProxyMode } from '../../../src/lab/addressPlan.ts';
import { agentProcess, startControlPlane } from '../../../src/lab/labControlPlane.ts';
import { nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { Store } from '../../../src/store/store.ts';
import { findTool, requireTool } from '../../../src/common/systemTools.ts';
import { uniqueLabName } from '../../helpers/labFixture.ts';
import { waitFor as waitForState } from '../../helpers/waitFor.ts';

/**
 * Absolute path of a system tool: run under npx, PATH starts with node_modules/.bin, whose `nft` is an unrelated
 * npm package (a bare `nft` in lab.exec would run that and "succeed").
 */
export const tool = (name: 'nft' | 'iptables' | 'iptables-save' | 'ip6tables-save' | 'ipset') =>
  requireTool(name, name === 'nft' ? 'nftables' : name === 'ipset' ? 'ipset' : 'iptables');

export interface ServiceLab {
  lab: Lab;
  store: Store;
  root: string;
}

/** Lab waits poll slowly: each probe execs a command in a namespace. */
export const waitFor = <T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000) =>
  waitForState(what, probe, timeoutMs, 200);

export async function createServiceLab(proxyMode: LabProxyMode, ipFamily: LabIpFamily = 'ipv4'): Promise<ServiceLab> {
  const root = mkdtempSync(join(tmpdir(), 'podnet-lab-'));
  const lab = await createLab({ name: uniqueLabName('sv'), stateRoot: root, nodes: 3, routing: 'vxlan', proxyMode, ipFamily });
  try {
    const cp = await startControlPlane(lab, { logLevel: 'warn' });
    return { lab, store: await openStore(cp.hostStore), root };
  } catch (err) {
    await lab.destroy().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

export async function destroyServiceLab(s: ServiceLab | undefined): Promise<void> {
  if (!s) return;
  await s.store.close().catch(() => undefined);
  await s.lab.destroy();
  rmSync(s.root, { recursive: true, force: true });
}

export interface CurlResult { code: number; body: string; err: string }

export async function curl(lab: Lab, from: string, url: string, extra: string[] = []): Promise<CurlResult> {
  const r = await lab.exec(from, ['curl', '-sS', '--max-time', '2', ...extra, url], { allowFailure: true });
  return { code: r.code, body: r.stdout.trim(), err: r.stderr.trim() };
}

/**
 * Assert that `url` from `from` is refused at once ("Connection refused": a REJECT's ICMP port unreachable or a
 * RST), not a timeout and not "no route to host". curl 7.88 says only "Couldn't connect to server" for all of
 * them; its verbose line names the errno.
 */
export async function assertRefused(t: ExecutionContext, lab: Lab, from: string, url: string, what: string): Promise<void> {
  const r = await lab.exec(from, ['curl', '-sS', '-v', '--max-time', '2', url], { allowFailure: true });
  const why = r.stderr.split('\n').filter((l) => /connect to|Failed|timed out/i.test(l)).join(' | ');
  t.true(r.code === 7 && /failed: Connection refused/.test(r.stderr), `${what} (curl ${r.code}: ${why})`);
}

/** `n` requests from inside `from` in one exec (one shell loop): the bodies, failures as `curl:<exit code>`. */
export async function curlMany(lab: Lab, from: string, url: string, n: number, extra: string[] = []): Promise<string[]> {
  const script = 'n=$1; shift; for i in $(seq "$n"); do out=$(curl -sS --max-time 2 "$@" 2>/dev/null); c=$?; ' +
    'if [ $c -eq 0 ]; then echo "$out"; else echo "curl:$c"; fi; done';
  const r = await lab.exec(from, ['sh', '-c', script, 'sh', String(n), ...extra, url], { allowFailure: true });
  return r.stdout.split('\n').filter(Boolean);
}

export const distinct = (xs: readonly string[]) => [...new Set(xs)].sort();

/** One UDP or TCP line exchange through socat; the answer, or '' when none came. */
export async function socatOnce(lab: Lab, from: string, target: string, msg = 'hello'): Promise<string> {
  const r = await lab.exec(from, ['socat', '-T2', '-', target], { input: `${msg}\n`, allowFailure: true, timeoutMs: 10_000 });
  return r.stdout.trim();
}

export async function proxyHealthy(lab: Lab, node: string): Promise<boolean> {
  return (await lab.exec(node, ['curl', '-sf', '--max-time', '1', 'http://127.0.0.1:10256/healthz'], { allowFailure: true })).code === 0;
}

/** Start (again) a node's `podnetd agent` with the argv the control plane used, and wait for its proxy. */
export async function startAgent(lab: Lab, node: string, argv: string[], cwd: string): Promise<void> {
  await lab.spawn(node, agentProcess(node), argv, { cwd });
  await waitFor(`podnetd proxy on ${node} healthy`, () => proxyHealthy(lab, node), 60_000);
}

function agentRecord(lab: Lab, node: string) {
  const rec = lab.processes().find((p) => p.name === agentProcess(node));
  if (!rec) throw new Error(`no podnetd process recorded for ${node}`);
  return rec;
}

/** Edit a node's agent config's `proxy` section, stop its podnetd (SIGTERM) and start it again. */
export async function restartAgent(lab: Lab, node: string, editProxy: (proxy: Record<string, unknown>) => void): Promise<void> {
  const rec = agentRecord(lab, node);
  const file = nodeFiles(lab.paths, node).agentConfig;
  const config = JSON.parse(readFileSync(file, 'utf8')) as { proxy: Record<string, unknown> };
  editProxy(config.proxy);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  await lab.stop(agentProcess(node));
  await startAgent(lab, node, rec.argv, podnetdCommand().cwd);
}

/** kill -9 a node's podnetd (our own process, by its recorded PID) and start it again. */
export async function killAndRestartAgent(lab: Lab, node: string): Promise<void> {
  const rec = agentRecord(lab, node);
  process.kill(rec.pid, 'SIGKILL');
  await waitFor(`podnetd on ${node} gone`, async () => (await lab.exec(node, ['sh', '-c', `kill -0 ${rec.pid} 2>/dev/null || echo gone`])).stdout.includes('gone'));
  await startAgent(lab, node, rec.argv, podnetdCommand().cwd);
}

/**
 * A long-lived socat client in a lab namespace: lines written with `send`, everything received collected in
 * `received`. TCP: one connection; UDP: one socket (one source port, so one conntrack entry).
 */
export class LineStream {
  readonly #child: ChildProcess;
  received = '';
  exited: number | null = null;
  stderr = '';

  constructor(ns: string, target: string) {
    this.#child = spawn('ip', ['netns', 'exec', ns, findTool('socat')!, '-T60', '-', target], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout!.on('data', (b: Buffer) => { this.received += b.toString(); });
    this.#child.stderr!.on('data', (b: Buffer) => { this.stderr += b.toString(); });
    this.#child.on('exit', (code) => { this.exited = code ?? -1; });
    this.#child.stdin!.on('error', () => undefined);
  }

  send(line: string): void {
    if (this.exited === null) this.#child.stdin!.write(`${line}\n`);
  }

  /** Answers naming a pod (the lab server replies with its pod name), in order. */
  answers(pattern: RegExp): string[] {
    return this.received.match(pattern) ?? [];
  }

  stop(): void {
    if (this.exited === null) this.#child.kill('SIGKILL');
  }
}

/** Send a line every `everyMs` until stopped (bounded by `maxLines`). */
export function pump(stream: LineStream, everyMs: number, maxLines: number): { stop: () => number } {
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= maxLines) return;
    stream.send('x');
    sent++;
  }, everyMs);
  return { stop: () => { clearInterval(timer); return sent; } };
}
