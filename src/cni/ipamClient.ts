/**
 * @module cni/ipamClient — how the podnet plugin reaches its IPAM: `podnet-ipam` in-process (the common path: no
 * second Node process per pod, ~0 ms instead of a whole Node start), any other `ipam.type` by exec through
 * CNI_PATH exactly as libcni delegates: the same environment with CNI_COMMAND set, the complete config on stdin,
 * the result or error JSON on stdout, stderr passed through.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CniCode, CniError } from './cniError.ts';
import type { CniCommand, CniRequest } from './cniRequest.ts';
import { parseResult, type CniResult } from './cniTypes.ts';
import { formatIp as fmtIp } from '../common/ipAddress.ts';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus, type IpamDeps } from '../ipam/ipamPlugin.ts';

export interface IpamClient {
  add(req: CniRequest): Promise<CniResult>;
  del(req: CniRequest): Promise<void>;
  check(req: CniRequest): Promise<void>;
  gc(req: CniRequest): Promise<void>;
  status(req: CniRequest): Promise<void>;
  /** Addresses released by the last del/gc when known (in-process only): lets the caller drop masquerade entries. */
  readonly released: string[];
}

export const IN_PROCESS_IPAM = 'podnet-ipam';

export function inProcessIpam(deps: IpamDeps = {}): IpamClient {
  const released: string[] = [];
  const r = (req: CniRequest) => ({ config: req.config, containerId: req.containerId, ifname: req.ifname, cniArgs: req.cniArgs });
  const note = (leases: Array<{ ip: { family: 4 | 6; value: bigint } }>, fmt: (ip: { family: 4 | 6; value: bigint }) => string) => {
    released.length = 0;
    released.push(...leases.map((l) => fmt(l.ip)));
  };
  return {
    released,
    add: (req) => ipamAdd(r(req), deps),
    del: async (req) => { note(await ipamDel(r(req), deps), fmtIp); },
    check: (req) => ipamCheck(r(req), deps),
    gc: async (req) => { note(await ipamGc(req.config, deps), fmtIp); },
    status: (req) => ipamStatus(r(req), deps),
  };
}

/** Find a plugin binary in CNI_PATH. */
export function findPlugin(type: string, path: string[]): string {
  if (path.length === 0) throw new CniError(CniCode.invalidEnv, `CNI_PATH is empty: cannot find the IPAM plugin "${type}"`);
  for (const dir of path) {
    const candidate = join(dir, type);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next directory */
    }
  }
  throw new CniError(CniCode.delegateFailure, `failed to find plugin "${type}" in path [${path.join(' ')}]`);
}

function execDelegate(binary: string, command: CniCommand, req: CniRequest): Promise<string> {
  const env = { ...req.env, CNI_COMMAND: command } as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = execFile(binary, [], { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (stderr) process.stderr.write(stderr);
        if (!err) { resolve(stdout); return; }
        let parsed: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
        try {
          parsed = JSON.parse(stdout) as typeof parsed;
        } catch {
          /* not a CNI error: fall back to stderr text, as libcni does */
        }
        if (parsed && typeof parsed.code === 'number') {
          reject(new CniError(parsed.code, String(parsed.msg ?? ''), typeof parsed.details === 'string' ? parsed.details : undefined));
        } else {
          reject(new CniError(CniCode.delegateFailure, `${binary} ${command}: ${(stderr || err.message).trim()}`));
        }
      });
    child.stdin?.on('error', () => undefined); // EPIPE when the delegate exits early: its status tells the story
    child.stdin?.end(Buffer.from(req.stdin));
  });
}

export function execIpam(type: string): IpamClient {
  const run = (command: CniCommand, req: CniRequest) => execDelegate(findPlugin(type, req.path), command, req);
  return {
    released: [],
    add: async (req) => parseResult(JSON.parse(await run('ADD', req)), `${type} result`),
    del: async (req) => { await run('DEL', req); },
    check: async (req) => { await run('CHECK', req); },
    gc: async (req) => { await run('GC', req); },
    status: async (req) => { await run('STATUS', req); },
  };
}
