/**
 * @module routing/routingDiff — pure: desired state vs what the kernel holds (only podnet's objects) → the
 * operations that close the gap, in phases. Operations within a phase are independent (the applier sends them
 * together); phases run in order so that a neighbour and an FDB entry always exist before the route that uses
 * them (the kernel then never has to resolve a VTEP address), and nothing is removed before its replacement
 * is in place. Whatever already matches is not touched: a restart adopts the kernel's state as it is.
 */
import type { DesiredFdb, DesiredLink, DesiredNeighbour, DesiredRoute, DesiredState } from './routingModel.ts';

/** A podnet device as read from the kernel. */
export interface KernelLink {
  name: string;
  index: number;
  kind: string | undefined;
  up: boolean;
  mtu: number | undefined;
  mac: string | undefined;
  vni?: number;
  port?: number;
  local?: string;
  uplinkIndex?: number;
  learning?: boolean;
}

export interface KernelRoute {
  dst: string;
  gateway: string | undefined;
  dev: number | undefined;
  onlink: boolean;
}

/** podnet's objects in one namespace: its devices, and the addresses/neighbours/FDB on the current tunnel device. */
export interface KernelState {
  links: KernelLink[];
  addresses: string[];
  neighbours: DesiredNeighbour[];
  fdb: DesiredFdb[];
  routes: KernelRoute[];
}

export type RoutingOp =
  | { op: 'deleteRoute'; route: KernelRoute }
  | { op: 'deleteLink'; name: string; index: number }
  | { op: 'createLink'; link: DesiredLink }
  | { op: 'setLink'; name: string; mtu?: number; up?: boolean }
  | { op: 'addAddress'; address: string }
  | { op: 'deleteAddress'; address: string }
  | { op: 'replaceFdb'; fdb: DesiredFdb }
  | { op: 'replaceNeighbour'; neighbour: DesiredNeighbour }
  | { op: 'replaceRoute'; route: DesiredRoute }
  | { op: 'deleteNeighbour'; neighbour: DesiredNeighbour }
  | { op: 'deleteFdb'; fdb: DesiredFdb };

export type RoutingPhases = RoutingOp[][];

/** Why an existing device cannot be adopted as is (it is then re-created), or undefined when it can. */
export function linkMismatch(want: DesiredLink, have: KernelLink): string | undefined {
  if (have.kind !== want.kind) return `kind ${have.kind ?? 'unknown'} instead of ${want.kind}`;
  if (have.local !== want.local) return `local address ${have.local ?? 'none'} instead of ${want.local}`;
  if (have.uplinkIndex !== want.uplinkIndex) return `bound to link #${have.uplinkIndex ?? 0} instead of #${want.uplinkIndex}`;
  if (want.kind === 'vxlan') {
    if (have.vni !== want.vni) return `VNI ${have.vni ?? 'none'} instead of ${want.vni}`;
    if (have.port !== want.port) return `port ${have.port ?? 'none'} instead of ${want.port}`;
    if (have.learning !== false) return 'address learning on';
    if (have.mac !== want.mac) return `MAC ${have.mac ?? 'none'} instead of the persisted ${want.mac}`;
  }
  return undefined;
}

interface LinkPlan { phaseDelete: RoutingOp[]; phaseCreate: RoutingOp[]; fresh: boolean; tunnelIndex: number | undefined }

function planLinks(desired: DesiredState, current: KernelState): LinkPlan {
  const out: LinkPlan = { phaseDelete: [], phaseCreate: [], fresh: false, tunnelIndex: undefined };
  const want = desired.link;
  for (const l of current.links) {
    if (l.name !== want?.name) out.phaseDelete.push({ op: 'deleteLink', name: l.name, index: l.index });
  }
  if (!want) return out;
  const have = current.links.find((l) => l.name === want.name);
  if (!have || linkMismatch(want, have)) {
    if (have) out.phaseDelete.push({ op: 'deleteLink', name: have.name, index: have.index });
    out.phaseCreate.push({ op: 'createLink', link: want });
    out.fresh = true;
    return out;
  }
  out.tunnelIndex = have.index;
  const change: { mtu?: number; up?: boolean } = {};
  if (have.mtu !== want.mtu) change.mtu = want.mtu;
  if (!have.up) change.up = true;
  if (Object.keys(change).length) out.phaseCreate.push({ op: 'setLink', name: want.name, ...change });
  return out;
}

