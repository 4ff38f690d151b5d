/**
 * @module ipam/ipamCniPlugin — podnet-ipam as a CNI plugin (what the podnet-ipam executable runs): the IPAM verbs
 * behind the skel, returning host-local's abbreviated result (ips with gateway, routes, dns; no interfaces).
 */
import type { CniPlugin } from '../cni/skel.ts';
import type { CniRequest } from '../cni/cniRequest.ts';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus, type IpamDeps, type IpamRequest } from './ipamPlugin.ts';

function ipamRequest(req: CniRequest): IpamRequest {
  return { config: req.config, containerId: req.containerId, ifname: req.ifname, cniArgs: req.cniArgs };
}

export function ipamCniPlugin(deps: IpamDeps = {}): CniPlugin {
  return {
    add: (req) => ipamAdd(ipamRequest(req), deps),
    del: async (req) => { await ipamDel(ipamRequest(req), deps); },
    check: (req) => ipamCheck(ipamRequest(req), deps),
    status: (req) => ipamStatus(ipamRequest(req), deps),
    gc: async (req) => { await ipamGc(req.config, deps); },
  };
}
