/**
 * @module cni/netConf — the podnet plugin's network configuration, compiled and validated before anything is
 * touched. Unknown top-level keys pass (runtimes add their own); bad values of known keys are code 2 (a value we do
 * not support, naming key and value) or 7 (malformed).
 *
 *   { "cniVersion": "1.1.0", "name": "podnet", "type": "podnet",
 *     "mode": "routed" | "bridge",          default routed
 *     "mtu": 1450,                          default: node state mtu, else the uplink's minus 50 (VXLAN overhead)
 *     "ipMasq": true, "clusterCIDRs": [..], masquerade pod traffic leaving these (default: node state, else pod subnets)
 *     "bridge": "podnet0", "hairpinMode": true,   bridge mode only
 *     "sysctls": { "net.ipv4.conf.IFNAME.arp_notify": "1" },   set inside the pod; IFNAME = CNI_IFNAME
 *     "nodeStateFile": "/run/podnet/node.json",
 *     "capabilities": { "ips": true, "mac": true, "bandwidth": true, "portMappings": true },
 *     "ipam": { "type": "podnet-ipam", ... } }
 */
import { CniCode, CniError } from './cniError.ts';
import { parseResult, type CniResult } from './cniTypes.ts';
import { DEFAULT_NODE_STATE_FILE } from '../ipam/nodeState.ts';
import { tryParsePrefix } from '../common/ipPrefix.ts';

export type WiringMode = 'routed' | 'bridge';

export interface PodnetConf {
  name: string;
  mode: WiringMode;
  mtu?: number;
  ipMasq: boolean;
  clusterCIDRs: string[];
  bridge: string;
  hairpinMode: boolean;
  sysctls: Record<string, string>;
  nodeStateFile: string;
  ipamType: string;
  /** runtimeConfig.mac, args.cni.mac (the conventions' places for a requested MAC). */
  mac?: string;
  prevResult?: CniResult;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const IFNAME = /^[^/:\s]{1,15}$/;

function field<T>(o: Obj, key: string, check: (v: unknown) => v is T, want: string, problems: string[]): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) {
    problems.push(`${key}: must be ${want}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isMtu = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 576 && v <= 65535;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isStringMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every(isString);

function requestedMac(config: Obj, problems: string[]): string | undefined {
  const rc = isObj(config.runtimeConfig) ? config.runtimeConfig : {};
  const argsCni = isObj(config.args) && isObj(config.args.cni) ? config.args.cni : {};
  const mac = rc.mac ?? argsCni.mac;
  if (mac === undefined) return undefined;
  if (typeof mac !== 'string' || !MAC.test(mac)) {
    problems.push(`runtimeConfig.mac: must be a MAC address like 02:42:0a:00:00:05, got ${JSON.stringify(mac)}`);
    return undefined;
  }
  return mac.toLowerCase();
}

export function compileNetConf(config: Obj): PodnetConf {
  const problems: string[] = [];
  const mode = field(config, 'mode', isString, 'a string', problems) ?? 'routed';
  if (mode !== 'routed' && mode !== 'bridge') {
    throw new CniError(CniCode.unsupportedField, `unsupported field mode="${mode}": podnet supports "routed" and "bridge"`);
  }
  const ipam = isObj(config.ipam) ? config.ipam : undefined;
  if (!ipam || typeof ipam.type !== 'string' || ipam.type === '') problems.push('ipam.type: is required (e.g. "podnet-ipam")');
  else if (ipam.type.includes('/')) problems.push(`ipam.type: "${ipam.type}" must be a plugin name, not a path`);
  const clusterCIDRs = field(config, 'clusterCIDRs', isStrings, 'a list of CIDRs', problems) ?? [];
  for (const c of clusterCIDRs) if (!tryParsePrefix(c, { hostBits: 'keep' })) problems.push(`clusterCIDRs: "${c}" is not a CIDR`);
  const bridge = field(config, 'bridge', isString, 'an interface name', problems) ?? 'podnet0';
  if (!IFNAME.test(bridge)) problems.push(`bridge: "${bridge}" is not a valid interface name`);
  const sysctls = field(config, 'sysctls', isStringMap, 'a map of sysctl name to string value', problems) ?? {};
  for (const k of Object.keys(sysctls)) {
    if (!/^net\.[a-zA-Z0-9_.\-/]+$/.test(k) || k.includes('..')) {
      problems.push(`sysctls: "${k}" is not a per-namespace net.* sysctl`);
    }
  }
  const mac = requestedMac(config, problems);
  let prevResult: CniResult | undefined;
  if (config.prevResult !== undefined && config.prevResult !== null) prevResult = parseResult(config.prevResult);
  const conf: PodnetConf = {
    name: typeof config.name === 'string' ? config.name : '',
    mode,
    ipMasq: field(config, 'ipMasq', isBool, 'true or false', problems) ?? false,
    clusterCIDRs,
    bridge,
    hairpinMode: field(config, 'hairpinMode', isBool, 'true or false', problems) ?? false,
    sysctls,
    nodeStateFile: field(config, 'nodeStateFile', isString, 'a path', problems) ?? DEFAULT_NODE_STATE_FILE,
    ipamType: typeof ipam?.type === 'string' ? ipam.type : '',
    ...(mac ? { mac } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
  const mtu = field(config, 'mtu', isMtu, 'an integer between 576 and 65535', problems);
  if (mtu !== undefined) conf.mtu = mtu;
  if (problems.length > 0) throw new CniError(CniCode.invalidConfig, `invalid network configuration: ${problems.join('; ')}`);
  return conf;
}
