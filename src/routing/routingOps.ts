/**
 * @module routing/routingOps — carry out one diff against the kernel: phase by phase, every operation of a phase
 * sent together (the netlink socket packs them into as few sendmsg calls as fit), the next phase only once the
 * kernel has answered all of the previous one. Deleting what is already gone counts as done.
 */
import { describeError } from '../common/errors.ts';
import { isKernelError, type Rtnetlink } from '../netlink/index.ts';
import type { DesiredLink } from './routingModel.ts';
import { ROUTING_ROUTE_PROTO } from './routingModel.ts';
import type { RoutingOp, RoutingPhases } from './routingDiff.ts';

export interface OpsResult {
  /** Index of the tunnel device after the run (undefined when there is none). */
  tunnelIndex: number | undefined;
  /** Whether the tunnel device was created in this run (its offload settings need applying). */
  created: boolean;
  errors: Error[];
  counts: Record<string, number>;
}

const GONE = ['ENOENT', 'ESRCH', 'ENODEV', 'EADDRNOTAVAIL'];

function createSpec(link: DesiredLink) {
  if (link.kind === 'vxlan') {
    return { kind: 'vxlan' as const, name: link.name, vni: link.vni, port: link.port, local: link.local, dev: link.uplinkIndex, learning: false, mtu: link.mtu, mac: link.mac, up: true };
  }
  return { kind: 'ipip' as const, name: link.name, local: link.local, dev: link.uplinkIndex, mtu: link.mtu, up: true };
}

/** One operation; `tunnel` is the tunnel device's index when the op needs it. */
function runOp(rtnl: Rtnetlink, op: RoutingOp, tunnel: number | undefined): Promise<unknown> {
  const dev = () => {
    if (tunnel === undefined) throw new Error(`${op.op}: podnet's tunnel device does not exist`);
    return tunnel;
  };
  switch (op.op) {
    case 'deleteRoute': return rtnl.routes.delete({ dst: op.route.dst, protocol: ROUTING_ROUTE_PROTO });
    case 'deleteLink': return rtnl.links.delete(op.index);
    case 'createLink': return rtnl.links.create(createSpec(op.link));
    case 'setLink': return rtnl.links.set(op.name, { mtu: op.mtu, up: op.up });
    case 'addAddress': return rtnl.addresses.replace({ dev: dev(), address: op.address, ...(op.address.includes(':') ? { flags: ['nodad' as const] } : {}) });
    case 'deleteAddress': return rtnl.addresses.delete({ dev: dev(), address: op.address });
    case 'replaceFdb': return rtnl.fdb.replace({ dev: dev(), lladdr: op.fdb.lladdr, dst: op.fdb.dst, self: true, state: 'permanent' });
    case 'deleteFdb': return rtnl.fdb.delete({ dev: dev(), lladdr: op.fdb.lladdr, dst: op.fdb.dst, self: true });
    case 'replaceNeighbour': return rtnl.neighbours.replace({ dev: dev(), address: op.neighbour.address, lladdr: op.neighbour.lladdr, state: 'permanent' });
    case 'deleteNeighbour': return rtnl.neighbours.delete({ dev: dev(), address: op.neighbour.address });
    case 'replaceRoute': {
      const r = op.route;
      return rtnl.routes.replace({ dst: r.dst, gateway: r.gateway, dev: r.dev === 'tunnel' ? dev() : r.dev, onlink: r.onlink, protocol: ROUTING_ROUTE_PROTO });
    }
  }
}

const isDelete = (op: RoutingOp) => op.op.startsWith('delete');

export async function runPhases(rtnl: Rtnetlink, phases: RoutingPhases, tunnelName: string | undefined, tunnelIndex: number | undefined): Promise<OpsResult> {
  const result: OpsResult = { tunnelIndex, created: false, errors: [], counts: {} };
  for (const phase of phases) {
    const settled = await Promise.allSettled(phase.map((op) => runOp(rtnl, op, result.tunnelIndex)));
    settled.forEach((s, i) => {
      const op = phase[i]!;
      result.counts[op.op] = (result.counts[op.op] ?? 0) + 1;
      if (s.status === 'rejected' && !(isDelete(op) && isKernelError(s.reason, ...GONE))) {
        result.errors.push(s.reason instanceof Error ? s.reason : new Error(describeError(s.reason)));
      }
    });
    if (phase.some((op) => op.op === 'createLink') && tunnelName) {
      const made = await rtnl.links.find(tunnelName);
      result.tunnelIndex = made?.index;
      result.created = made !== undefined;
    }
    // Without its device the later phases would only add errors: stop and let the retry start over.
    if (result.errors.length && phase.some((op) => op.op === 'createLink')) break;
  }
  return result;
}
