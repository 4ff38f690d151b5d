/**
 * @module cni/cniRequest — the execution protocol's input: CNI_* variables and the JSON config on stdin, validated
 * per verb as the spec (and libcni's skel) require. Pure: the environment and stdin bytes are parameters.
 */
import { CniCode, CniError } from './cniError.ts';
import { parseCniArgs, type CniArgs } from './cniArgs.ts';
import { compareVersions, isSupportedVersion, SUPPORTED_VERSIONS, type CniVersion } from './cniTypes.ts';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export interface CniRequest {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  cniArgs: CniArgs;
  /** Directories to search for delegated plugins. */
  path: string[];
  version: CniVersion;
  config: Record<string, unknown>;
  /** stdin as received: delegates get exactly these bytes (libcni passes the same config down). */
  stdin: Uint8Array;
  /** The environment, forwarded to delegates. */
  env: Record<string, string | undefined>;
}

const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  VERSION: [],
  STATUS: [],
  GC: [],
};

/** The lowest config version at which a verb exists (skel refuses older ones with code 1). */
const MIN_VERSION: Partial<Record<CniCommand, string>> = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' };

const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function readCommand(env: Record<string, string | undefined>): CniCommand {
  const cmd = env.CNI_COMMAND;
  if (!cmd) throw new CniError(CniCode.invalidEnv, 'required env variables [CNI_COMMAND] missing');
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    throw new CniError(CniCode.invalidEnv, `unknown CNI_COMMAND: ${cmd}`, `supported: ${COMMANDS.join(', ')}`);
  }
  return cmd as CniCommand;
}

function validateIfname(name: string): void {
  const bad = name.length > 15 ? 'is longer than 15 characters'
    : name === '.' || name === '..' ? 'is not a valid interface name'
      : /[/:\s]/.test(name) ? 'contains "/", ":" or whitespace' : '';
  if (bad) throw new CniError(CniCode.invalidEnv, `CNI_IFNAME "${name}" ${bad}`);
}

export function decodeConfig(stdin: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(stdin).toString('utf8'));
  } catch (err) {
    throw new CniError(CniCode.decodeFailure, `decoding network configuration from stdin: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CniError(CniCode.decodeFailure, 'decoding network configuration from stdin: not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The config's cniVersion, checked against what we implement and what the verb needs. */
export function negotiateVersion(config: Record<string, unknown>, command: CniCommand): CniVersion {
  const v = config.cniVersion === undefined ? '0.1.0' : config.cniVersion;
  if (typeof v !== 'string' || !/^\d+\.\d+\.\d+$/.test(v)) {
    throw new CniError(CniCode.decodeFailure, `cniVersion ${JSON.stringify(v)} is not a version string`);
  }
  if (!isSupportedVersion(v)) {
    throw new CniError(CniCode.incompatibleVersion, `incompatible CNI versions`,
      `config is "${v}", plugin supports [${SUPPORTED_VERSIONS.map((s) => `"${s}"`).join(' ')}]`);
  }
  const min = MIN_VERSION[command];
  if (min && compareVersions(v, min) < 0) {
    throw new CniError(CniCode.incompatibleVersion, `config version "${v}" does not allow command ${command}`,
      `${command} needs cniVersion ${min} or later`);
  }
  return v;
}

/** Build a request for a verb other than VERSION. */
export function parseRequest(env: Record<string, string | undefined>, stdin: Uint8Array): CniRequest {
  const command = readCommand(env);
  const missing = REQUIRED[command].filter((k) => !env[k]);
  if (missing.length > 0) throw new CniError(CniCode.invalidEnv, `required env variables [${missing.join(',')}] missing`);
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId && !ID_PATTERN.test(containerId)) {
    throw new CniError(CniCode.invalidEnv, `CNI_CONTAINERID "${containerId}" must match ${ID_PATTERN.source}`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname) validateIfname(ifname);
  const cniArgs = parseCniArgs(env.CNI_ARGS ?? '');
  const config = decodeConfig(stdin);
  const version = negotiateVersion(config, command);
  return {
    command, containerId, netns: env.CNI_NETNS ?? '', ifname, cniArgs, version, config, stdin, env,
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}
