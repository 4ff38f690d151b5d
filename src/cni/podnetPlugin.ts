/**
 * @module cni/podnetPlugin — the podnet CNI plugin: the verbs wired to their dependencies. `podnetPlugin()` with no
 * arguments is what the executable runs; tests pass their own dataplane (another host namespace) or hooks.
 */
import { add } from './add.ts';
import { check } from './check.ts';
import { del } from './del.ts';
import { gc, status } from './gcStatus.ts';
import { execIpam, inProcessIpam, IN_PROCESS_IPAM } from './ipamClient.ts';
import { IprouteDataplane } from './iprouteDataplane.ts';
import type { PodnetDeps } from './podnetDeps.ts';
import type { CniPlugin } from './skel.ts';
import { readNodeState } from '../ipam/nodeState.ts';
import type { IpamDeps } from '../ipam/ipamPlugin.ts';

export function defaultDeps(overrides: Partial<PodnetDeps> & { ipamDeps?: IpamDeps } = {}): PodnetDeps {
  const { ipamDeps, ...rest } = overrides;
  return {
    // A one-shot process (the runtime exec'd us) uses iproute2: the netlink path's first call costs ~20 ms of cold
    // code in a fresh process, more than the two execs it saves. The warm hand-off server uses NetlinkDataplane.
    dataplane: new IprouteDataplane(),
    ipamFor: (type) => (type === IN_PROCESS_IPAM ? inProcessIpam(ipamDeps) : execIpam(type)),
    readNodeState,
    ...rest,
  };
}

export function podnetPlugin(deps: PodnetDeps = defaultDeps()): CniPlugin {
  return {
    add: (req) => add(req, deps),
    del: (req) => del(req, deps),
    check: (req) => check(req, deps),
    gc: (req) => gc(req, deps),
    status: (req) => status(req, deps),
  };
}