function routeMatches(want: DesiredRoute, have: KernelRoute, tunnelIndex: number | undefined): boolean {
  const dev = want.dev === 'tunnel' ? tunnelIndex : want.dev;
  return dev !== undefined && have.dev === dev && have.gateway === want.gateway && have.onlink === want.onlink;
}

export function diffRouting(desired: DesiredState, current: KernelState): RoutingPhases {
  const links = planLinks(desired, current);
  // A device being (re-)created starts empty, and one being removed takes its entries with it.
  const tunnelGone = links.fresh || !desired.link;
  const onTunnel: Pick<KernelState, 'addresses' | 'neighbours' | 'fdb'> = tunnelGone ? { addresses: [], neighbours: [], fdb: [] } : current;
  const staleIndexes = new Set(links.phaseDelete.map((o) => (o.op === 'deleteLink' ? o.index : -1)));
  const routes = current.routes.filter((r) => r.dev === undefined || !staleIndexes.has(r.dev));

  const addAddr = desired.addresses.filter((a) => !onTunnel.addresses.includes(a)).map((address): RoutingOp => ({ op: 'addAddress', address }));
  const delAddr = onTunnel.addresses.filter((a) => !desired.addresses.includes(a)).map((address): RoutingOp => ({ op: 'deleteAddress', address }));

  const haveFdb = new Map(onTunnel.fdb.map((f) => [f.lladdr, f]));
  const wantFdb = new Map(desired.fdb.map((f) => [f.lladdr, f]));
  const fdbAdds = desired.fdb.filter((f) => haveFdb.get(f.lladdr)?.dst !== f.dst).map((fdb): RoutingOp => ({ op: 'replaceFdb', fdb }));
  const fdbDels = onTunnel.fdb.filter((f) => !wantFdb.has(f.lladdr)).map((fdb): RoutingOp => ({ op: 'deleteFdb', fdb }));

  const haveNeigh = new Map(onTunnel.neighbours.map((n) => [n.address, n]));
  const wantNeigh = new Map(desired.neighbours.map((n) => [n.address, n]));
  const neighAdds = desired.neighbours.filter((n) => haveNeigh.get(n.address)?.lladdr !== n.lladdr).map((neighbour): RoutingOp => ({ op: 'replaceNeighbour', neighbour }));
  const neighDels = onTunnel.neighbours.filter((n) => !wantNeigh.has(n.address)).map((neighbour): RoutingOp => ({ op: 'deleteNeighbour', neighbour }));

  const haveRoute = new Map(routes.map((r) => [r.dst, r]));
  const wantRoute = new Map(desired.routes.map((r) => [r.dst, r]));
  const routeAdds = desired.routes.filter((r) => {
    const have = haveRoute.get(r.dst);
    return !have || !routeMatches(r, have, links.fresh ? undefined : links.tunnelIndex);
  }).map((route): RoutingOp => ({ op: 'replaceRoute', route }));
  const routeDels = routes.filter((r) => !wantRoute.has(r.dst)).map((route): RoutingOp => ({ op: 'deleteRoute', route }));

  const phases: RoutingPhases = [
    routeDels,
    links.phaseDelete,
    links.phaseCreate,
    [...addAddr, ...delAddr],
    [...fdbAdds, ...neighAdds],
    routeAdds,
    [...neighDels, ...fdbDels],
  ];
  return phases.filter((p) => p.length > 0);
}

/** Number of operations in a diff (0 = the kernel already matches). */
export function opCount(phases: RoutingPhases): number {
  return phases.reduce((n, p) => n + p.length, 0);
}
