/**
 * @module common/systemTools — run the system's own tools (nft, ip, iptables-restore, conntrack ...).
 *
 * Always by absolute path: under `npm run` or `npx`, node_modules/.bin comes first in PATH and ava's dependency
 * @vercel/nft installs a `nft` there that is not netfilter's.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const SEARCH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const found = new Map<string, string | null>();

/** Absolute path of a system tool, or null when it is not installed. */
export function findTool(name: string): string | null {
  if (found.has(name)) return found.get(name) ?? null;
  let path: string | null = null;
  for (const dir of SEARCH) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      path = `${dir}/${name}`;
      break;
    } catch {
      /* keep looking */
    }
  }
  found.set(name, path);
  return path;
}

export function requireTool(name: string, debianPackage: string): string {
  const p = findTool(name);
  if (!p) throw new Error(`${name} is not installed (Debian package ${debianPackage})`);
  return p;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string | Uint8Array;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Do not throw on a non-zero exit; return the code instead. */
  allowFailure?: boolean;
}

/** Run a system tool by name (resolved to an absolute path) or by absolute path. */
export function runTool(tool: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const path = tool.startsWith('/') ? tool : findTool(tool);
  if (!path) return Promise.reject(new Error(`${tool} is not installed`));
  return new Promise((resolve, reject) => {
    const child = execFile(path, args, {
      timeout: opts.timeoutMs ?? 60_000,
      maxBuffer: 256 * 1024 * 1024,
      env: opts.env ?? process.env,
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      if (err && !opts.allowFailure) {
        const msg = (stderr || err.message).trim().split('\n').slice(0, 5).join('; ');
        reject(new Error(`${tool} ${args.slice(0, 6).join(' ')}: ${msg}`));
        return;
      }
      resolve({ stdout, stderr, code });
    });
    // A tool that exits before reading its input (nsenter failing to open a namespace) makes this write fail with
    // EPIPE; its exit status already reports the failure, so the write error must not crash the caller.
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Start a long-running tool; the caller owns the process. */
export function spawnTool(tool: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
  const path = tool.startsWith('/') ? tool : findTool(tool);
  if (!path) throw new Error(`${tool} is not installed`);
  return spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
}
