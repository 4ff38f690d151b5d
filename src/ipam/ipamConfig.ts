/**
 * @module ipam/ipamConfig — host-local's `ipam` section, compiled and validated before any lease is touched.
 *
 * Fields (host-local's): `ranges` ([[{subnet, rangeStart, rangeEnd, gateway}]]), the legacy top-level `subnet`,
 * `rangeStart`, `rangeEnd`, `gateway` (prepended as range set 0), `routes`, `dataDir`, `resolvConf`; runtimeConfig
 * `ipRanges` (prepended) and `ips`, `args.cni.ips`, CNI_ARGS `IP=` (requested addresses). Ours: `"subnet":
 * "usePodCidr"` / `"usePodCidrIPv6"` (the node's pod CIDR from the node state file, `nodeStateFile` to move it),
 * `fsync` (default false, see diskLeaseStore.ts). Unknown keys are ignored, as in host-local: the whole net config arrives here.
 */
import { CniCode, CniError } from '../cni/cniError.ts';
import type { CniArgs } from '../cni/cniArgs.ts';
import type { CniRoute } from '../cni/cniTypes.ts';
import { tryParseIp, type IpAddress } from '../common/ipAddress.ts';
import { tryParsePrefix } from '../common/ipPrefix.ts';
import { DEFAULT_DATA_DIR } from './diskLeaseStore.ts';
import { DEFAULT_NODE_STATE_FILE, readNodeState, type NodeState } from './nodeState.ts';
import { compileRange, validateRangeSets, type RangeInput, type RangeSet } from './rangeSet.ts';

export interface IpamConfig {
  network: string;
  rangeSets: RangeSet[];
  routes: CniRoute[];
  dataDir: string;
  fsync: boolean;
  resolvConf?: string;
  requestedIps: IpAddress[];
}

export interface IpamConfigInput {
  /** The whole network configuration from stdin. */
  config: Record<string, unknown>;
  cniArgs: CniArgs;
  /** Injected for tests; default reads the node state file named by the config. */
  readNodeState?: (path: string) => NodeState | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function optString(o: Obj, key: string, where: string, problems: string[]): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') problems.push(`${where}.${key}: must be a string`);
  return typeof v === 'string' ? v : undefined;
}

function rangeInput(o: unknown, where: string, problems: string[]): RangeInput | null {
  if (!isObj(o)) {
    problems.push(`${where}: must be an object with a subnet`);
    return null;
  }
  const subnet = optString(o, 'subnet', where, problems);
  if (!subnet) {
    problems.push(`${where}.subnet: is required`);
    return null;
  }
  return {
    subnet,
    rangeStart: optString(o, 'rangeStart', where, problems),
    rangeEnd: optString(o, 'rangeEnd', where, problems),
    gateway: optString(o, 'gateway', where, problems),
  };
}

class PodCidrSource {
  #state: NodeState | null | undefined;
  constructor(readonly path: string, readonly read: (p: string) => NodeState | null) {}
  resolve(keyword: string, where: string, problems: string[]): string | null {
    try {
      this.#state ??= this.read(this.path);
    } catch (err) {
      problems.push(`${where}.subnet: ${keyword}: ${(err as Error).message}`);
      return null;
    }
    const want = keyword === 'usePodCidrIPv6' ? 6 : 4;
    const found = this.#state?.podCIDRs.find((c) => tryParsePrefix(c, { hostBits: 'keep' })?.addr.family === want)
      ?? (keyword === 'usePodCidr' ? this.#state?.podCIDRs[0] : undefined);
    if (!found) problems.push(`${where}.subnet: ${keyword}: no IPv${want} pod CIDR in ${this.path} (is podnetd running?)`);
    return found ?? null;
  }
}

function compileSet(raw: unknown, where: string, problems: string[], podCidr: PodCidrSource): RangeSet {
  if (!Array.isArray(raw)) {
    problems.push(`${where}: must be a list of ranges`);
    return [];
  }
  const set = [];
  for (const [j, item] of raw.entries()) {
    const input = rangeInput(item, `${where}[${j}]`, problems);
    if (!input) continue;
    if (input.subnet === 'usePodCidr' || input.subnet === 'usePodCidrIPv6') {
      const cidr = podCidr.resolve(input.subnet, `${where}[${j}]`, problems);
      if (!cidr) continue;
      input.subnet = cidr;
    }
    const r = compileRange(input, `${where}[${j}]`, problems);
    if (r) set.push(r);
  }
  return set;
}

function compileRoutes(raw: unknown, problems: string[]): CniRoute[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push('ipam.routes: must be a list of {dst, gw}');
    return [];
  }
  return raw.flatMap((r, i) => {
    const where = `ipam.routes[${i}]`;
    if (!isObj(r) || typeof r.dst !== 'string' || !tryParsePrefix(r.dst, { hostBits: 'keep' })) {
      problems.push(`${where}.dst: must be a CIDR`);
      return [];
    }
    if (r.gw !== undefined && (typeof r.gw !== 'string' || !tryParseIp(r.gw))) {
      problems.push(`${where}.gw: must be an IP address`);
      return [];
    }
    return [{ dst: r.dst, ...(typeof r.gw === 'string' ? { gw: r.gw } : {}) }];
  });
}

