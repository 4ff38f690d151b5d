/**
 * @module ipam/ipamPlugin — the IPAM verbs, callable in-process (by the podnet plugin, so no second Node process is
 * started per pod) and through the podnet-ipam executable (for the reference bridge/ptp and other delegators).
 *
 * DEL and GC need only the network name and the data directory, so they work even when the rest of the config no
 * longer compiles (say the node state file is gone): a DEL must release the address whatever else is wrong.
 */
import { CniCode, CniError } from '../cni/cniError.ts';
import type { CniArgs } from '../cni/cniArgs.ts';
import type { CniResult } from '../cni/cniTypes.ts';
import { formatIp } from '../common/ipAddress.ts';
import { allocateAll } from './ipAllocator.ts';
import { compileIpamConfig, type IpamConfig } from './ipamConfig.ts';
import { DEFAULT_DATA_DIR, DiskLeaseStore } from './diskLeaseStore.ts';
import { leaseMatches, type Lease, type LeaseOwner, type LeaseStore } from './leaseStore.ts';
import type { NodeState } from './nodeState.ts';
import { rangeFor, rangeSetSize, describeRangeSet } from './rangeSet.ts';
import { readResolvConf } from './resolvConf.ts';

export interface IpamRequest {
  config: Record<string, unknown>;
  containerId: string;
  ifname: string;
  cniArgs: CniArgs;
}

export interface IpamDeps {
  /** Default: host-local's disk layout under the config's dataDir. */
  storeFor?: (where: { network: string; dataDir: string; fsync: boolean }) => LeaseStore;
  readNodeState?: (path: string) => NodeState | null;
}

function storeOf(deps: IpamDeps, where: { network: string; dataDir: string; fsync: boolean }): LeaseStore {
  return deps.storeFor ? deps.storeFor(where) : new DiskLeaseStore(where.dataDir, where.network, { sync: where.fsync });
}

function compile(req: IpamRequest, deps: IpamDeps): IpamConfig {
  return compileIpamConfig({ config: req.config, cniArgs: req.cniArgs,
    ...(deps.readNodeState ? { readNodeState: deps.readNodeState } : {}) });
}

/** Network name and data directory only (see the module note). */
function locate(config: Record<string, unknown>): { network: string; dataDir: string; fsync: boolean } {
  const name = typeof config.name === 'string' ? config.name : '';
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw new CniError(CniCode.invalidConfig, `name: "${name}" is not a valid network name`);
  }
  const ipam = (config.ipam && typeof config.ipam === 'object' ? config.ipam : {}) as Record<string, unknown>;
  return { network: name, dataDir: typeof ipam.dataDir === 'string' ? ipam.dataDir : DEFAULT_DATA_DIR, fsync: ipam.fsync === true };
}

export async function ipamAdd(req: IpamRequest, deps: IpamDeps = {}): Promise<CniResult> {
  const cfg = compile(req, deps);
  const store = storeOf(deps, cfg);
  const owner: LeaseOwner = { containerId: req.containerId, ifname: req.ifname };
  const allocations = await store.withLock(() => allocateAll(store, cfg.rangeSets, owner, cfg.requestedIps));
  const result: CniResult = {
    ips: allocations.map((a) => ({ address: `${formatIp(a.ip)}/${a.range.subnet.prefixLen}`, gateway: formatIp(a.range.gateway) })),
    routes: cfg.routes,
  };
  if (cfg.resolvConf) {
    try {
      result.dns = readResolvConf(cfg.resolvConf);
    } catch (err) {
      await store.withLock(() => store.releaseByOwner(owner));
      throw new CniError(CniCode.invalidConfig, `ipam.resolvConf: reading ${cfg.resolvConf}: ${(err as Error).message}`);
    }
  }
  return result;
}

export async function ipamDel(req: IpamRequest, deps: IpamDeps = {}): Promise<Lease[]> {
  const store = storeOf(deps, locate(req.config));
  return store.withLock(() => store.releaseByOwner({ containerId: req.containerId, ifname: req.ifname }));
}

export async function ipamCheck(req: IpamRequest, deps: IpamDeps = {}): Promise<void> {
  const store = storeOf(deps, locate(req.config));
  const owner = { containerId: req.containerId, ifname: req.ifname };
  const held = (await store.list()).filter((l) => leaseMatches(l, owner));
  if (held.length === 0) {
    throw new CniError(CniCode.drift, `podnet-ipam: no address is leased to container ${req.containerId} ifname ${req.ifname}`);
  }
}

interface Attachment { containerID: string; ifname: string }

/** The still-valid attachments of a GC request; libcni sends both key names (containernetworking/cni#1101). */
export function validAttachments(config: Record<string, unknown>): Attachment[] {
  const raw = config['cni.dev/valid-attachments'] ?? config['cni.dev/attachments'] ?? [];
  if (!Array.isArray(raw)) throw new CniError(CniCode.invalidConfig, 'cni.dev/valid-attachments: must be a list');
  return raw.filter((a): a is Attachment => Boolean(a) && typeof a === 'object'
    && typeof (a as Attachment).containerID === 'string');
}

/** Release every lease of this network whose attachment is not in the valid list; returns what was released. */
export async function ipamGc(config: Record<string, unknown>, deps: IpamDeps = {}): Promise<Lease[]> {
  const valid = validAttachments(config);
  const store = storeOf(deps, locate(config));
  return store.withLock(async () => {
    // An attachment without ifname keeps every lease of its container.
    const stale = (await store.list()).filter((l) => !valid.some((a) => (typeof a.ifname === 'string'
      ? leaseMatches(l, { containerId: a.containerID, ifname: a.ifname }) : l.containerId === a.containerID)));
    for (const l of stale) await store.release(l.ip);
    return stale;
  });
}

/** STATUS: 50 when the config cannot serve an ADD now (no pod CIDR yet, a range set without a free address). */
export async function ipamStatus(req: IpamRequest, deps: IpamDeps = {}): Promise<void> {
  let cfg: IpamConfig;
  try {
    cfg = compile(req, deps);
  } catch (err) {
    throw new CniError(CniCode.statusNotAvailable, (err as Error).message);
  }
  const leases = await storeOf(deps, cfg).list();
  cfg.rangeSets.forEach((set, i) => {
    const used = leases.filter((l) => rangeFor(set, l.ip)).length;
    if (BigInt(used) >= rangeSetSize(set)) {
      throw new CniError(CniCode.statusNotAvailable,
        `range set ${i} (${describeRangeSet(set)}) is exhausted: ${used} addresses leased`);
    }
  });
}
