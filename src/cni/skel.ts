/**
 * @module cni/skel — run a plugin for one invocation (libcni's pkg/skel): dispatch on CNI_COMMAND, print the result
 * in the requested version's shape or the error JSON on stdout, and return the exit code. The process edges
 * (reading stdin, writing stdout, exiting) are parameters so tests run plugins in-process.
 */
import { CniCode, CniError, toErrorJson } from './cniError.ts';
import { decodeConfig, parseRequest, readCommand, type CniRequest } from './cniRequest.ts';
import { CURRENT_VERSION, resultForVersion, SUPPORTED_VERSIONS, type CniResult } from './cniTypes.ts';

export interface CniPlugin {
  add(req: CniRequest): Promise<CniResult>;
  del(req: CniRequest): Promise<void>;
  check(req: CniRequest): Promise<void>;
  status(req: CniRequest): Promise<void>;
  gc(req: CniRequest): Promise<void>;
}

export interface CniIo {
  env: Record<string, string | undefined>;
  stdin: Uint8Array;
  writeStdout(text: string): void;
}

function versionAnswer(stdin: Uint8Array): string {
  let asked: unknown = CURRENT_VERSION;
  try {
    asked = decodeConfig(stdin).cniVersion ?? CURRENT_VERSION;
  } catch {
    /* VERSION with no or bad stdin: answer with our version, as libcni's skel does */
  }
  return JSON.stringify({ cniVersion: typeof asked === 'string' ? asked : CURRENT_VERSION, supportedVersions: SUPPORTED_VERSIONS });
}

/** The version to print errors in: the config's, when it is readable and supported, else ours. */
function errorVersion(stdin: Uint8Array): string {
  try {
    const v = decodeConfig(stdin).cniVersion;
    return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v) ? v : CURRENT_VERSION;
  } catch {
    return CURRENT_VERSION;
  }
}

export async function runPlugin(plugin: CniPlugin, io: CniIo): Promise<number> {
  try {
    if (readCommand(io.env) === 'VERSION') {
      io.writeStdout(`${versionAnswer(io.stdin)}\n`);
      return 0;
    }
    const req = parseRequest(io.env, io.stdin);
    switch (req.command) {
      case 'ADD': {
        const result = await plugin.add(req);
        io.writeStdout(`${JSON.stringify(resultForVersion(result, req.version))}\n`);
        return 0;
      }
      case 'DEL': await plugin.del(req); return 0;
      case 'CHECK': await plugin.check(req); return 0;
      case 'STATUS': await plugin.status(req); return 0;
      case 'GC': await plugin.gc(req); return 0;
      default: throw new CniError(CniCode.invalidEnv, `unknown CNI_COMMAND: ${String(req.command)}`);
    }
  } catch (err) {
    io.writeStdout(`${JSON.stringify(toErrorJson(err, errorVersion(io.stdin)))}\n`);
    return 1;
  }
}