/** The addresses asked for: runtimeConfig.ips, then args.cni.ips, else CNI_ARGS IP= (the convention's precedence). */
function requestedIps(config: Obj, cniArgs: CniArgs, problems: string[]): IpAddress[] {
  const rc = isObj(config.runtimeConfig) ? config.runtimeConfig : {};
  const argsCni = isObj(config.args) && isObj(config.args.cni) ? config.args.cni : {};
  const texts = [
    ...(Array.isArray(rc.ips) ? rc.ips : []),
    ...(Array.isArray(argsCni.ips) ? argsCni.ips : (cniArgs.ips ?? [])),
  ];
  return texts.flatMap((t) => {
    const text = typeof t === 'string' ? t.split('/')[0]! : '';
    const ip = tryParseIp(text);
    if (!ip) problems.push(`requested IP "${String(t)}" is not an IP address`);
    return ip ? [ip] : [];
  });
}

export function compileIpamConfig(input: IpamConfigInput): IpamConfig {
  const { config } = input;
  const problems: string[] = [];
  const name = typeof config.name === 'string' ? config.name : '';
  if (!NETWORK_NAME.test(name)) problems.push(`name: "${name}" must match ${NETWORK_NAME.source} (it names the lease directory)`);
  const ipam = isObj(config.ipam) ? config.ipam : {};
  const podCidr = new PodCidrSource(optString(ipam, 'nodeStateFile', 'ipam', problems) ?? DEFAULT_NODE_STATE_FILE,
    input.readNodeState ?? readNodeState);
  const rawSets: Array<[unknown, string]> = [];
  const rc = isObj(config.runtimeConfig) ? config.runtimeConfig : {};
  if (Array.isArray(rc.ipRanges)) rc.ipRanges.forEach((s, i) => rawSets.push([s, `runtimeConfig.ipRanges[${i}]`]));
  if (ipam.subnet !== undefined) rawSets.push([[ipam], 'ipam']);
  if (ipam.ranges !== undefined) {
    if (Array.isArray(ipam.ranges)) ipam.ranges.forEach((s, i) => rawSets.push([s, `ipam.ranges[${i}]`]));
    else problems.push('ipam.ranges: must be a list of range sets (lists of ranges)');
  }
  if (rawSets.length === 0) problems.push('ipam: no ranges: set ipam.ranges (e.g. [[{"subnet": "usePodCidr"}]])');
  const rangeSets = rawSets.map(([raw, where]) => compileSet(raw, where.endsWith('ipam') ? 'ipam' : where, problems, podCidr));
  if (rangeSets.every((s) => s.length > 0)) validateRangeSets(rangeSets, 'ipam.ranges', problems);
  const routes = compileRoutes(ipam.routes, problems);
  const requested = requestedIps(config, input.cniArgs, problems);
  const fsync = ipam.fsync === true;
  if (problems.length > 0) {
    throw new CniError(CniCode.invalidConfig, `invalid IPAM configuration: ${problems.join('; ')}`);
  }
  const resolvConf = optString(ipam, 'resolvConf', 'ipam', problems);
  return {
    network: name,
    rangeSets,
    routes,
    dataDir: optString(ipam, 'dataDir', 'ipam', problems) ?? DEFAULT_DATA_DIR,
    fsync,
    ...(resolvConf ? { resolvConf } : {}),
    requestedIps: requested,
  };
}
